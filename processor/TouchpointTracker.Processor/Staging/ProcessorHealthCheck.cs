using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TouchpointTracker.Processor.Staging;

/// <summary>Readiness: the staging loop consumes and its batches succeed.</summary>
public sealed class ProcessorHealthCheck(ProcessorStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.Check());
}
