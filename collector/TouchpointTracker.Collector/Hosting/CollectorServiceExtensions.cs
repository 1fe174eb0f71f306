using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using TouchpointTracker.Analytics;
using TouchpointTracker.Analytics.Dashboard;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Collector.Offline;
using TouchpointTracker.Collector.Serving;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Registers and maps the collector's features; Program.cs only composes these.</summary>
public static class CollectorServiceExtensions
{
    /// <summary>The embedded mode is the default: it runs when neither Redis nor Kafka is configured.</summary>
    public static CollectorMode DetectMode(IConfiguration configuration) =>
        Enum.TryParse<CollectorMode>(configuration["Collector:Mode"], ignoreCase: true, out var explicitMode) && Enum.IsDefined(explicitMode) ? explicitMode
        : string.IsNullOrWhiteSpace(configuration["Redis:Configuration"]) && string.IsNullOrWhiteSpace(configuration["Kafka:BootstrapServers"])
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
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new IdentityResolver(sp.GetRequiredService<IOptions<IdentityOptions>>().Value.ToSettings()));
        services.AddCollectorEdge(builder.Configuration);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CollectorJsonContext.Default);
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddProblemDetails();

        services.AddSingleton(sp => new BeaconReader(sp.GetRequiredService<IOptions<CollectorOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SiteRegistry>();
        services.AddOptions<EnrichmentOptions>().BindConfiguration(EnrichmentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GeoOptions>().BindConfiguration(GeoOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section);
        services.AddSingleton<UrlRedaction>();
        services.AddSingleton<EnrichmentSetup>();
        services.AddSingleton<IStartupNote>(sp => sp.GetRequiredService<EnrichmentSetup>());
        services.AddSingleton(sp => new TouchpointFactory(sp.GetRequiredService<EnrichmentSetup>().Enricher, sp.GetRequiredService<IOptions<EnrichmentOptions>>(), sp.GetRequiredService<UrlRedaction>(), sp.GetRequiredService<IdentityResolver>().Policy));
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<BeaconIngestor>();
        services.AddSingleton<CollectApi>();
        services.AddSingleton(_ => TagAssets.LoadEmbedded());
        services.AddSingleton<InspectAccess>();
        services.AddOfflineEvents();
        services.AddCallTracking();
        services.AddHostedService<StartupBanner>();

        if (mode == CollectorMode.Embedded)
        {
            services.AddEmbeddedMode(builder.Configuration);
        }
        else
        {
            services.AddDistributedMode(builder.Configuration);
        }
        return builder;
    }

    private static void AddEmbeddedMode(this IServiceCollection services, IConfiguration configuration)
    {
        // The analytics store in-process: the demo site's views are open, like the inspection API.
        services.AddTouchpointAnalytics(configuration);
        // The demo site's views follow the inspection API's rule: open while the collector listens on loopback
        // only (start-up refuses other addresses without a key), else readable with Collector:InspectApiKey.
        services.AddOptions<AnalyticsOptions>().PostConfigure<IOptions<CollectorOptions>>((o, collector) =>
        {
            if (collector.Value.InspectApiKey is { Length: > 0 } key)
            {
                if (!o.ApiKeys.TryGetValue(SiteRegistry.DemoSite, out var keys))
                {
                    o.ApiKeys[SiteRegistry.DemoSite] = keys = [];
                }
                keys.Add(key);
            }
            else if (!o.OpenSites.Contains(SiteRegistry.DemoSite, StringComparer.Ordinal))
            {
                o.OpenSites.Add(SiteRegistry.DemoSite);
            }
        });
        services.AddSingleton<EmbeddedStorage>();
        services.AddHostedService<AnalyticsUpkeep>();
        services.AddSingleton<IStartupNote>(sp => sp.GetRequiredService<EmbeddedStorage>());
        services.AddSingleton<InMemoryEventBuffer>();
        services.AddSingleton<IEventBuffer>(sp => sp.GetRequiredService<InMemoryEventBuffer>());
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<JourneyOptions>>().Value.CreateRulesSource(
            sp.GetRequiredService<IConfiguration>().AsEnumerable(), w => sp.GetRequiredService<ILogger<StageRulesSource>>().LogWarning("{BrandTerms}", w)));
        services.AddSingleton(sp => new InMemoryJourneyStore(sp.GetRequiredService<IOptions<JourneyOptions>>().Value.MaxVisitors));
        services.AddSingleton<EmbeddedIdentity>();
        services.AddSingleton<IUnmatchedEvents>(sp => sp.GetRequiredService<EmbeddedIdentity>());
        services.AddSingleton(sp => new StagedEventLog(sp.GetRequiredService<IOptions<JourneyOptions>>().Value.InspectCapacity));
        services.AddSingleton(sp => new ConversionRecordLog(sp.GetRequiredService<IOptions<JourneyOptions>>().Value.InspectCapacity));
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
        app.MapOfflineEventsApi();
        app.MapNumbersApi(options.NumbersPath, rateLimited: app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.RateLimitPerSecond > 0);
        if (mode == CollectorMode.Embedded)
        {
            app.MapInspectApi(options.InspectPath, app.Services.GetRequiredService<InspectAccess>());
            app.MapConversionRecordsApi(options.ConversionRecordsPath, app.Services.GetRequiredService<InspectAccess>());
            app.MapAnalyticsApi();
            app.MapAnalyticsApiDocs();
            app.MapAnalyticsDashboard();
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
        var csp = DemoContentSecurityPolicy(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = path,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = csp;
                headers.XFrameOptions = "DENY";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            },
        });
    }

    /// <summary>
    /// The demo pages' policy: scripts from the collector only, plus the snippet's inline queue stub allowed by
    /// its hash (computed from the pages at start-up, so editing a page cannot silently break it); no framing.
    /// </summary>
    private static string DemoContentSecurityPolicy(string root)
    {
        var hashes = Directory.EnumerateFiles(root, "*.html", SearchOption.AllDirectories)
            .SelectMany(file => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(file), "<script>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline))
            .Select(m => "'sha256-" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(m.Groups[1].Value))) + "'")
            .Distinct(StringComparer.Ordinal);
        return "default-src 'none'; script-src 'self' " + string.Join(' ', hashes) + "; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }
}
