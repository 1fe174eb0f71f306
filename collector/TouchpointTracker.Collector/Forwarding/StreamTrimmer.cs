using TouchpointTracker.Messaging;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Trims one shard stream's acknowledged entries, at most every <c>Forwarder:TrimIntervalMs</c>: never past
/// the oldest pending entry, never past entries not yet read (<see cref="StreamTrimPolicy"/>).
/// </summary>
internal sealed class StreamTrimmer(ForwarderContext ctx, RedisKey stream)
{
    private readonly RedisValue _group = ctx.RedisOptions.ConsumerGroup;
    private long _next;

    public async Task MaybeTrimAsync(IDatabase db)
    {
        if (!ctx.Reached(_next))
        {
            return;
        }
        _next = ctx.TimestampIn(ctx.Options.TrimIntervalMs);
        // Group info first, pending second: anything read in between is newer than the last-delivered id
        // seen here, so it stays above the bound either way.
        var groups = await db.StreamGroupInfoAsync(stream);
        var info = groups.FirstOrDefault(g => g.Name == (string?)_group);
        if (info.Name is null)
        {
            return;
        }
        var pending = await db.StreamPendingAsync(stream, _group);
        var minId = StreamTrimPolicy.ChooseMinId(
            pending.PendingMessageCount > 0 ? RedisStreamId.ParseOrNull(pending.LowestPendingMessageId) : null,
            RedisStreamId.ParseOrNull(info.LastDeliveredId));
        if (minId is { } bound)
        {
            var trimmed = await db.StreamTrimByMinIdAsync(stream, bound.ToString(), useApproximateMaxLength: true);
            if (trimmed > 0)
            {
                ctx.Metrics.Trimmed.Inc(by: trimmed);
            }
        }
    }
}
