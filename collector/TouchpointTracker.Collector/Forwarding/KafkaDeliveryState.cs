using System.Collections.Concurrent;
using System.Globalization;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Whether Kafka is taking this collector's touchpoints: the last delivery, the last error, and how long
/// the oldest batch has been waiting for delivery reports. Read by the readiness check.
/// </summary>
public sealed class KafkaDeliveryState(TimeProvider clock)
{
    private readonly ConcurrentDictionary<int, long> _inFlightSince = new();
    private readonly object _gate = new();
    private DateTimeOffset? _errorSince;
    private string? _lastError;
    private bool _fatal;
    private DateTimeOffset? _lastDelivery;

    public DateTimeOffset? LastDelivery
    {
        get
        {
            lock (_gate)
            {
                return _lastDelivery;
            }
        }
    }

    public bool HasInFlight => !_inFlightSince.IsEmpty;

    public void BatchStarted(int shard) => _inFlightSince.TryAdd(shard, clock.GetTimestamp());

    public void BatchFinished(int shard) => _inFlightSince.TryRemove(shard, out _);

    /// <summary>Kafka confirmed a message: errors before now are over.</summary>
    public void Delivered()
    {
        lock (_gate)
        {
            _lastDelivery = clock.GetUtcNow();
            _errorSince = null;
            _lastError = null;
            _fatal = false;
        }
    }

    public void Failed(string error, bool fatal)
    {
        lock (_gate)
        {
            _errorSince ??= clock.GetUtcNow();
            _lastError = error;
            _fatal |= fatal;
        }
    }

    /// <summary>Kafka answered a metadata request while nothing was in flight: clear the red state.</summary>
    public void Reachable()
    {
        lock (_gate)
        {
            if (!_fatal)
            {
                _errorSince = null;
                _lastError = null;
            }
        }
    }

    public TimeSpan OldestInFlight()
    {
        var oldest = long.MaxValue;
        foreach (var (_, since) in _inFlightSince)
        {
            oldest = Math.Min(oldest, since);
        }
        return oldest == long.MaxValue ? TimeSpan.Zero : clock.GetElapsedTime(oldest);
    }

    /// <summary>Null when healthy; otherwise the reason readiness is red.</summary>
    public string? Problem(TimeSpan stallAfter)
    {
        string? error;
        DateTimeOffset? since;
        bool fatal;
        lock (_gate)
        {
            error = _lastError;
            since = _errorSince;
            fatal = _fatal;
        }
        var waiting = OldestInFlight();
        var stalled = waiting >= stallAfter;
        if (since is null && !stalled)
        {
            return null;
        }
        var parts = new List<string>(3);
        if (fatal)
        {
            parts.Add("FATAL Kafka error, an operator must act");
        }
        if (stalled)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"a batch has waited {waiting.TotalSeconds:F1}s for Kafka's delivery report"));
        }
        if (since is { } s)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"failing since {s:O}: {error}"));
        }
        return "Kafka not delivering: " + string.Join("; ", parts);
    }
}
