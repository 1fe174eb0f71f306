namespace TouchpointTracker.Analytics;

/// <summary>
/// A map from 64-bit keys that are already uniformly spread (MD5-derived journey and visitor keys) to dense indexes
/// 0, 1, 2 ... in order of first insertion: open addressing over a power-of-two array, the key's low bits as the slot.
/// About three times cheaper than <see cref="Dictionary{TKey, TValue}"/> at a million keys.
/// </summary>
internal sealed class KeyIndex
{
    private ulong[] _keys = new ulong[1 << 12];
    private int[] _slots = new int[1 << 12]; // index + 1; 0 = empty
    private int _zero = -1; // the index of key 0, kept aside
    public int Count { get; private set; }

    /// <summary>The index of <paramref name="key"/>, added when new (<paramref name="added"/>).</summary>
    public int GetOrAdd(ulong key, out bool added)
    {
        added = false;
        if (key == 0)
        {
            if (_zero < 0)
            {
                _zero = Count++;
                added = true;
            }
            return _zero;
        }
        if ((Count + 1) * 2 > _keys.Length)
        {
            Grow();
        }
        var mask = _keys.Length - 1;
        var i = (int)(key & (ulong)mask);
        while (_slots[i] != 0)
        {
            if (_keys[i] == key)
            {
                return _slots[i] - 1;
            }
            i = (i + 1) & mask;
        }
        _keys[i] = key;
        _slots[i] = ++Count;
        added = true;
        return Count - 1;
    }

    /// <summary>Room for <paramref name="count"/> keys without growing (at most half the slots used).</summary>
    public void Reserve(int count)
    {
        var length = _keys.Length;
        while ((long)count * 2 > length && length < 1 << 30)
        {
            length *= 2;
        }
        if (length == _keys.Length)
        {
            return;
        }
        if (Count == 0)
        {
            _keys = new ulong[length];
            _slots = new int[length];
            return;
        }
        while (_keys.Length < length)
        {
            Grow();
        }
    }

    /// <summary>True when <paramref name="key"/> was added.</summary>
    public bool Contains(ulong key)
    {
        if (key == 0)
        {
            return _zero >= 0;
        }
        var mask = _keys.Length - 1;
        var i = (int)(key & (ulong)mask);
        while (_slots[i] != 0)
        {
            if (_keys[i] == key)
            {
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    private void Grow()
    {
        var keys = _keys;
        var slots = _slots;
        _keys = new ulong[keys.Length * 2];
        _slots = new int[keys.Length * 2];
        var mask = _keys.Length - 1;
        for (var j = 0; j < keys.Length; j++)
        {
            if (slots[j] == 0)
            {
                continue;
            }
            var i = (int)(keys[j] & (ulong)mask);
            while (_slots[i] != 0)
            {
                i = (i + 1) & mask;
            }
            _keys[i] = keys[j];
            _slots[i] = slots[j];
        }
    }
}
