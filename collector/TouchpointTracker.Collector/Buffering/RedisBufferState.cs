using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>What one shard looked like at the last monitor pass.</summary>
public readonly record struct RedisShardSnapshot(long Length, long Pending, RedisStreamId? OldestUnforwarded);

/// <summary>
/// The buffer as last seen by <see cref="RedisBufferMonitor"/>: per-shard length, pending entries and
/// oldest unforwarded entry. Metrics and health checks read this instead of calling Redis themselves.
/// </summary>
public sealed class RedisBufferState
{
    private readonly RedisShardSnapshot[] _shards;
    private readonly TimeProvider _clock;
    private volatile string? _error = "not read yet";
    private long _refreshedAtMs;

    public RedisBufferState(RedisShardMap map, TimeProvider clock, MetricsRegistry metrics)
    {
        _shards = new RedisShardSnapshot[map.Count];
        _clock = clock;
        var labels = Enumerable.Range(0, map.Count).Select(i => MetricsRegistry.Labels(("shard", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToArray();
        metrics.Gauge("tt_buffer_stream_length", "Entries in each shard stream (unforwarded, pending, and acknowledged ones awaiting trim).",
            () => labels.Select((l, i) => (l, (double)Read(i).Length)));
        metrics.Gauge("tt_buffer_pending_entries", "Entries read by a forwarder and not yet acknowledged, per shard.",
            () => labels.Select((l, i) => (l, (double)Read(i).Pending)));
        metrics.Gauge("tt_buffer_oldest_unforwarded_age_seconds", "Age of the oldest entry not yet confirmed by Kafka, per shard (0 when none).",
            () => labels.Select((l, i) => (l, OldestAge(i).TotalSeconds)));
        metrics.Gauge("tt_buffer_depth", "Entries in all shard streams.", () => TotalLength);
    }

    public int ShardCount => _shards.Length;

    /// <summary>Null when the last pass succeeded; otherwise why it failed.</summary>
    public string? Error => _error;

    public DateTimeOffset RefreshedAt => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _refreshedAtMs));

    public long TotalLength => Enumerable.Range(0, _shards.Length).Sum(i => Read(i).Length);

    public long LongestShard => Enumerable.Range(0, _shards.Length).Max(i => Read(i).Length);

    public RedisShardSnapshot Read(int shard)
    {
        lock (_shards)
        {
            return _shards[shard];
        }
    }

    public TimeSpan OldestAge(int shard) =>
        Read(shard).OldestUnforwarded is { } id ? Max(_clock.GetUtcNow() - id.Timestamp, TimeSpan.Zero) : TimeSpan.Zero;

    public TimeSpan OldestAge() => Enumerable.Range(0, _shards.Length).Select(OldestAge).Max();

    internal void Update(int shard, RedisShardSnapshot snapshot)
    {
        lock (_shards)
        {
            _shards[shard] = snapshot;
        }
    }

    internal void Succeeded()
    {
        _error = null;
        Interlocked.Exchange(ref _refreshedAtMs, _clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    internal void Failed(string error) => _error = error;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
