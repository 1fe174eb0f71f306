using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TouchpointTracker.Analytics;

public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>The OpenAPI document name (served at /api/openapi/analytics.json).</summary>
    public const string OpenApiDocument = "analytics";

    /// <summary>
    /// Registers <see cref="AnalyticsOptions"/> (section <c>Analytics</c>, validated at start-up), the
    /// <see cref="AnalyticsStore"/>, the <see cref="AnalyticsWriter"/> (its flush loop starts when first resolved;
    /// disposing the container commits what it holds), <see cref="AnalyticsQueries"/>, <see cref="AttributionQueries"/> and the OpenAPI document.
    /// </summary>
    public static IServiceCollection AddTouchpointAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnalyticsOptions>, AnalyticsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new AnalyticsStore(sp.GetRequiredService<IOptions<AnalyticsOptions>>().Value));
        services.TryAddSingleton(sp => new AnalyticsWriter(sp.GetRequiredService<AnalyticsStore>(), sp.GetService<ILogger<AnalyticsWriter>>()));
        services.TryAddSingleton(sp => new AttributionQueries(sp.GetRequiredService<AnalyticsStore>()));
        services.TryAddSingleton(sp =>
        {
            var currencies = TouchpointTracker.Journeys.Conversions.ReportingCurrencies.FromConfiguration(configuration.AsEnumerable(), out var errors);
            if (errors.Count > 0)
            {
                throw new InvalidOperationException("Conversions settings: " + string.Join(" ", errors));
            }
            return new AnalyticsQueries(sp.GetRequiredService<AnalyticsStore>(), currencies);
        });
        services.AddOpenApi(OpenApiDocument);
        return services;
    }
}
