using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// Reads each shard's length, pending entries and oldest unforwarded entry on an interval, for metrics
/// and readiness. Runs in every collector, whether or not it forwards.
/// </summary>
public sealed class RedisBufferMonitor(
    RedisConnections connections,
    RedisShardMap map,
    RedisBufferState state,
    IOptions<RedisOptions> redisOptions,
    IOptions<ForwarderOptions> forwarderOptions,
    TimeProvider clock,
    ILogger<RedisBufferMonitor> logger) : BackgroundService
{
    private readonly LogThrottle _throttle = new(TimeSpan.FromSeconds(30), clock);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(forwarderOptions.Value.MonitorIntervalMs), clock);
        try
        {
            do
            {
                try
                {
                    await RefreshAsync(connections.Forward.GetDatabase());
                    state.Succeeded();
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    state.Failed(ex.Message);
                    if (_throttle.ShouldLog(out _))
                    {
                        logger.LogWarning("Could not read the Redis buffer's state: {Error}", ex.Message);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RefreshAsync(IDatabase db)
    {
        var tasks = new Task[map.Count];
        for (var i = 0; i < map.Count; i++)
        {
            tasks[i] = RefreshShardAsync(db, i);
        }
        await Task.WhenAll(tasks);
    }

    private async Task RefreshShardAsync(IDatabase db, int shard)
    {
        var key = map.Stream(shard);
        var group = redisOptions.Value.ConsumerGroup;
        var length = await db.StreamLengthAsync(key);
        if (length == 0)
        {
            state.Update(shard, new RedisShardSnapshot(0, 0, null));
            return;
        }
        var groups = await db.StreamGroupInfoAsync(key);
        var info = groups.FirstOrDefault(g => g.Name == group);
        if (info.Name is null)
        {
            // No group yet (or Redis lost it): every entry is unforwarded.
            var head = await db.StreamRangeAsync(key, "-", "+", 1);
            state.Update(shard, new RedisShardSnapshot(length, 0, head.Length > 0 ? RedisStreamId.ParseOrNull(head[0].Id) : null));
            return;
        }
        var pending = await db.StreamPendingAsync(key, group);
        RedisStreamId? oldest = null;
        if (pending.PendingMessageCount > 0)
        {
            oldest = RedisStreamId.ParseOrNull(pending.LowestPendingMessageId);
        }
        else if (RedisStreamId.ParseOrNull(info.LastDeliveredId) is { } delivered)
        {
            var next = await db.StreamRangeAsync(key, delivered.Next.ToString(), "+", 1);
            oldest = next.Length > 0 ? RedisStreamId.ParseOrNull(next[0].Id) : null;
        }
        state.Update(shard, new RedisShardSnapshot(length, pending.PendingMessageCount, oldest));
    }
}
