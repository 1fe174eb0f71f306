using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Forwarding;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>
/// Readiness: Kafka confirms this collector's touchpoints. Red while a batch waits too long for delivery
/// reports or produce errors are not yet followed by a delivery, with the reason. When nothing is in
/// flight a red state is re-checked by asking Kafka for the topic's metadata (at most every 2 s).
/// </summary>
public sealed class KafkaDeliveryHealthCheck(
    KafkaDeliveryState state,
    IServiceProvider services,
    IOptions<ForwarderOptions> options,
    TimeProvider clock) : IHealthCheck
{
    private int _probing;
    private long _lastProbe;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return HealthCheckResult.Healthy("Forwarder disabled on this collector");
        }
        var stall = TimeSpan.FromMilliseconds(o.DeliveryStallMs);
        var problem = state.Problem(stall);
        if (problem is not null && !state.HasInFlight && await ProbeAsync(cancellationToken))
        {
            state.Reachable();
            problem = state.Problem(stall);
        }
        if (problem is not null)
        {
            return HealthCheckResult.Unhealthy(problem);
        }
        return HealthCheckResult.Healthy(state.LastDelivery is { } last ? $"Kafka delivering; last delivery {last:O}" : "Kafka reachable; nothing delivered yet");
    }

    private async Task<bool> ProbeAsync(CancellationToken ct)
    {
        if (clock.GetElapsedTime(Interlocked.Read(ref _lastProbe)) < TimeSpan.FromSeconds(2) || Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
        {
            return false;
        }
        try
        {
            Interlocked.Exchange(ref _lastProbe, clock.GetTimestamp());
            var kafka = services.GetRequiredService<KafkaProducerHost>();
            return await Task.Run(() => kafka.Probe(TimeSpan.FromSeconds(2)), ct);
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }
}
