using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Collector.Serving;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Registers and maps the collector's features; Program.cs only composes these.</summary>
public static class CollectorServiceExtensions
{
    /// <summary>The embedded mode is the default: it runs when neither Redis nor Kafka is configured.</summary>
    public static CollectorMode DetectMode(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration["Redis:Configuration"]) && string.IsNullOrWhiteSpace(configuration["Kafka:BootstrapServers"])
            ? CollectorMode.Embedded
            : CollectorMode.Distributed;

    public static WebApplicationBuilder AddCollector(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var mode = DetectMode(builder.Configuration);
        services.AddSingleton(new CollectorRuntime(mode));
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<CollectorOptions>().BindConfiguration(CollectorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BufferOptions>().BindConfiguration(BufferOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JourneyOptions>().BindConfiguration(JourneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddCollectorEdge(builder.Configuration);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CollectorJsonContext.Default);
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddProblemDetails();

        services.AddSingleton(sp => new BeaconReader(sp.GetRequiredService<IOptions<CollectorOptions>>().Value));
        services.AddSingleton<SiteRegistry>();
        services.AddOptions<EnrichmentOptions>().BindConfiguration(EnrichmentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GeoOptions>().BindConfiguration(GeoOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EnrichmentSetup>();
        services.AddSingleton<IStartupNote>(sp => sp.GetRequiredService<EnrichmentSetup>());
        services.AddSingleton(sp => new TouchpointFactory(sp.GetRequiredService<EnrichmentSetup>().Enricher, sp.GetRequiredService<IOptions<EnrichmentOptions>>()));
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<BeaconIngestor>();
        services.AddSingleton<CollectApi>();
        services.AddSingleton(_ => TagAssets.LoadEmbedded());
        services.AddHostedService<StartupBanner>();

        if (mode == CollectorMode.Embedded)
        {
            services.AddEmbeddedMode();
        }
        else
        {
            services.AddDistributedMode(builder.Configuration);
        }
        return builder;
    }

    private static void AddEmbeddedMode(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryEventBuffer>();
        services.AddSingleton<IEventBuffer>(sp => sp.GetRequiredService<InMemoryEventBuffer>());
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<JourneyOptions>>().Value.CreateRulesSource(
            sp.GetRequiredService<IConfiguration>().AsEnumerable(), w => sp.GetRequiredService<ILogger<StageRulesSource>>().LogWarning("{BrandTerms}", w)));
        services.AddSingleton(sp => new InMemoryJourneyStore(sp.GetRequiredService<IOptions<JourneyOptions>>().Value.MaxVisitors));
        services.AddSingleton(sp => new StagedEventLog(sp.GetRequiredService<IOptions<JourneyOptions>>().Value.InspectCapacity));
        services.AddSingleton<StagingMetrics>();
        services.AddHostedService<EmbeddedProcessor>();
        services.AddHealthChecks().AddCheck<InMemoryBufferHealthCheck>("buffer", tags: [ServiceDefaultsExtensions.ReadyTag]);
    }

    public static WebApplication MapCollector(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value;
        var mode = app.Services.GetRequiredService<CollectorRuntime>().Mode;
        app.UseCollectorEdge();
        app.UseStatusCodePages();
        app.MapDefaultEndpoints(options.LivenessPath, options.ReadinessPath, options.MetricsPath);
        app.MapTagApi(options.TagPath, app.Services.GetRequiredService<TagAssets>());
        app.Services.GetRequiredService<CollectApi>().Map(app, options.CollectPath, rateLimited: app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.RateLimitPerSecond > 0);
        if (mode == CollectorMode.Embedded)
        {
            app.MapInspectApi(options.InspectPath);
            app.UseDemoSite(options.DemoPath);
        }
        return app;
    }

    /// <summary>Serves the demo site (collector/wwwroot/demo) with the snippet pasted as a site owner would.</summary>
    private static void UseDemoSite(this WebApplication app, string path)
    {
        var root = Path.Combine(app.Environment.ContentRootPath, "wwwroot", "demo");
        if (!Directory.Exists(root))
        {
            root = Path.Combine(AppContext.BaseDirectory, "wwwroot", "demo");
        }
        if (!Directory.Exists(root))
        {
            return;
        }
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = path });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = path });
    }
}
