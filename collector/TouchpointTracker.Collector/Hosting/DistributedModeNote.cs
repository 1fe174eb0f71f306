using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>The start-up banner's lines about the Redis buffer and the forwarder.</summary>
internal sealed class DistributedModeNote(IOptions<RedisOptions> redis, IOptions<KafkaOptions> kafka, IOptions<ForwarderOptions> forwarder) : IStartupNote
{
    public string Note
    {
        get
        {
            var r = redis.Value;
            var f = forwarder.Value;
            var buffer = $"buffer:     Redis streams {RedisShardMap.StreamKey(r.KeyPrefix, 0)} .. {RedisShardMap.StreamKey(r.KeyPrefix, r.Shards - 1)}, high-water {r.HighWaterMark} entries per shard";
            var forward = f.Enabled
                ? $"forwarder:  on, to Kafka topic {kafka.Value.TouchpointsTopic} (key site:visitor), consumer group {r.ConsumerGroup}"
                : "forwarder:  OFF on this collector (Forwarder:Enabled=false): another collector must forward";
            var library = $"librdkafka: {Librdkafka.Current?.ToString() ?? "not loaded yet"}";
            return buffer + Environment.NewLine + "  " + forward + Environment.NewLine + "  " + library;
        }
    }
}
