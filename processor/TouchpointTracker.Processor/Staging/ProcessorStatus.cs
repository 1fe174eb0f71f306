using Microsoft.Extensions.Diagnostics.HealthChecks;

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
    private int _assignedPartitions;
    private long _batchesDone;

    public void Running(int assignedPartitions)
    {
        lock (_lock)
        {
            _running = true;
            _assignedPartitions = assignedPartitions;
        }
    }

    public void BatchSucceeded()
    {
        lock (_lock)
        {
            _failures = 0;
            _batchesDone++;
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
            return HealthCheckResult.Healthy($"{_assignedPartitions} partitions assigned, {_batchesDone} batches staged");
        }
    }
}
