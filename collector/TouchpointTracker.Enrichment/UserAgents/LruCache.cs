namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// A bounded least-recently-used cache, safe for concurrent use. Values are computed outside the
/// lock (two threads may compute the same key once each; both results are equal for a pure factory).
/// Evicted nodes are reused, so a full cache allocates nothing on insert.
/// </summary>
public sealed class LruCache<TKey, TValue>
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>> _map;
    private readonly LinkedList<KeyValuePair<TKey, TValue>> _order = new();
    private readonly Lock _gate = new();
    private long _hits;
    private long _misses;

    /// <summary>Creates a cache holding at most <paramref name="capacity"/> entries (0 disables caching).</summary>
    public LruCache(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _map = new Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>>(Math.Min(capacity, 1024), comparer);
    }

    /// <summary>Maximum number of entries.</summary>
    public int Capacity { get; }

    /// <summary>Current number of entries.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Lookups that found their key.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that did not.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Gets the cached value and marks it most recently used.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                _hits++;
                return true;
            }

            _misses++;
        }

        value = default!;
        return false;
    }

    /// <summary>Adds or replaces an entry, evicting the least recently used one when full.</summary>
    public void Set(TKey key, TValue value)
    {
        if (Capacity == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                existing.Value = new(key, value);
                _order.Remove(existing);
                _order.AddFirst(existing);
                return;
            }

            LinkedListNode<KeyValuePair<TKey, TValue>> node;
            if (_map.Count >= Capacity)
            {
                node = _order.Last!;
                _order.RemoveLast();
                _map.Remove(node.Value.Key);
                node.Value = new(key, value);
            }
            else
            {
                node = new(new(key, value));
            }

            _order.AddFirst(node);
            _map[key] = node;
        }
    }

    /// <summary>Returns the cached value, or computes, caches and returns it.</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        if (TryGet(key, out var value))
        {
            return value;
        }

        value = factory(key);
        Set(key, value);
        return value;
    }
}
