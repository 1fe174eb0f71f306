using TouchpointTracker.Journeys.Conversions;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's latest conversion records (the distributed processor publishes them on tt.conversions):
/// a bounded ring, oldest dropped first, for <c>Collector:ConversionRecordsPath</c>.
/// </summary>
public sealed class ConversionRecordLog(int capacity)
{
    private readonly ConversionRecord[] _ring = new ConversionRecord[capacity];
    private readonly Lock _lock = new();
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public void Add(ConversionRecord record)
    {
        lock (_lock)
        {
            _ring[_written % _ring.Length] = record;
            _written++;
        }
    }

    /// <summary>Up to <paramref name="limit"/> latest records, newest last, optionally of one site or visitor.</summary>
    public List<ConversionRecord> Latest(int limit, string? site = null, string? visitor = null)
    {
        lock (_lock)
        {
            var available = (int)Math.Min(_written, _ring.Length);
            var result = new List<ConversionRecord>(Math.Min(limit, available));
            for (var i = 0; i < available && result.Count < limit; i++)
            {
                var r = _ring[(_written - 1 - i) % _ring.Length];
                if ((site is null || r.SiteId == site) && (visitor is null || r.VisitorId == visitor))
                {
                    result.Add(r);
                }
            }
            result.Reverse();
            return result;
        }
    }
}
