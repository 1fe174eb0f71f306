using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>The in-memory buffer of the embedded mode (section <c>Buffer</c>).</summary>
public sealed class BufferOptions
{
    public const string Section = "Buffer";

    /// <summary>Events held before the collector answers 503.</summary>
    [Range(1, 10_000_000)] public int Capacity { get; set; } = 100_000;
    /// <summary>Seconds a client is asked to wait when the buffer cannot take more.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 5;
}
