using Microsoft.Extensions.Diagnostics.HealthChecks;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Staging;

/// <summary>The staging loop's health, as readiness reports it; written by the loop, read by the health check.</summary>
public sealed class ProcessorStatus
{
    /// <summary>Consecutive failed batches before readiness turns red.</summary>
    public const int FailuresBeforeUnready = 3;

    private readonly Lock _lock = new();
    private int _failures;
    private string? _lastError;
    private string? _fatal;
    private bool _running;

    public int AssignedPartitions { get; private set; }
    public long BatchesDone { get; private set; }

    public void Running(int assignedPartitions)
    {
        lock (_lock)
        {
            _running = true;
            AssignedPartitions = assignedPartitions;
        }
    }

    public void BatchSucceeded()
    {
        lock (_lock)
        {
            _failures = 0;
            BatchesDone++;
        }
    }

    public void BatchFailed(Exception ex)
    {
        lock (_lock)
        {
            _failures++;
            _lastError = $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    public void Stopped(Exception? fatal)
    {
        lock (_lock)
        {
            _running = false;
            _fatal = fatal is null ? null : $"{fatal.GetType().Name}: {fatal.Message}";
        }
    }

    public HealthCheckResult Check()
    {
        lock (_lock)
        {
            if (_fatal is not null)
            {
                return HealthCheckResult.Unhealthy("stopped: " + _fatal);
            }
            if (!_running)
            {
                return HealthCheckResult.Unhealthy("not consuming yet");
            }
            if (_failures >= FailuresBeforeUnready)
            {
                return HealthCheckResult.Unhealthy($"{_failures} batches failed in a row; last: {_lastError}");
            }
            return HealthCheckResult.Healthy($"{AssignedPartitions} partitions assigned, {BatchesDone} batches staged");
        }
    }
}

/// <summary>Readiness: the staging loop consumes and its batches succeed.</summary>
public sealed class ProcessorHealthCheck(ProcessorStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.Check());
}

/// <summary>The processor's Prometheus metrics.</summary>
public sealed class ProcessorMetrics(MetricsRegistry registry)
{
    public Counter Events { get; } = registry.Counter("tt_processor_events_total", "Input touchpoints by outcome: staged, duplicate (event id already staged), bot (counted, not staged), invalid (not a touchpoint).");
    public Counter Transitions { get; } = registry.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");
    public Counter Late { get; } = registry.Counter("tt_late_events_total", "Touchpoints older than the journey's latest one, by placement (late = within the window, too_late = outside it).");
    public Counter Published { get; } = registry.Counter("tt_processor_published_total", "Messages published, by topic.");
    public Counter Suppressed { get; } = registry.Counter("tt_processor_replayed_outputs_total", "Outputs not published again after a restart because an earlier run had published them.");
    public Counter Batches { get; } = registry.Counter("tt_processor_batches_total", "Batches staged and committed.");
    public Counter Failures { get; } = registry.Counter("tt_processor_batch_failures_total", "Batches that failed and were retried from the stored state, by error type.");
    public Counter Claims { get; } = registry.Counter("tt_processor_partition_claims_total", "Input partitions taken over (assignment or recovery).");
    public Counter Fenced { get; } = registry.Counter("tt_processor_fenced_total", "State saves refused because another instance had claimed the partition.");
    public Counter RuleReloads { get; } = registry.Counter("tt_rules_reloads_total", "Rules file reloads, by result.");
    public Histogram BatchSeconds { get; } = registry.Histogram("tt_processor_batch_seconds", "Time to stage, publish and commit one batch.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
}
