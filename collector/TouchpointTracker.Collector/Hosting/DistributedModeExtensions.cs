using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Messaging;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>The distributed mode: the Redis stream buffer, the Kafka forwarder, their metrics and readiness checks.</summary>
public static class DistributedModeExtensions
{
    public static IServiceCollection AddDistributedMode(this IServiceCollection services, IConfiguration configuration)
    {
        var missing = new List<string>(2);
        if (string.IsNullOrWhiteSpace(configuration["Redis:Configuration"]))
        {
            missing.Add("Redis:Configuration (environment variable Redis__Configuration)");
        }
        if (string.IsNullOrWhiteSpace(configuration["Kafka:BootstrapServers"]))
        {
            missing.Add("Kafka:BootstrapServers (environment variable Kafka__BootstrapServers)");
        }
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The distributed mode needs both Redis and Kafka, but {string.Join(" and ", missing)} is not set. " +
                "Set it, or unset Redis:Configuration and Kafka:BootstrapServers both to run the embedded mode.");
        }

        // Before any Kafka client exists: the librdkafka Confluent.Kafka binds to (the setting is validated with KafkaOptions).
        Librdkafka.Load(configuration[Librdkafka.PathSetting]);

        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ForwarderOptions>().BindConfiguration(ForwarderOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<RedisConnections>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisConnections>());
        services.AddSingleton<RedisShardMap>();
        services.AddSingleton<RedisStreamBuffer>();
        services.AddSingleton<IEventBuffer>(sp => sp.GetRequiredService<RedisStreamBuffer>());
        services.AddSingleton<RedisBufferState>();
        services.AddHostedService<RedisBufferMonitor>();

        services.AddSingleton<KafkaDeliveryState>();
        services.AddSingleton<ForwarderMetrics>();
        services.AddSingleton<KafkaProducerHost>();
        services.AddSingleton<Forwarder>();
        services.AddHostedService(sp => sp.GetRequiredService<Forwarder>());
        services.AddSingleton<IStartupNote, DistributedModeNote>();

        var kafkaTags = configuration.GetValue(ForwarderOptions.Section + ":" + nameof(ForwarderOptions.KafkaAffectsReadiness), true)
            ? new[] { ServiceDefaultsExtensions.ReadyTag, "kafka" }
            : ["kafka"];
        services.AddHealthChecks()
            .AddCheck<RedisReachableHealthCheck>("redis", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<RedisBufferHealthCheck>("buffer", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<KafkaDeliveryHealthCheck>("kafka", tags: kafkaTags);
        return services;
    }
}
