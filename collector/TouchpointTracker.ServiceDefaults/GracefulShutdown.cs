using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TouchpointTracker.ServiceDefaults;

/// <summary>How a service stops (section <c>Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// Seconds between SIGTERM and the listener closing, while readiness already answers 503, so load
    /// balancers take the instance out of rotation before connections are refused.
    /// </summary>
    [Range(0, 300)] public int ReadinessGraceSeconds { get; set; } = 5;

    /// <summary>Seconds the whole stop may take: in-flight requests finish, the forwarder and processor hand over.</summary>
    [Range(1, 600)] public int DrainSeconds { get; set; } = 30;
}

/// <summary>Whether the process is stopping; readiness turns red as soon as it is.</summary>
public sealed class DrainState
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public void BeginDrain() => _draining = true;
}

/// <summary>Readiness is red while the process drains.</summary>
public sealed class DrainHealthCheck(DrainState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsDraining ? HealthCheckResult.Unhealthy("draining: the process is stopping") : HealthCheckResult.Healthy("serving"));
}

/// <summary>On SIGTERM: readiness red first, a grace period for load balancers, then the normal stop within the drain period.</summary>
internal sealed class GracefulShutdownService(
    IHostApplicationLifetime lifetime,
    DrainState state,
    IOptions<ShutdownOptions> options,
    ILogger<GracefulShutdownService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() =>
        {
            state.BeginDrain();
            var grace = TimeSpan.FromSeconds(options.Value.ReadinessGraceSeconds);
            logger.LogInformation("Stopping: readiness is red; serving for {Grace} more before closing the listener", grace);
            // Runs on the thread that stops the host, before the server and the workers stop.
            Thread.Sleep(grace);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class GracefulShutdownExtensions
{
    public static IHostApplicationBuilder AddGracefulShutdown(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var drain = builder.Configuration.GetSection(ShutdownOptions.Section).GetValue(nameof(ShutdownOptions.DrainSeconds), 30);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(Math.Clamp(drain, 1, 600)));
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<GracefulShutdownService>();
        builder.Services.AddHealthChecks().AddCheck<DrainHealthCheck>("drain", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}
