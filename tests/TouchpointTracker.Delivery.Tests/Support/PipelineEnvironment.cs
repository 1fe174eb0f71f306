using StackExchange.Redis;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Delivery.Tests.Support;

/// <summary>
/// One test's world: a real redis-server, librdkafka's mock Kafka cluster, a topic name of its own, and
/// the collector settings that point at them (short leases and claim times so takeovers happen in seconds).
/// </summary>
public sealed class PipelineEnvironment : IAsyncDisposable
{
    public const string Site = "s1";

    private ConnectionMultiplexer? _redisClient;

    private PipelineEnvironment(RedisServer redis, MockKafkaCluster kafka, string topic)
    {
        Redis = redis;
        Kafka = kafka;
        Topic = topic;
    }

    public RedisServer Redis { get; }
    public MockKafkaCluster Kafka { get; }
    public string Topic { get; }
    public int Partitions => 6;
    public int Shards => 4;

    public static async Task<PipelineEnvironment> StartAsync(bool durableRedis = false, int brokers = 3)
    {
        var redis = durableRedis ? await RedisServer.StartDurableAsync() : await RedisServer.StartAsync();
        var kafka = MockKafkaCluster.Start(brokers);
        var env = new PipelineEnvironment(redis, kafka, "tt.touchpoints." + Guid.NewGuid().ToString("N")[..8]);
        // The mock cluster has no controller, so Admin CreateTopics cannot work against it: create the
        // topic through the mock's own API, as an operator would before deploying.
        kafka.CreateTopic(env.Topic, env.Partitions, Math.Min(3, brokers));
        return env;
    }

    /// <summary>Collector settings as configuration keys; <paramref name="overrides"/> win.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = Redis.Configuration,
            ["Redis:Shards"] = Shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Redis:AppendTimeoutMs"] = "1000",
            ["Kafka:BootstrapServers"] = Kafka.BootstrapServers,
            ["Kafka:TouchpointsTopic"] = Topic,
            ["Kafka:TouchpointsPartitions"] = Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka:ReplicationFactor"] = "1",
            ["Kafka:CreateTopics"] = "false",
            ["Kafka:Properties:log_level"] = "3",
            ["Forwarder:LeaseMs"] = "2000",
            ["Forwarder:ClaimIdleMs"] = "2000",
            ["Forwarder:DeliveryStallMs"] = "1000",
            ["Forwarder:RetryBackoffMaxMs"] = "1000",
            ["Forwarder:MonitorIntervalMs"] = "250",
            ["Forwarder:DrainMs"] = "3000",
            ["Buffer:RetryAfterSeconds"] = "1",
            [$"Collector:Sites:{Site}:Domains:0"] = "*",
            // All test clients share 127.0.0.1 (CollectorHost sets these too; CollectorProcess needs them).
            ["Edge:RateLimitPerSecond"] = "0",
            ["Shutdown:ReadinessGraceSeconds"] = "0",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>The same settings as environment variables (<c>Redis__Configuration</c>, ...).</summary>
    public Dictionary<string, string?> EnvironmentVariables(IDictionary<string, string?>? overrides = null) =>
        Settings(overrides).ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

    public Task<CollectorHost> StartCollectorAsync(IDictionary<string, string?>? overrides = null) => CollectorHost.StartAsync(Settings(overrides));

    /// <summary>A client of the test's own, for looking into the streams.</summary>
    public IDatabase RedisDb()
    {
        _redisClient ??= ConnectionMultiplexer.Connect(Redis.Configuration + ",allowAdmin=true");
        return _redisClient.GetDatabase();
    }

    public static string StreamKey(int shard) => $"tt:{{s{shard}}}:events";
    public static string DeadLetterKey(int shard) => $"tt:{{s{shard}}}:dead";

    public TopicReader ReadTopic() => new(Kafka.BootstrapServers, Topic);

    public async ValueTask DisposeAsync()
    {
        _redisClient?.Dispose();
        await Redis.DisposeAsync();
        Kafka.Dispose();
    }
}
