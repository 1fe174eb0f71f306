using Microsoft.Extensions.Diagnostics.HealthChecks;
using TouchpointTracker.Collector.Buffering;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Readiness of the embedded buffer: unhealthy once it is 90% full, so a load balancer sends traffic elsewhere.</summary>
public sealed class InMemoryBufferHealthCheck(InMemoryEventBuffer buffer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var depth = buffer.Depth;
        var description = $"{depth} of {buffer.Capacity} events buffered";
        return Task.FromResult(depth >= buffer.Capacity * 0.9
            ? HealthCheckResult.Unhealthy(description)
            : HealthCheckResult.Healthy(description));
    }
}
