using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>The outcome of handing a batch to the buffer. Only <see cref="Stored"/> allows a 2xx.</summary>
public enum AppendOutcome
{
    Stored,
    /// <summary>Over the high-water mark: answer 503 with Retry-After.</summary>
    Full,
    /// <summary>The buffer cannot be reached or did not answer in time: answer 503 with Retry-After.</summary>
    Unavailable,
}

/// <summary>
/// Where accepted touchpoints wait before they are forwarded: in memory in the embedded mode,
/// a Redis stream otherwise. A batch is stored whole or not at all.
/// </summary>
public interface IEventBuffer
{
    ValueTask<AppendOutcome> AppendAsync(IReadOnlyList<Touchpoint> batch, CancellationToken cancellationToken);
}
