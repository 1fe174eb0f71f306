using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Contracts;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// The distributed mode's buffer: each touchpoint becomes one entry (field <c>tp</c>, the touchpoint
/// JSON) of its visitor's shard stream. A batch for one shard is appended by one script call: one round
/// trip, all or nothing, refused when the stream is at its high-water mark. Only a confirmed append
/// returns <see cref="AppendOutcome.Stored"/>, so a 2xx always means the events are in Redis.
/// </summary>
public sealed class RedisStreamBuffer : IEventBuffer
{
    /// <summary>KEYS[1] = shard stream; ARGV[1] = high-water mark; ARGV[2..] = touchpoint JSON. Returns the new length, or -1 when full.</summary>
    private const string AppendScript = """
        local n = redis.call('XLEN', KEYS[1])
        if n >= tonumber(ARGV[1]) then return -1 end
        for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', 'tp', ARGV[i]) end
        return n + #ARGV - 1
        """;

    private readonly RedisConnections _connections;
    private readonly RedisShardMap _shards;
    private readonly RedisValue _highWater;
    private readonly TimeSpan _timeout;
    private readonly ILogger<RedisStreamBuffer> _logger;
    private readonly LogThrottle _throttle;

    public RedisStreamBuffer(RedisConnections connections, RedisShardMap shards, IOptions<RedisOptions> options, TimeProvider clock, ILogger<RedisStreamBuffer> logger)
    {
        _connections = connections;
        _shards = shards;
        _highWater = options.Value.HighWaterMark;
        _timeout = TimeSpan.FromMilliseconds(options.Value.AppendTimeoutMs);
        _logger = logger;
        _throttle = new LogThrottle(TimeSpan.FromSeconds(10), clock);
    }

    public async ValueTask<AppendOutcome> AppendAsync(IReadOnlyList<Touchpoint> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return AppendOutcome.Stored;
        }
        try
        {
            var db = _connections.Ingest.GetDatabase();
            var first = _shards.ShardOf(batch[0].SiteId, batch[0].VisitorId);
            var single = true;
            for (var i = 1; i < batch.Count && single; i++)
            {
                single = _shards.ShardOf(batch[i].SiteId, batch[i].VisitorId) == first;
            }
            if (single)
            {
                // The usual case: a beacon carries one visitor's events.
                return Outcome(await AppendShardAsync(db, first, batch, 0, batch.Count).WaitAsync(_timeout, cancellationToken));
            }
            return await AppendSpreadAsync(db, batch, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            if (_throttle.ShouldLog(out var suppressed))
            {
                _logger.LogWarning("Redis buffer unavailable, answering 503: {Error} ({Suppressed} similar since the last report)", ex.Message, suppressed);
            }
            return AppendOutcome.Unavailable;
        }
    }

    /// <summary>
    /// A batch spanning shards (not sent by the tag, possible from other clients): one script call per
    /// shard, issued together so they share round trips. Atomic per shard only; a partly stored batch is
    /// answered 503 and its retry duplicates the stored part, which the pipeline tolerates (at-least-once).
    /// </summary>
    private async Task<AppendOutcome> AppendSpreadAsync(IDatabase db, IReadOnlyList<Touchpoint> batch, CancellationToken ct)
    {
        var groups = new Dictionary<int, List<Touchpoint>>();
        foreach (var tp in batch)
        {
            var shard = _shards.ShardOf(tp.SiteId, tp.VisitorId);
            if (!groups.TryGetValue(shard, out var list))
            {
                groups[shard] = list = [];
            }
            list.Add(tp);
        }
        var tasks = groups.Select(g => AppendShardAsync(db, g.Key, g.Value, 0, g.Value.Count)).ToArray();
        var results = await Task.WhenAll(tasks).WaitAsync(_timeout, ct);
        var outcome = AppendOutcome.Stored;
        foreach (var r in results)
        {
            var o = Outcome(r);
            if (o != AppendOutcome.Stored)
            {
                outcome = o;
            }
        }
        return outcome;
    }

    private Task<RedisResult> AppendShardAsync(IDatabase db, int shard, IReadOnlyList<Touchpoint> batch, int start, int count)
    {
        var args = new RedisValue[count + 1];
        args[0] = _highWater;
        for (var i = 0; i < count; i++)
        {
            args[i + 1] = JsonSerializer.SerializeToUtf8Bytes(batch[start + i], ContractsJsonContext.Default.Touchpoint);
        }
        return db.ScriptEvaluateAsync(AppendScript, _shards.StreamKeys(shard), args);
    }

    private static AppendOutcome Outcome(RedisResult result) => (long)result < 0 ? AppendOutcome.Full : AppendOutcome.Stored;
}
