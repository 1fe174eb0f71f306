using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>The latest staged touchpoints, for the inspection API: a bounded ring, oldest dropped first.</summary>
public sealed class StagedEventLog(int capacity)
{
    private readonly Touchpoint[] _ring = new Touchpoint[capacity];
    private readonly Lock _lock = new();
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public void Add(Touchpoint tp)
    {
        lock (_lock)
        {
            _ring[_written % _ring.Length] = tp;
            _written++;
        }
    }

    /// <summary>Up to <paramref name="limit"/> latest entries, newest last, optionally of one site or visitor.</summary>
    public List<Touchpoint> Latest(int limit, string? site = null, string? visitor = null)
    {
        lock (_lock)
        {
            var available = (int)Math.Min(_written, _ring.Length);
            var result = new List<Touchpoint>(Math.Min(limit, available));
            for (var i = 0; i < available && result.Count < limit; i++)
            {
                var tp = _ring[(_written - 1 - i) % _ring.Length];
                if ((site is null || tp.SiteId == site) && (visitor is null || tp.VisitorId == visitor))
                {
                    result.Add(tp);
                }
            }
            result.Reverse();
            return result;
        }
    }
}
