using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>Registers call tracking: the pools (validated at start-up), the assignment store of the mode, metrics and <c>GET /numbers</c>.</summary>
public static class CallTrackingExtensions
{
    /// <summary>The embedded store's file, in the data folder beside the analytics store.</summary>
    public const string FileName = "call-tracking.jsonl";

    public static IServiceCollection AddCallTracking(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, PoolsValidation>();
        services.AddSingleton(sp =>
        {
            var errors = new List<string>();
            return CallTrackingCatalog.Build(sp.GetRequiredService<IOptions<CollectorOptions>>().Value.Sites, errors);
        });
        services.AddSingleton<INumberStore>(sp =>
        {
            var catalog = sp.GetRequiredService<CallTrackingCatalog>();
            if (sp.GetRequiredService<CollectorRuntime>().IsEmbedded)
            {
                var folder = sp.GetRequiredService<EmbeddedStorage>().DataFolder;
                return new InProcessNumberStore(catalog.Pools, Path.Combine(folder, FileName), sp.GetRequiredService<TimeProvider>());
            }
            return new RedisNumberStore(sp.GetRequiredService<RedisConnections>(), sp.GetRequiredService<IOptions<RedisOptions>>().Value);
        });
        services.AddSingleton<CallTrackingMetrics>();
        services.AddSingleton<NumbersApi>();
        services.AddSingleton<CallMatcher>();
        services.AddSingleton<Hosting.IStartupNote>(sp => new BannerNote(sp.GetRequiredService<CallTrackingCatalog>(), sp.GetRequiredService<INumberStore>(),
            sp.GetRequiredService<IOptions<CollectorOptions>>().Value.NumbersPath));
        return services;
    }

    public static void MapNumbersApi(this WebApplication app, string path, bool rateLimited) =>
        app.Services.GetRequiredService<NumbersApi>().Map(app, path, rateLimited);

    /// <summary>The start-up banner's line: the pools, and where assignments are kept.</summary>
    private sealed class BannerNote(CallTrackingCatalog catalog, INumberStore store, string path) : Hosting.IStartupNote
    {
        public string Note => !catalog.Pools.Any()
            ? "call tracking: no pools (Collector:Sites:<site>:CallTracking, docs/call-tracking.md)"
            : $"call tracking: {path}; pools " + string.Join(", ", catalog.Pools.Select(p => $"{p} ({p.Numbers.Count} numbers)")) +
              "; assignments in " + (store is InProcessNumberStore { FilePath: { } file } ? file : "Redis");
    }

    /// <summary>Start-up refuses pools with mistakes, each named by its setting.</summary>
    private sealed class PoolsValidation : IValidateOptions<CollectorOptions>
    {
        public ValidateOptionsResult Validate(string? name, CollectorOptions options)
        {
            var errors = new List<string>();
            CallTrackingCatalog.Build(options.Sites, errors);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
