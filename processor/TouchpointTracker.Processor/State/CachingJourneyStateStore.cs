using TouchpointTracker.Journeys;

namespace TouchpointTracker.Processor.State;

/// <summary>
/// The journey states this instance saved, kept in process in front of the store (Redis), so the next batch of a
/// visitor reads no state from Redis and decodes nothing. Write-through: every save still goes to the store first,
/// fenced by the partition's epoch, and the cache only takes what the store accepted.
/// <para>
/// Why a cached state is never stale: a partition's journey keys are written only by the instance holding its
/// current claim (a newer claim refuses older saves). So while this instance's claim stands, what it saved last is
/// what the store holds. The cache is kept per partition and per claim:
/// </para>
/// <list type="bullet">
/// <item>a claim (assignment, or recovery after any failed batch) drops the partition's cached states before asking
/// the store, and a load under another epoch than the cached one drops them too;</item>
/// <item>a revoked or lost partition is dropped (<see cref="Release"/>), so a later owner of it, this instance
/// included, starts from the store;</item>
/// <item>a refused save (another instance claimed the partition) or a save that failed drops the partition;</item>
/// <item>a state handed to a batch and not saved by it (the engine changes states in place; a batch that staged
/// nothing for a visitor does not save it) leaves the cache, so only states equal to the stored ones stay;</item>
/// <item>a state past its time to live in the store (the inactivity and late-event windows after its last touch)
/// is not served.</item>
/// </list>
/// Past <c>capacity</c> states the least recently used eighth goes. Used by the staging loop's thread only.
/// </summary>
public sealed class CachingJourneyStateStore : IJourneyStateStore
{
    private static readonly TimeSpan MinTtl = TimeSpan.FromHours(1);

    private readonly IJourneyStateStore _inner;
    private readonly int _capacity;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _clock;
    private readonly Dictionary<int, Segment> _partitions = [];
    private int _count;
    private long _tick;

    /// <param name="capacity">Most states kept, all partitions together.</param>
    /// <param name="retention">The store's time to live of a state after its last touch (as <see cref="RedisJourneyStateStore"/>).</param>
    public CachingJourneyStateStore(IJourneyStateStore inner, int capacity, TimeSpan retention, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _inner = inner;
        _capacity = capacity;
        _retention = retention;
        _clock = clock;
    }

    /// <summary>States held now, all partitions together.</summary>
    public int Count => _count;

    /// <summary>Loads served from the cache and from the store since start.</summary>
    public long Hits { get; private set; }
    public long Misses { get; private set; }

    /// <summary>Called for each load: hits and misses of one batch slice.</summary>
    public event Action<int, int>? Loaded;

    public Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct)
    {
        Release(partition);
        return _inner.ClaimAsync(partition, ct);
    }

    public void Release(int partition)
    {
        if (_partitions.Remove(partition, out var segment))
        {
            _count -= segment.States.Count;
        }
        _inner.Release(partition);
    }

    public async Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct)
    {
        var segment = SegmentOf(claim);
        var now = _clock.GetUtcNow().UtcTicks;
        var tick = ++_tick;
        List<string>? missing = null;
        foreach (var key in keys)
        {
            if (segment.States.TryGetValue(key, out var entry) && entry.ExpiresTicks > now)
            {
                entry.LastUsed = tick;
                into[key] = entry.State;
                segment.Lent.Add(key);
                continue;
            }
            (missing ??= new List<string>(keys.Count)).Add(key);
        }
        var hits = keys.Count - (missing?.Count ?? 0);
        Hits += hits;
        Misses += missing?.Count ?? 0;
        Loaded?.Invoke(hits, missing?.Count ?? 0);
        if (missing is not null)
        {
            await _inner.LoadAsync(claim, missing, into, ct);
        }
    }

    public async Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct)
    {
        bool saved;
        try
        {
            saved = await _inner.SaveAsync(claim, appliedOffset, states, ct);
        }
        catch
        {
            Release(claim.Partition); // saved or not: unknown, so the store decides
            throw;
        }
        if (!saved)
        {
            Release(claim.Partition);
            return false;
        }
        var segment = SegmentOf(claim);
        // States lent to the batch and not saved by it may have been changed in place: they leave.
        foreach (var key in segment.Lent)
        {
            if (!states.ContainsKey(key) && segment.States.Remove(key))
            {
                _count--;
            }
        }
        segment.Lent.Clear();
        var now = _clock.GetUtcNow();
        var tick = _tick;
        foreach (var (key, state) in states)
        {
            var ttl = state.LastSeen + _retention - now;
            var expires = (now + (ttl > MinTtl ? ttl : MinTtl)).UtcTicks;
            if (segment.States.TryGetValue(key, out var entry))
            {
                entry.State = state;
                entry.ExpiresTicks = expires;
                entry.LastUsed = tick;
            }
            else
            {
                segment.States[key] = new Entry { State = state, ExpiresTicks = expires, LastUsed = tick };
                _count++;
            }
        }
        if (_count > _capacity)
        {
            Evict();
        }
        return true;
    }

    private Segment SegmentOf(PartitionClaim claim)
    {
        if (_partitions.TryGetValue(claim.Partition, out var segment))
        {
            if (segment.Epoch == claim.Epoch)
            {
                return segment;
            }
            _count -= segment.States.Count; // cached under another claim: not ours to trust
        }
        segment = new Segment(claim.Epoch);
        _partitions[claim.Partition] = segment;
        return segment;
    }

    /// <summary>Drops the least recently used eighth of the states (at least down to the capacity).</summary>
    private void Evict()
    {
        var uses = new long[_count];
        var i = 0;
        foreach (var segment in _partitions.Values)
        {
            foreach (var entry in segment.States.Values)
            {
                uses[i++] = entry.LastUsed;
            }
        }
        Array.Sort(uses, 0, i);
        var drop = Math.Max(_count - _capacity, _capacity / 8);
        var threshold = uses[Math.Min(drop, i) - 1];
        foreach (var segment in _partitions.Values)
        {
            foreach (var (key, entry) in segment.States)
            {
                if (entry.LastUsed <= threshold && segment.States.Remove(key))
                {
                    _count--;
                }
            }
        }
    }

    private sealed class Segment(long epoch)
    {
        public long Epoch { get; } = epoch;
        public Dictionary<string, Entry> States { get; } = new(StringComparer.Ordinal);
        /// <summary>Keys handed out by the last load and not saved yet.</summary>
        public HashSet<string> Lent { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Entry
    {
        public required JourneyState State { get; set; }
        public long ExpiresTicks { get; set; }
        public long LastUsed { get; set; }
    }
}
