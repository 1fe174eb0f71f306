using TouchpointTracker.Messaging;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>What every shard worker of a process shares.</summary>
internal sealed record ForwarderContext(
    IConnectionMultiplexer Redis,
    RedisShardMap Map,
    RedisOptions RedisOptions,
    KafkaOptions KafkaOptions,
    ForwarderOptions Options,
    KafkaProducerHost Kafka,
    KafkaDeliveryState Delivery,
    ForwarderMetrics Metrics,
    string Consumer,
    TimeProvider Clock,
    ILogger Logger)
{
    /// <summary>The clock's timestamp <paramref name="milliseconds"/> from now; see <see cref="Reached"/>.</summary>
    public long TimestampIn(long milliseconds) => Clock.GetTimestamp() + (milliseconds * Clock.TimestampFrequency / 1000);

    /// <summary>Whether the clock has reached <paramref name="timestamp"/> (0 is always reached).</summary>
    public bool Reached(long timestamp) => Clock.GetTimestamp() >= timestamp;
}
