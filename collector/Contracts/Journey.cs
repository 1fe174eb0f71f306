using System.Text.Json.Serialization;

namespace TouchpointTracker.Contracts;

/// <summary>The journey part of a staged touchpoint: which stage the visitor is in after this event, and why.</summary>
public sealed class JourneyInfo
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("stage")] public string Stage { get; set; } = JourneyStages.Awareness;
    [JsonPropertyName("previous_stage")] public string? PreviousStage { get; set; }
    [JsonPropertyName("reasons")] public List<string> Reasons { get; set; } = [];
    [JsonPropertyName("score")] public double Score { get; set; }
    [JsonPropertyName("touch_index")] public int TouchIndex { get; set; }
}

public static class JourneyStages
{
    public const string Awareness = "awareness";
    public const string Consideration = "consideration";
    public const string Decision = "decision";
    public const string Retention = "retention";
    public const string Advocacy = "advocacy";

    /// <summary>Funnel order; a journey moves forward by default.</summary>
    public static int Rank(string? stage) => stage switch
    {
        Awareness => 1,
        Consideration => 2,
        Decision => 3,
        Retention => 4,
        Advocacy => 5,
        _ => 0,
    };
}
