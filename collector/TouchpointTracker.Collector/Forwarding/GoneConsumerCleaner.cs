using TouchpointTracker.Messaging;
using StackExchange.Redis;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Deletes from one shard's consumer group the consumers of crashed or stopped collectors once they hold
/// nothing and have long been silent (each collector process joins under a new name), at most once a minute.
/// </summary>
internal sealed class GoneConsumerCleaner(ForwarderContext ctx, RedisKey stream)
{
    private readonly RedisValue _group = ctx.RedisOptions.ConsumerGroup;
    private readonly RedisValue _consumer = ctx.Consumer;
    private long _next;

    /// <summary>Removes gone consumers unless it did so less than a minute ago.</summary>
    public async Task MaybeRemoveAsync(IDatabase db)
    {
        if (!ctx.Reached(_next))
        {
            return;
        }
        _next = ctx.TimestampIn(60_000);
        var silentFor = Math.Max(10L * ctx.Options.ClaimIdleMs, 600_000L);
        foreach (var c in await db.StreamConsumerInfoAsync(stream, _group))
        {
            if (c.Name != _consumer && c.PendingMessageCount == 0 && c.IdleTimeInMilliseconds > silentFor)
            {
                await db.StreamDeleteConsumerAsync(stream, _group, c.Name);
            }
        }
    }
}
