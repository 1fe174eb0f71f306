namespace TouchpointTracker.Collector.Forwarding;

/// <summary>Exponential back-off with full jitter between a floor and a ceiling.</summary>
public sealed class Backoff(TimeSpan min, TimeSpan max)
{
    private int _attempt;

    public int Attempt => _attempt;

    public TimeSpan Next()
    {
        var exp = Math.Min(_attempt, 20);
        _attempt++;
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, exp));
        return TimeSpan.FromMilliseconds(min.TotalMilliseconds + (Random.Shared.NextDouble() * Math.Max(0, ceiling - min.TotalMilliseconds)));
    }

    public TimeSpan Max => max;

    public void Reset() => _attempt = 0;
}
