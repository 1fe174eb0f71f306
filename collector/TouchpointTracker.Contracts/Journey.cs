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
    /// <summary>The conversion this touch produced (a purchase, a lead, a won deal, a goal...), absent when none.</summary>
    [JsonPropertyName("conversion")] public ConversionInfo? Conversion { get; set; }
}

/// <summary>
/// A conversion produced by one touch (docs/conversions.md). Its id is deterministic (site, journey and the
/// order, deal or lead id, else the event id), so a replay or a resent order names it the same.
/// </summary>
public sealed class ConversionInfo
{
    [JsonPropertyName("conversion_id")] public string ConversionId { get; set; } = "";
    /// <summary>lead, signup, purchase, call, meeting, opportunity, won, refund, or a type named by a goal.</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    /// <summary>The id of the goal of the rules file that matched, absent for the built-in conversions.</summary>
    [JsonPropertyName("goal")] public string? Goal { get; set; }
    /// <summary>The value in <see cref="Currency"/>; negative for a refund.</summary>
    [JsonPropertyName("value")] public double? Value { get; set; }
    [JsonPropertyName("currency")] public string? Currency { get; set; }
    /// <summary>The value in the site's reporting currency (fixed rates); absent when the currency has no configured rate.</summary>
    [JsonPropertyName("reporting_value")] public double? ReportingValue { get; set; }
    /// <summary>The order, deal or lead id that deduplicates the conversion.</summary>
    [JsonPropertyName("order_id")] public string? OrderId { get; set; }
    /// <summary>A refund: the conversion id of the conversion it takes back.</summary>
    [JsonPropertyName("retracts")] public string? Retracts { get; set; }
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
