namespace TouchpointTracker.Analytics;

/// <summary>
/// Reuse of the large arrays the aggregate views fill and sort (tens of MB each on a 10-million-touchpoint store): a
/// fresh array of that size costs the runtime's zeroing, the kernel's page faults and a full garbage collection now and
/// then, more than reading the rows into it. At most <see cref="MaxKept"/> arrays of an element type are kept (enough
/// for two views at once), and none once the process has been idle for <see cref="IdleRelease"/> or the machine's
/// memory is under pressure. A rented array is not cleared; its length may exceed the request.
/// </summary>
internal static class ScratchArrays<T> where T : unmanaged
{
    private const int MaxKept = 6;
    private static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(60);
    private static readonly List<T[]> Kept = [];
    private static readonly Timer Release = new(_ => Clear());

    /// <summary>An array of at least <paramref name="minLength"/> elements, with unspecified contents.</summary>
    public static T[] Rent(int minLength)
    {
        lock (Kept)
        {
            var best = -1;
            for (var i = 0; i < Kept.Count; i++)
            {
                if (Kept[i].Length >= minLength && (best < 0 || Kept[i].Length < Kept[best].Length))
                {
                    best = i;
                }
            }
            if (best >= 0)
            {
                var a = Kept[best];
                Kept.RemoveAt(best);
                return a;
            }
        }
        // an eighth more than asked, so a store that grows a little still fits next time
        var length = (int)Math.Min(Array.MaxLength, Math.Max(1024L, minLength + (long)minLength / 8));
        return GC.AllocateUninitializedArray<T>(length);
    }

    /// <summary>Hands an array back for reuse (the caller must not touch it afterwards).</summary>
    public static void Return(T[]? array)
    {
        if (array is null || array.Length < 1024)
        {
            return;
        }
        var info = GC.GetGCMemoryInfo();
        if (info.HighMemoryLoadThresholdBytes > 0 && info.MemoryLoadBytes >= info.HighMemoryLoadThresholdBytes)
        {
            Clear();
            return;
        }
        lock (Kept)
        {
            if (Kept.Count == MaxKept)
            {
                // keep the larger ones: they serve every smaller request
                var smallest = 0;
                for (var i = 1; i < Kept.Count; i++)
                {
                    if (Kept[i].Length < Kept[smallest].Length)
                    {
                        smallest = i;
                    }
                }
                if (Kept[smallest].Length >= array.Length)
                {
                    return;
                }
                Kept.RemoveAt(smallest);
            }
            Kept.Add(array);
            Release.Change(IdleRelease, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How many arrays are kept (for tests).</summary>
    internal static int KeptCount
    {
        get
        {
            lock (Kept)
            {
                return Kept.Count;
            }
        }
    }

    /// <summary>Drops every kept array.</summary>
    internal static void Clear()
    {
        lock (Kept)
        {
            Kept.Clear();
        }
    }
}
