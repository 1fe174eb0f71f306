using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Processor.Analytics;

/// <summary>
/// The analytics sink (section <c>AnalyticsSink</c>): the processor run with <c>Processor:Role=analytics</c>
/// reads the staged touchpoints and transitions into the analytics store. Run one replica: the store has one writer.
/// </summary>
public sealed class AnalyticsSinkOptions
{
    public const string Section = "AnalyticsSink";

    /// <summary>Its own consumer group, so it reads every output message whatever the other consumers do.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,128}$", ErrorMessage = "AnalyticsSink:GroupId must be 1 to 128 letters, digits, '.', '_' or '-'.")]
    public string GroupId { get; set; } = "tt-analytics";

    /// <summary>Most messages written before the store is flushed and the offsets committed.</summary>
    [Range(1, 1_000_000, ErrorMessage = "AnalyticsSink:MaxBatchSize must be between 1 and 1000000.")]
    public int MaxBatchSize { get; set; } = 20_000;

    /// <summary>Longest wait before a partial batch is flushed and committed.</summary>
    [Range(10, 60_000, ErrorMessage = "AnalyticsSink:MaxBatchWaitMs must be between 10 and 60000.")]
    public int MaxBatchWaitMs { get; set; } = 500;
}
