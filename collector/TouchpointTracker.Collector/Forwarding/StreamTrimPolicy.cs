using TouchpointTracker.Collector.Buffering;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>Where acknowledged entries may be trimmed from a shard stream. Pure.</summary>
public static class StreamTrimPolicy
{
    /// <summary>
    /// The MINID for <c>XTRIM</c> (entries with a smaller id are removed), or null when nothing may go.
    /// The bound never passes the oldest pending entry (read, not yet confirmed by Kafka) nor any entry
    /// the group has not read yet (after <paramref name="lastDelivered"/>).
    /// </summary>
    /// <param name="lowestPending">The group's oldest pending entry, null when none is pending.</param>
    /// <param name="lastDelivered">The group's last-delivered-id; null or 0-0 when the group read nothing.</param>
    public static RedisStreamId? ChooseMinId(RedisStreamId? lowestPending, RedisStreamId? lastDelivered)
    {
        if (lastDelivered is not { } delivered || delivered == RedisStreamId.Zero)
        {
            return null;
        }
        var bound = delivered.Next;
        if (lowestPending is { } pending && pending < bound)
        {
            bound = pending;
        }
        return bound;
    }
}
