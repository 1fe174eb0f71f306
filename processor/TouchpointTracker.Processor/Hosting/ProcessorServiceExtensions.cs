using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.Messaging;
using TouchpointTracker.Processor.Configuration;
using TouchpointTracker.Processor.Staging;
using TouchpointTracker.Processor.State;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Hosting;

/// <summary>Registers and maps the processor's features; Program.cs only composes these.</summary>
public static class ProcessorServiceExtensions
{
    public static WebApplicationBuilder AddProcessor(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ProcessorOptions>().BindConfiguration(ProcessorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JourneyOptions>().BindConfiguration(JourneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);

        // Before any Kafka client exists: the librdkafka Confluent.Kafka binds to (the setting is validated with KafkaOptions).
        Librdkafka.Load(builder.Configuration[Librdkafka.PathSetting]);

        services.AddSingleton<IConnectionMultiplexer>(sp => RedisConnection.Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value, KafkaClients.ServiceName));
        services.AddSingleton<IJourneyStateStore>(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var journeys = sp.GetRequiredService<IOptions<JourneyOptions>>().Value.ToSettings();
            // State outlives the journey by the late window, so a late touch still finds its journey.
            var retention = journeys.InactivityWindow + journeys.LateEventWindow;
            return new RedisJourneyStateStore(sp.GetRequiredService<IConnectionMultiplexer>(), redis.JourneyKeyPrefix, kafka.GroupId, kafka.TouchpointsTopic, retention, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<JourneyOptions>>().Value.CreateRulesSource(
            sp.GetRequiredService<IConfiguration>().AsEnumerable(), w => sp.GetRequiredService<ILogger<StageRulesSource>>().LogWarning("{BrandTerms}", w)));
        services.AddSingleton<StagingMetrics>();
        services.AddSingleton<ProcessorMetrics>();
        services.AddSingleton<ProcessorStatus>();
        services.AddHostedService<StagingLoop>();
        services.AddHealthChecks()
            .AddCheck<ProcessorHealthCheck>("staging", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<RedisHealthCheck>("redis", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }

    public static WebApplication MapProcessor(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<ProcessorOptions>>().Value;
        app.MapDefaultEndpoints(o.LivenessPath, o.ReadinessPath, o.MetricsPath);
        return app;
    }
}
