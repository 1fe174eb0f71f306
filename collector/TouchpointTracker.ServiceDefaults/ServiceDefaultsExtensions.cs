using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TouchpointTracker.ServiceDefaults;

/// <summary>
/// What every TouchpointTracker service has: JSON logs, metrics through OpenTelemetry (Prometheus text on the
/// metrics path; OTLP metrics and traces when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), liveness and readiness.
/// </summary>
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
        builder.AddOpenTelemetryDefaults();
        builder.Services.AddHealthChecks();
        builder.AddGracefulShutdown();
        return builder;
    }

    /// <summary>Maps liveness (process up), readiness (checks tagged <see cref="ReadyTag"/>) and Prometheus metrics.</summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder app, string livenessPath, string readinessPath, string metricsPath)
    {
        app.MapHealthChecks(livenessPath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks(readinessPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteHealth });
        app.MapPrometheusScrapingEndpoint(metricsPath);
        return app;
    }

    /// <summary>
    /// The services' meter (<see cref="MetricsRegistry"/>), ASP.NET Core, HttpClient and runtime instrumentation,
    /// read by the Prometheus exporter; with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces also go by OTLP
    /// (the exporter reads the other <c>OTEL_*</c> variables itself). Traces are only collected then: an activity per
    /// request costs the collector throughput that nobody would read.
    /// </summary>
    private static void AddOpenTelemetryDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MetricsRegistry>();
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(MetricsRegistry.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter(o =>
                    {
                        o.ScrapeResponseCacheDurationMilliseconds = 0; // a scrape shows the counts as they are now
                        o.ScopeInfoEnabled = false; // no otel_scope_* labels: series keep the documented label sets
                        o.TargetInfoEnabled = false;
                    });
                // Several hosts can share a process (tests, tools): each exports only the meters its own
                // IMeterFactory created; meters without a factory (runtime, HttpClient) are process-wide anyway.
                // Kestrel's memory-pool and the router's match counters are updated several times per request (each
                // buffer rented and returned), which cost about 2 % of the collector's CPU under load for figures few
                // dashboards read: off unless Metrics:AspNetCoreDetail is true (an instrument no reader takes is not
                // measured at all).
                var detail = builder.Configuration.GetValue("Metrics:AspNetCoreDetail", false);
                metrics.ConfigureServices(services => services.AddSingleton<MeterScopeView>());
                ((IDeferredMeterProviderBuilder)metrics).Configure((sp, b) =>
                {
                    var scope = sp.GetRequiredService<MeterScopeView>();
                    b.AddView(instrument => !detail && IsPerRequestDetail(instrument) ? MetricStreamConfiguration.Drop : scope.Select(instrument));
                });
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }
    }

    /// <summary>Framework instruments updated several times per request that <c>Metrics:AspNetCoreDetail</c> turns on.</summary>
    internal static bool IsPerRequestDetail(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.Meter.Name == "Microsoft.AspNetCore.MemoryPool" ||
        (instrument.Meter.Name == "Microsoft.AspNetCore.Routing" && instrument.Name == "aspnetcore.routing.match_attempts");

    /// <summary>Drops instruments of meters that another host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> created.</summary>
    private sealed class MeterScopeView(System.Diagnostics.Metrics.IMeterFactory factory)
    {
        public MetricStreamConfiguration? Select(System.Diagnostics.Metrics.Instrument instrument) =>
            instrument.Meter.Scope is System.Diagnostics.Metrics.IMeterFactory other && !ReferenceEquals(other, factory)
                ? MetricStreamConfiguration.Drop
                : null;
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
