using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>How the collector runs: embedded (in-memory buffer, bus and processor) or with Redis and Kafka.</summary>
public enum PipelineMode
{
    Embedded,
    Distributed,
}

/// <summary>The in-memory buffer of the embedded mode (section <c>Buffer</c>).</summary>
public sealed class BufferOptions
{
    public const string Section = "Buffer";

    /// <summary>Events held before the collector answers 503.</summary>
    [Range(1, 10_000_000)] public int Capacity { get; set; } = 100_000;
    /// <summary>Seconds a client is asked to wait when the buffer cannot take more.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 5;
}

/// <summary>Journey staging (section <c>Journeys</c>), used by the embedded processor.</summary>
public sealed class JourneyOptions
{
    public const string Section = "Journeys";

    /// <summary>A rules file replacing the default rules; empty for the defaults.</summary>
    public string? RulesPath { get; set; }
    /// <summary>Days without a touch after which a visitor's journey ends and the next touch starts a new one.</summary>
    [Range(1, 3650)] public int InactivityDays { get; set; } = 30;
    /// <summary>Staged touchpoints kept for the inspection API.</summary>
    [Range(1, 1_000_000)] public int InspectCapacity { get; set; } = 10_000;
    /// <summary>Visitors whose journey state the embedded processor keeps in memory.</summary>
    [Range(1, 10_000_000)] public int MaxVisitors { get; set; } = 100_000;
}

/// <summary>The mode this process runs in, decided once at start-up.</summary>
public sealed record CollectorRuntime(PipelineMode Mode)
{
    public bool IsEmbedded => Mode == PipelineMode.Embedded;
}
