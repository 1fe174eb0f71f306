using Confluent.Kafka;

namespace TouchpointTracker.Messaging;

/// <summary>What every Kafka client of every service shares: brokers, client id, the extra properties.</summary>
public static class KafkaClientConfig
{
    /// <summary>
    /// Sets the brokers and the client id (<c>Kafka:ClientId</c>, else <paramref name="serviceName"/>, then
    /// <paramref name="role"/> when given), then applies <c>Kafka:Properties</c> last.
    /// </summary>
    public static T Configure<T>(T config, KafkaOptions options, string serviceName, string? role = null) where T : ClientConfig
    {
        config.BootstrapServers = options.BootstrapServers;
        var id = string.IsNullOrEmpty(options.ClientId) ? serviceName : options.ClientId;
        config.ClientId = role is null ? id : $"{id}-{role}";
        foreach (var (key, value) in options.Properties)
        {
            config.Set(key, value);
        }
        return config;
    }

    /// <summary>The <c>Kafka:Compression</c> setting as librdkafka's type.</summary>
    public static CompressionType CompressionOf(KafkaOptions options) => options.Compression switch
    {
        "zstd" => CompressionType.Zstd,
        "snappy" => CompressionType.Snappy,
        "gzip" => CompressionType.Gzip,
        "none" => CompressionType.None,
        _ => CompressionType.Lz4,
    };
}
