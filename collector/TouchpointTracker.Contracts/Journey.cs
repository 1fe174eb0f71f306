using System.Text.Json.Serialization;

namespace TouchpointTracker.Contracts;

/// <summary>The journey part of a staged touchpoint: which stage the visitor is in after this event, and why.</summary>
public sealed class JourneyInfo
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("stage")] public string Stage { get; set; } = JourneyStages.Awareness;
    [JsonPropertyName("previous_stage")] public string? PreviousStage { get; set; }
    /// <summary>
    /// Every stage in use up to the furthest one the journey reached, in funnel order, skipped ones included:
    /// a funnel counts a journey in each of these, so its counts never grow from one stage to the next.
    /// </summary>
    [JsonPropertyName("stages_passed")] public IReadOnlyList<string>? StagesPassed { get; set; }
    [JsonPropertyName("reasons")] public List<string> Reasons { get; set; } = [];
    [JsonPropertyName("score")] public double Score { get; set; }
    [JsonPropertyName("touch_index")] public int TouchIndex { get; set; }
    /// <summary>The session as the processor rebuilt it (30 minutes of inactivity or a new campaign start a new one).</summary>
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    /// <summary>1 for the journey's first server-side session, then 2, 3...</summary>
    [JsonPropertyName("session_index")] public int? SessionIndex { get; set; }
    /// <summary>The site-search term this page view carries (its q, s, search or query parameter; rules key <c>site_search_params</c>).</summary>
    [JsonPropertyName("site_search")] public string? SiteSearch { get; set; }
    /// <summary>
    /// The person (an identified user, across their visitor ids) whose journey this touch is part of; absent
    /// while the visitor is anonymous. Derived from the site and the hashed user id, so it is stable.
    /// </summary>
    [JsonPropertyName("person_id")] public string? PersonId { get; set; }
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
