using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TouchpointTracker.Processor.Analytics;

/// <summary>How the sink is doing, for readiness: consuming, flushes succeeding, and its lag behind the topics.</summary>
public sealed class AnalyticsSinkStatus(TimeProvider clock)
{
    private readonly Lock _lock = new();
    private DateTimeOffset? _lastFlush;
    private long? _lag;
    private string? _lastError;
    private int _failures;

    public void Flushed()
    {
        lock (_lock)
        {
            _lastFlush = clock.GetUtcNow();
            _failures = 0;
            _lastError = null;
        }
    }

    public void Idle()
    {
        lock (_lock)
        {
            _lastFlush = clock.GetUtcNow();
        }
    }

    public void Failed(string error)
    {
        lock (_lock)
        {
            _failures++;
            _lastError = error;
        }
    }

    public void Lag(long lag)
    {
        lock (_lock)
        {
            _lag = lag;
        }
    }

    public long? CurrentLag
    {
        get
        {
            lock (_lock)
            {
                return _lag;
            }
        }
    }

    public HealthCheckResult Check()
    {
        lock (_lock)
        {
            var data = new Dictionary<string, object> { ["lag"] = _lag ?? -1 };
            if (_lastFlush is null)
            {
                return HealthCheckResult.Unhealthy("the analytics sink has not consumed yet", data: data);
            }
            if (_failures >= 3)
            {
                return HealthCheckResult.Unhealthy($"{_failures} flushes failed in a row: {_lastError}", data: data);
            }
            return HealthCheckResult.Healthy(_lag is { } lag ? $"lag {lag} messages" : "consuming", data);
        }
    }
}

/// <summary>Readiness of the analytics sink.</summary>
public sealed class AnalyticsSinkHealthCheck(AnalyticsSinkStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.Check());
}
