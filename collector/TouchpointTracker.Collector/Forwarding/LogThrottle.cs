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

    /// <summary>Logs the message when <see cref="ShouldLog"/> lets this occurrence through.</summary>
    public void Log(ILogger logger, LogLevel level, Exception? exception, string message, params object?[] args)
    {
        if (ShouldLog(out _))
        {
#pragma warning disable CA2254 // the template is a constant at every call site
            logger.Log(level, exception, message, args);
#pragma warning restore CA2254
        }
    }
}
