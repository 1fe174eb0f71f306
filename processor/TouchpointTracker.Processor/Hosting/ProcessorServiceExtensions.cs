using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Analytics;
using TouchpointTracker.Analytics.Dashboard;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Processor.Analytics;
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
        services.AddSingleton(TimeProvider.System);

        // Before any Kafka client exists: the librdkafka Confluent.Kafka binds to (the setting is validated with KafkaOptions).
        Librdkafka.Load(builder.Configuration[Librdkafka.PathSetting]);

        if (string.Equals(builder.Configuration[$"{ProcessorOptions.Section}:Role"], ProcessorOptions.AnalyticsRole, StringComparison.Ordinal))
        {
            services.AddAnalyticsSink(builder.Configuration);
            return builder;
        }
        if (string.Equals(builder.Configuration[$"{ProcessorOptions.Section}:Role"], ProcessorOptions.WebhooksRole, StringComparison.Ordinal))
        {
            services.AddOptions<Webhooks.WebhookOptions>().BindConfiguration(Webhooks.WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            services.AddHostedService<Webhooks.WebhookDelivery>();
            return builder;
        }
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JourneyOptions>().BindConfiguration(JourneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<IConnectionMultiplexer>(sp => RedisConnection.Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value, KafkaClients.ServiceName));
        services.AddSingleton<IJourneyStateStore>(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var journeys = sp.GetRequiredService<IOptions<JourneyOptions>>().Value.ToSettings();
            // State outlives the journey by the late window, so a late touch still finds its journey.
            var retention = journeys.InactivityWindow + journeys.LateEventWindow;
            var store = new RedisJourneyStateStore(sp.GetRequiredService<IConnectionMultiplexer>(), redis.JourneyKeyPrefix, kafka.GroupId, kafka.TouchpointsTopic, retention, sp.GetRequiredService<TimeProvider>());
            var cacheSize = sp.GetRequiredService<IOptions<ProcessorOptions>>().Value.StateCacheSize;
            if (cacheSize == 0)
            {
                return store;
            }
            var cache = new CachingJourneyStateStore(store, cacheSize, retention, sp.GetRequiredService<TimeProvider>());
            var metrics = sp.GetRequiredService<ProcessorMetrics>();
            cache.Loaded += (hits, misses) =>
            {
                metrics.StateCache.Inc(ProcessorMetrics.CacheHit, hits);
                metrics.StateCache.Inc(ProcessorMetrics.CacheMiss, misses);
            };
            return cache;
        });
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new IdentityResolver(sp.GetRequiredService<IOptions<IdentityOptions>>().Value.ToSettings()));
        services.AddSingleton(sp =>
        {
            var journeys = sp.GetRequiredService<IOptions<JourneyOptions>>().Value.ToSettings();
            return new RedisIdentityStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<RedisOptions>>().Value.IdentityKeyPrefix,
                journeys.InactivityWindow + journeys.LateEventWindow, sp.GetRequiredService<IOptions<IdentityOptions>>().Value, sp.GetRequiredService<TimeProvider>());
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

    /// <summary>The analytics role: the sink into the analytics store, which this instance alone writes, and the analyst's API.</summary>
    private static void AddAnalyticsSink(this IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<AnalyticsSinkOptions>().BindConfiguration(AnalyticsSinkOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddTouchpointAnalytics(configuration);
        services.AddSingleton<AnalyticsSinkStatus>();
        services.AddHostedService<AnalyticsSink>();
        services.AddHostedService<AnalyticsUpkeep>(); // the store's upkeep: sessions merged hourly, retention daily
        services.AddHealthChecks().AddCheck<AnalyticsSinkHealthCheck>("analytics-sink", tags: [ServiceDefaultsExtensions.ReadyTag]);
        if (!string.IsNullOrWhiteSpace(configuration["Redis:Configuration"]))
        {
            // With Redis, the analyst's API lists the unmatched offline events the staging instances keep there.
            services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            services.AddOptions<JourneyOptions>().BindConfiguration(JourneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
            services.AddSingleton<IConnectionMultiplexer>(sp => RedisConnection.Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value, KafkaClients.ServiceName));
            services.AddSingleton<IUnmatchedEvents>(sp =>
            {
                var journeys = sp.GetRequiredService<IOptions<JourneyOptions>>().Value.ToSettings();
                return new RedisIdentityStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<RedisOptions>>().Value.IdentityKeyPrefix,
                    journeys.InactivityWindow + journeys.LateEventWindow, sp.GetRequiredService<IOptions<IdentityOptions>>().Value, sp.GetRequiredService<TimeProvider>());
            });
        }
    }

    public static WebApplication MapProcessor(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<ProcessorOptions>>().Value;
        app.MapDefaultEndpoints(o.LivenessPath, o.ReadinessPath, o.MetricsPath);
        if (o.IsAnalytics)
        {
            app.MapAnalyticsApi();
            app.MapAnalyticsApiDocs();
            app.MapAnalyticsDashboard();
        }
        return app;
    }
}
