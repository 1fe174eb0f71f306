using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.ServiceDefaults;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Runs in every collector and moves buffered touchpoints from the Redis shard streams to Kafka.
/// Each shard is forwarded by one process at a time, the holder of the shard's lease (a Redis key with
/// a TTL, renewed every third of it): one reader per shard is what keeps a visitor's events in order
/// across instances. Live forwarders register in a sorted set and take a fair share of the shards; the
/// shards of an instance that dies are taken over when its leases expire, and the entries it left pending
/// are claimed (XAUTOCLAIM) once idle for <see cref="ForwarderOptions.ClaimIdleMs"/>.
/// </summary>
public sealed class Forwarder : BackgroundService
{
    /// <summary>KEYS[1] = lease; ARGV[1] = owner; ARGV[2] = TTL ms. Renews the owner's lease or takes a free one: 1, else 0.</summary>
    private const string LeaseScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly RedisConnections _connections;
    private readonly RedisShardMap _map;
    private readonly RedisOptions _redisOptions;
    private readonly KafkaOptions _kafkaOptions;
    private readonly ForwarderOptions _options;
    private readonly KafkaProducerHost _kafka;
    private readonly KafkaDeliveryState _delivery;
    private readonly ForwarderMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger<Forwarder> _logger;
    private readonly Dictionary<int, ShardWorker> _owned = [];
    private readonly HashSet<int> _releasing = [];
    private readonly LogThrottle _throttle;
    private ForwarderContext? _context;
    private bool _groupsReady;
    private long _lastRenewal;

    public Forwarder(
        RedisConnections connections,
        RedisShardMap map,
        IOptions<RedisOptions> redisOptions,
        IOptions<KafkaOptions> kafkaOptions,
        IOptions<ForwarderOptions> options,
        KafkaProducerHost kafka,
        KafkaDeliveryState delivery,
        ForwarderMetrics metrics,
        MetricsRegistry registry,
        TimeProvider clock,
        ILogger<Forwarder> logger)
    {
        _connections = connections;
        _map = map;
        _redisOptions = redisOptions.Value;
        _kafkaOptions = kafkaOptions.Value;
        _options = options.Value;
        _kafka = kafka;
        _delivery = delivery;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _throttle = new LogThrottle(TimeSpan.FromSeconds(10), clock);
        Consumer = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Random.Shared.Next(0x1000000):x6}");
        registry.Gauge("tt_forward_owned_shards", "Shards this collector forwards now.", () => OwnedCount);
    }

    /// <summary>This process's consumer name in the Redis consumer groups.</summary>
    public string Consumer { get; }

    public int OwnedCount
    {
        get
        {
            lock (_owned)
            {
                return _owned.Count;
            }
        }
    }

    public IReadOnlyList<int> OwnedShards
    {
        get
        {
            lock (_owned)
            {
                return [.. _owned.Keys.Order()];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            _logger.LogInformation("Forwarder disabled on this collector (Forwarder:Enabled=false): it buffers only");
            return;
        }
        await Task.Yield();
        _context = new ForwarderContext(_connections.Forward, _map, _redisOptions, _kafkaOptions, _options, _kafka, _delivery, _metrics, Consumer, _clock, _logger);
        var topicTask = EnsureTopicLoopAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, _options.LeaseMs / 3)), _clock);
        _lastRenewal = _clock.GetTimestamp();
        try
        {
            do
            {
                await CoordinateAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DrainAsync();
            _ = topicTask; // ends by itself; its admin request may still be timing out
        }
    }

    private async Task EnsureTopicLoopAsync(CancellationToken ct)
    {
        try
        {
            for (var attempt = 1; !await _kafka.EnsureTopicAsync(ct); attempt++)
            {
                if (attempt == 5)
                {
                    _logger.LogWarning("Gave up creating Kafka topic {Topic}: it must exist, or the broker must create it on first produce", _kafkaOptions.TouchpointsTopic);
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(10), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Kafka topic creation gave up");
        }
    }

    /// <summary>One coordination pass: heartbeat, renew leases, give back extra shards, take free ones.</summary>
    private async Task CoordinateAsync()
    {
        var db = _connections.Forward.GetDatabase();
        try
        {
            if (!_groupsReady)
            {
                for (var i = 0; i < _map.Count; i++)
                {
                    await EnsureGroupAsync(db, _map.Stream(i), _redisOptions.ConsumerGroup);
                }
                _groupsReady = true;
            }
            var nowMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            await db.SortedSetAddAsync(_map.Members, Consumer, nowMs);
            await db.SortedSetRemoveRangeByScoreAsync(_map.Members, double.NegativeInfinity, nowMs - (3L * _options.LeaseMs));
            var live = Math.Max(1, await db.SortedSetLengthAsync(_map.Members));
            var target = (int)Math.Ceiling(_map.Count / (double)live);

            foreach (var shard in _owned.Keys.ToArray())
            {
                var worker = _owned[shard];
                if (worker.Completion.IsCompleted)
                {
                    if (_releasing.Remove(shard))
                    {
                        await db.ScriptEvaluateAsync(ReleaseScript, [_map.Lease(shard)], [Consumer]);
                        Remove(shard);
                        _logger.LogInformation("Shard {Shard}: handed back for another collector to forward", shard);
                        continue;
                    }
                    Start(shard); // stopped unexpectedly: start again, the lease is still ours
                }
                if (!await TryLeaseAsync(db, shard))
                {
                    _logger.LogWarning("Shard {Shard}: lease taken by another collector; stopping here", shard);
                    _owned[shard].Abort();
                    _releasing.Remove(shard);
                    Remove(shard);
                }
            }
            _lastRenewal = _clock.GetTimestamp();

            var active = _owned.Count - _releasing.Count;
            foreach (var shard in _owned.Keys.Where(s => !_releasing.Contains(s)).OrderDescending().Take(Math.Max(0, active - target)).ToArray())
            {
                _owned[shard].RequestStop();
                _releasing.Add(shard);
                active--;
            }
            if (active < target)
            {
                foreach (var shard in Enumerable.Range(0, _map.Count).Where(s => !_owned.ContainsKey(s)).OrderBy(_ => Random.Shared.Next()).ToArray())
                {
                    if (active >= target)
                    {
                        break;
                    }
                    if (await TryLeaseAsync(db, shard))
                    {
                        Start(shard);
                        active++;
                        _logger.LogInformation("Shard {Shard}: lease taken; forwarding it ({Active} of {Target} shards for this collector)", shard, active, target);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (_throttle.ShouldLog(out _))
            {
                _logger.LogWarning("Forwarder cannot reach Redis to renew its shard leases: {Error}", ex.Message);
            }
            if (_clock.GetElapsedTime(_lastRenewal) > TimeSpan.FromMilliseconds(_options.LeaseMs) && _owned.Count > 0)
            {
                // Our leases may have expired and been taken: stop, so two collectors never forward one shard
                // for long. What we held stays pending; we (or the new holder) read it again.
                _logger.LogWarning("Shard leases not renewed for {LeaseMs} ms: stopping the {Count} shard workers", _options.LeaseMs, _owned.Count);
                foreach (var shard in _owned.Keys.ToArray())
                {
                    _owned[shard].Abort();
                    Remove(shard);
                }
                _releasing.Clear();
            }
        }
    }

    private async Task<bool> TryLeaseAsync(IDatabase db, int shard) =>
        (long)await db.ScriptEvaluateAsync(LeaseScript, [_map.Lease(shard)], [Consumer, _options.LeaseMs]) == 1;

    private void Start(int shard)
    {
        var worker = new ShardWorker(_context!, shard);
        lock (_owned)
        {
            _owned[shard] = worker;
        }
        worker.Start();
    }

    private void Remove(int shard)
    {
        ShardWorker? worker;
        lock (_owned)
        {
            _owned.Remove(shard, out worker);
        }
        worker?.Completion.ContinueWith(_ => worker.Dispose(), TaskScheduler.Default);
    }

    /// <summary>Shutdown: no new batches; in-flight batches get the drain period, then the producer is flushed and the leases given back.</summary>
    private async Task DrainAsync()
    {
        var drain = TimeSpan.FromMilliseconds(_options.DrainMs);
        var started = _clock.GetTimestamp();
        var workers = _owned.Values.ToArray();
        foreach (var w in workers)
        {
            w.AbortAfter(drain);
        }
        await Task.WhenAll(workers.Select(w => w.Completion)).WaitAsync(drain + TimeSpan.FromSeconds(1)).ContinueWith(_ => { }, TaskScheduler.Default);
        var left = drain - _clock.GetElapsedTime(started);
        var unflushed = _kafka.Flush(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        try
        {
            var db = _connections.Forward.GetDatabase();
            foreach (var shard in _owned.Keys)
            {
                await db.ScriptEvaluateAsync(ReleaseScript, [_map.Lease(shard)], [Consumer]);
            }
            await db.SortedSetRemoveAsync(_map.Members, Consumer);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _logger.LogWarning("Could not give back the shard leases at shutdown ({Error}); they expire by themselves", ex.Message);
        }
        _logger.LogInformation("Forwarder stopped: {Shards} shards handed back, {Unflushed} messages not flushed (still pending in Redis)", _owned.Count, unflushed);
        lock (_owned)
        {
            _owned.Clear();
        }
    }

    /// <summary>Creates the consumer group at the start of the stream (and the stream), unless it exists.</summary>
    public static async Task EnsureGroupAsync(IDatabase db, RedisKey stream, RedisValue group)
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(stream, group, "0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }
}
