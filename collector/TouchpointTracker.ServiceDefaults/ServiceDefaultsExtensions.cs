using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.ServiceDefaults;

/// <summary>What every TouchpointTracker service has: JSON logs, a metrics registry, liveness and readiness.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag of the health checks that decide readiness (dependencies reachable, buffer not full).</summary>
    public const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        if (builder.Configuration.GetValue("Logging:Json", true))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }
        // Per-request hosting logs are off unless asked for: at the collector's request rates the request
        // scope and trace activity they need cost more than the rest of the logging put together.
        const string hostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";
        if (builder.Configuration[$"Logging:LogLevel:{hostingCategory}"] is null)
        {
            builder.Logging.AddFilter(hostingCategory, LogLevel.None);
        }
        builder.Services.AddSingleton<MetricsRegistry>();
        builder.Services.AddHealthChecks();
        builder.AddGracefulShutdown();
        return builder;
    }

    /// <summary>Maps liveness (process up), readiness (checks tagged <see cref="ReadyTag"/>) and Prometheus metrics.</summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder app, string livenessPath, string readinessPath, string metricsPath)
    {
        app.MapHealthChecks(livenessPath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks(readinessPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteHealth });
        app.MapGet(metricsPath, (MetricsRegistry metrics) =>
            TypedResults.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        return app;
    }

    /// <summary>
    /// Status per check for everyone; the descriptions (client library messages, addresses, timings) only for
    /// callers on the same host (docker health checks, kubectl port-forward): a probe needs the status code alone.
    /// </summary>
    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var details = context.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip);
        var entries = report.Entries.ToDictionary(
            e => e.Key,
            e => new HealthEntry(e.Value.Status.ToString(), details ? e.Value.Description : null));
        return context.Response.WriteAsJsonAsync(
            new HealthBody(report.Status.ToString(), entries),
            ServiceDefaultsJsonContext.Default.HealthBody);
    }
}

public sealed record HealthEntry(string Status, string? Description);

public sealed record HealthBody(string Status, Dictionary<string, HealthEntry> Checks);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthBody))]
internal sealed partial class ServiceDefaultsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
