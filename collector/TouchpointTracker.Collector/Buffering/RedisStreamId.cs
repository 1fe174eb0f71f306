using System.Globalization;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>A Redis stream entry id, <c>milliseconds-sequence</c>, ordered as Redis orders them.</summary>
public readonly record struct RedisStreamId(ulong Milliseconds, ulong Sequence) : IComparable<RedisStreamId>
{
    public static readonly RedisStreamId Zero = new(0, 0);

    /// <summary>The smallest id greater than this one.</summary>
    public RedisStreamId Next => Sequence == ulong.MaxValue ? new(Milliseconds + 1, 0) : new(Milliseconds, Sequence + 1);

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(Milliseconds, 253_402_300_799_999UL));

    public static bool TryParse(ReadOnlySpan<char> text, out RedisStreamId id)
    {
        id = Zero;
        var dash = text.IndexOf('-');
        var msPart = dash < 0 ? text : text[..dash];
        if (!ulong.TryParse(msPart, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return false;
        }
        ulong seq = 0;
        if (dash >= 0 && !ulong.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out seq))
        {
            return false;
        }
        id = new RedisStreamId(ms, seq);
        return true;
    }

    public static RedisStreamId? ParseOrNull(string? text) => text is not null && TryParse(text, out var id) ? id : null;

    public int CompareTo(RedisStreamId other)
    {
        var c = Milliseconds.CompareTo(other.Milliseconds);
        return c != 0 ? c : Sequence.CompareTo(other.Sequence);
    }

    public static bool operator <(RedisStreamId a, RedisStreamId b) => a.CompareTo(b) < 0;
    public static bool operator >(RedisStreamId a, RedisStreamId b) => a.CompareTo(b) > 0;
    public static bool operator <=(RedisStreamId a, RedisStreamId b) => a.CompareTo(b) <= 0;
    public static bool operator >=(RedisStreamId a, RedisStreamId b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Milliseconds}-{Sequence}");
}
