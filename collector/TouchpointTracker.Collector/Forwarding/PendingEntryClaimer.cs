using TouchpointTracker.Messaging;
using StackExchange.Redis;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Takes over (XAUTOCLAIM) the entries of one shard that another consumer read and left unacknowledged for
/// longer than <c>Forwarder:ClaimIdleMs</c>: the batch in hand of a collector that crashed or lost the lease.
/// The scan resumes where the previous call stopped.
/// </summary>
internal sealed class PendingEntryClaimer(ForwarderContext ctx, RedisKey stream)
{
    private readonly RedisValue _group = ctx.RedisOptions.ConsumerGroup;
    private readonly RedisValue _consumer = ctx.Consumer;
    private RedisValue _cursor = "0-0";

    /// <summary>
    /// XAUTOCLAIM entries idle longer than the claim time. Returns what was claimed, and whether other
    /// consumers still hold pending entries that are not idle long enough yet.
    /// </summary>
    public async Task<(StreamEntry[] Claimed, bool OthersHold)> ClaimAsync(IDatabase db)
    {
        while (true)
        {
            var result = await db.StreamAutoClaimAsync(stream, _group, _consumer, ctx.Options.ClaimIdleMs, _cursor, ctx.Options.BatchSize);
            _cursor = result.IsNull ? "0-0" : result.NextStartId;
            if (!result.IsNull && result.ClaimedEntries.Length > 0)
            {
                return (result.ClaimedEntries, true);
            }
            if (result.IsNull || _cursor == "0-0")
            {
                break; // scanned the whole pending list
            }
        }
        var pending = await db.StreamPendingAsync(stream, _group);
        var othersHold = pending.Consumers?.Any(c => c.Name != _consumer && c.PendingMessageCount > 0) ?? false;
        return ([], othersHold);
    }
}
