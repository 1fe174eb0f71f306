using System.Text.Json.Serialization;

namespace TouchpointTracker.Journeys;

/// <summary>
/// One change of a journey's stage, as published to the stage-transitions topic (schema
/// <c>stage_transition/1</c>, docs/schemas/stage_transition.schema.json). A journey's first touch is a
/// transition from nothing (<see cref="FromStage"/> null) to its first stage.
/// </summary>
public sealed class StageTransition
{
    public const string SchemaName = "stage_transition/1";

    [JsonPropertyName("schema")] public string Schema { get; set; } = SchemaName;
    [JsonPropertyName("site_id")] public string SiteId { get; set; } = "";
    [JsonPropertyName("visitor_id")] public string VisitorId { get; set; } = "";
    [JsonPropertyName("journey_id")] public string JourneyId { get; set; } = "";
    [JsonPropertyName("from_stage")] public string? FromStage { get; set; }
    [JsonPropertyName("to_stage")] public string ToStage { get; set; } = "";
    /// <summary>Ids of the rules (and score bands) that fired on the event that caused the change.</summary>
    [JsonPropertyName("reasons")] public List<string> Reasons { get; set; } = [];
    /// <summary>The event that caused the change.</summary>
    [JsonPropertyName("event_id")] public string EventId { get; set; } = "";
    /// <summary>When that event happened (its derived_ts).</summary>
    [JsonPropertyName("ts")] public DateTimeOffset Ts { get; set; }
    [JsonPropertyName("score")] public double Score { get; set; }
    [JsonPropertyName("touch_index")] public int TouchIndex { get; set; }
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    /// <summary>The session's channel at the time of the change.</summary>
    [JsonPropertyName("channel")] public string? Channel { get; set; }

    /// <summary>
    /// <see cref="Corrected"/> when a touch that arrived later than the late event window moved the time at which the
    /// journey reached <see cref="ToStage"/> back to its own time (<see cref="Ts"/>), or added a stage the journey had
    /// skipped; absent for an ordinary change.
    /// </summary>
    [JsonPropertyName("kind")] public string? Kind { get; set; }
    /// <summary>For a corrected transition: when the journey was said to reach the stage before (the time it replaces); absent when the stage is new in the history.</summary>
    [JsonPropertyName("replaces_ts")] public DateTimeOffset? ReplacesTs { get; set; }

    public const string CorrectedKind = "corrected";

    [JsonIgnore] public bool IsCorrection => Kind == CorrectedKind;
}
