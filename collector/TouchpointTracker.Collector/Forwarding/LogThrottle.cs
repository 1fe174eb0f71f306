namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Lets one log line through per interval and counts the ones held back, so a failure that repeats
/// thousands of times a second (Redis down under load) is logged, not flooded.
/// </summary>
public sealed class LogThrottle(TimeSpan interval, TimeProvider clock)
{
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * clock.TimestampFrequency);
    private long _next;
    private long _suppressed;

    /// <summary>True when this occurrence should be logged; <paramref name="suppressed"/> is how many were skipped since the last.</summary>
    public bool ShouldLog(out long suppressed)
    {
        var now = clock.GetTimestamp();
        var next = Interlocked.Read(ref _next);
        if (now >= next && Interlocked.CompareExchange(ref _next, now + _intervalTicks, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }
        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
