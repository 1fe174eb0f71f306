namespace TouchpointTracker.Journeys.Rules;

// The rules file as a site owner writes it (YAML, or JSON with the same shape). Property names map to
// snake_case keys (score_bands, path_groups...). Unknown keys are errors, so a typo is reported rather
// than silently ignored. StageRulesLoader validates and compiles this into a StageEngine.

/// <summary>The whole rules file.</summary>
public sealed class StageRulesDocument
{
    /// <summary>Format version of the file; 1 today.</summary>
    public int Version { get; set; } = 1;

    /// <summary>Stages in use, in funnel order. Default: awareness, consideration, decision, retention, advocacy.</summary>
    public List<string>? Stages { get; set; }

    /// <summary>Stages move forward only (the default), as lifecycle stages do in lead-scoring tools.</summary>
    public bool ForwardOnly { get; set; } = true;

    /// <summary>Half-life of the score in days: a visitor's points halve after this long without a touch. 0 = no decay.</summary>
    public double ScoreHalfLifeDays { get; set; }

    /// <summary>Words naming the brand; a search keyword containing one has the <c>branded</c> intent.</summary>
    public List<string>? BrandTerms { get; set; }

    /// <summary>Search keyword intents: intent -> language -> words and phrases.</summary>
    public Dictionary<string, Dictionary<string, List<string>>>? KeywordIntents { get; set; }

    /// <summary>Named groups of page paths: group -> regular expressions (case-insensitive).</summary>
    public Dictionary<string, List<string>>? PathGroups { get; set; }

    /// <summary>Query parameters of a page view that carry a site-search term (q, s, search, query...).</summary>
    public List<string>? SiteSearchParams { get; set; }

    public List<StageRuleDefinition>? Rules { get; set; }

    /// <summary>Score thresholds that move a journey to a stage on their own.</summary>
    public List<ScoreBandDefinition>? ScoreBands { get; set; }

    /// <summary>Conversions beyond the built-in ones: a page view, an event, a form or an offline event of a given type.</summary>
    public List<GoalDefinition>? Goals { get; set; }
}

/// <summary>
/// One goal: exactly one of <c>pageview</c> (path regex), <c>event</c> (names), <c>form_submit</c> (path regex) or
/// <c>offline</c> (offline event types); optional <c>props</c> conditions, a fixed <c>value</c>/<c>currency</c> and <c>repeat</c>.
/// </summary>
public sealed class GoalDefinition
{
    public string? Id { get; set; }
    /// <summary>The conversion type: lead, signup, purchase, call, meeting, opportunity, won, or a name of your own.</summary>
    public string? Type { get; set; }
    public string? Description { get; set; }
    public string? Pageview { get; set; }
    public List<string>? Event { get; set; }
    public string? FormSubmit { get; set; }
    public List<string>? Offline { get; set; }
    public Dictionary<string, string>? Props { get; set; }
    public double? Value { get; set; }
    public string? Currency { get; set; }
    public string? Repeat { get; set; }
}

/// <summary>One rule: when every condition under <c>when</c> holds, it fires, adds its points and points to its stage.</summary>
public sealed class StageRuleDefinition
{
    public string? Id { get; set; }
    /// <summary>Stage the rule moves the journey to; empty for a rule that only scores.</summary>
    public string? Stage { get; set; }
    /// <summary>Points added when the rule fires; <c>0</c> given explicitly with no stage makes a rule that only records a reason.</summary>
    public double? Points { get; set; }
    public string? Description { get; set; }
    /// <summary><c>every_touch</c> (default), <c>once_per_session</c> or <c>once_per_journey</c>.</summary>
    public string? Repeat { get; set; }
    public RuleConditions? When { get; set; }
}

/// <summary>Conditions of a rule. Lists mean "any of"; every condition given must hold.</summary>
public sealed class RuleConditions
{
    /// <summary>The journey's first touch (true) or any later one (false).</summary>
    public bool? FirstTouch { get; set; }
    /// <summary>The first touch of a (server-side) session (true) or a later one (false).</summary>
    public bool? SessionStart { get; set; }
    /// <summary>Touchpoint types: pageview, event, engagement, identify.</summary>
    public List<string>? Type { get; set; }
    /// <summary>Event names (touchpoints of type <c>event</c>).</summary>
    public List<string>? Event { get; set; }
    /// <summary>Offline event types (touchpoints of type <c>offline</c> sent to the offline events API: call, meeting, crm_stage...).</summary>
    public List<string>? Offline { get; set; }
    /// <summary>Path groups (see <c>path_groups</c>) the page belongs to.</summary>
    public List<string>? PathGroup { get; set; }
    /// <summary>Regular expressions matched against the page path.</summary>
    public List<string>? Path { get; set; }
    /// <summary>Landing channel of the session (GA4-style default channel group).</summary>
    public List<string>? Channel { get; set; }
    /// <summary>Campaign medium (utm_medium) of the session.</summary>
    public List<string>? Medium { get; set; }
    /// <summary>Campaign source (utm_source) of the session.</summary>
    public List<string>? Source { get; set; }
    /// <summary>Intent of the session's search keyword: informational, commercial, transactional, branded.</summary>
    public List<string>? KeywordIntent { get; set; }
    /// <summary>The stage the journey is in before this touch.</summary>
    public List<string>? CurrentStage { get; set; }
    public int? MinSessions { get; set; }
    public int? MaxSessions { get; set; }
    public int? MinPages { get; set; }
    public int? MinSessionPages { get; set; }
    public int? MinEngagedSeconds { get; set; }
    public int? MinSessionEngagedSeconds { get; set; }
    /// <summary>This session started at most this many days after the previous one ended (recency).</summary>
    public double? ReturnedWithinDays { get; set; }
    /// <summary>Counts of earlier events of the journey, by name: <c>{ purchase: 1 }</c> = at least one purchase before.</summary>
    public Dictionary<string, int>? MinEventsBefore { get; set; }
    /// <summary>Custom properties (<c>props</c>) by name: regular expression the value must match (case-insensitive; booleans read as true/false).</summary>
    public Dictionary<string, string>? Props { get; set; }
    /// <summary>The touch is a page view with a site-search term (true) or not (false); see <c>site_search_params</c>.</summary>
    public bool? SiteSearch { get; set; }
    /// <summary>Nested condition sets, at least one of which must hold ("or").</summary>
    public List<RuleConditions>? Any { get; set; }
    /// <summary>A nested condition set that must not hold.</summary>
    public RuleConditions? Not { get; set; }
}

/// <summary>A score threshold: once the journey's score reaches <c>min_score</c>, it is at least in <c>stage</c>.</summary>
public sealed class ScoreBandDefinition
{
    public string? Id { get; set; }
    public string? Stage { get; set; }
    public double MinScore { get; set; }
}
