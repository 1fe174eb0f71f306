using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>
/// One rule as written in the rules file. Every condition given must hold for the rule to fire;
/// a rule with no condition never fires.
/// </summary>
public sealed class StageRuleDefinition
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("stage")] public string Stage { get; set; } = "";
    [JsonPropertyName("points")] public double Points { get; set; }
    [JsonPropertyName("description")] public string? Description { get; set; }
    /// <summary>Regular expressions matched (case-insensitive) against the page path.</summary>
    [JsonPropertyName("path")] public List<string>? PathPatterns { get; set; }
    /// <summary>Event names (type <c>event</c>) that fire the rule.</summary>
    [JsonPropertyName("event")] public List<string>? EventNames { get; set; }
    /// <summary>Campaign mediums (utm_medium) that fire the rule.</summary>
    [JsonPropertyName("medium")] public List<string>? CampaignMediums { get; set; }
    /// <summary>Default channel groups that fire the rule.</summary>
    [JsonPropertyName("channel")] public List<string>? Channels { get; set; }
    /// <summary>Fires on the journey's first touch (true) or on any later touch (false).</summary>
    [JsonPropertyName("first_touch")] public bool? FirstTouch { get; set; }
    /// <summary>Fires once the visitor has had at least this many sessions.</summary>
    [JsonPropertyName("min_sessions")] public int? MinSessions { get; set; }
    /// <summary>Fires once the current session has at least this many pageviews.</summary>
    [JsonPropertyName("min_session_pages")] public int? MinSessionPages { get; set; }
}

/// <summary>The rules file: an ordered list of rules.</summary>
public sealed class StageRuleSet
{
    [JsonPropertyName("rules")] public List<StageRuleDefinition> Rules { get; set; } = [];
}

/// <summary>What a rule looks at: the touchpoint and the journey as it stands after counting it.</summary>
public readonly record struct RuleInput(Touchpoint Touchpoint, JourneyState State, bool IsFirstTouch);

/// <summary>A validated, compiled rule.</summary>
public sealed class StageRule
{
    private readonly Regex[] _paths;
    private readonly HashSet<string>? _events;
    private readonly HashSet<string>? _mediums;
    private readonly HashSet<string>? _channels;
    private readonly StageRuleDefinition _def;

    private StageRule(StageRuleDefinition def, Regex[] paths)
    {
        _def = def;
        _paths = paths;
        _events = ToSet(def.EventNames);
        _mediums = ToSet(def.CampaignMediums);
        _channels = ToSet(def.Channels);
    }

    public string Id => _def.Id;
    public string Stage => _def.Stage;
    public double Points => _def.Points;

    public bool Matches(in RuleInput input)
    {
        var tp = input.Touchpoint;
        if (_paths.Length > 0)
        {
            var path = tp.Page.Path;
            if (string.IsNullOrEmpty(path) || !Array.Exists(_paths, r => SafeIsMatch(r, path)))
            {
                return false;
            }
        }
        if (_events is not null && (tp.Type != "event" || tp.Name is null || !_events.Contains(tp.Name)))
        {
            return false;
        }
        if (_mediums is not null && (tp.Campaign.Medium is null || !_mediums.Contains(tp.Campaign.Medium)))
        {
            return false;
        }
        if (_channels is not null && !_channels.Contains(tp.Channel))
        {
            return false;
        }
        if (_def.FirstTouch is { } first && first != input.IsFirstTouch)
        {
            return false;
        }
        if (_def.MinSessions is { } minSessions && input.State.Sessions < minSessions)
        {
            return false;
        }
        if (_def.MinSessionPages is { } minPages && input.State.SessionPages < minPages)
        {
            return false;
        }
        return true;
    }

    /// <summary>A pattern that runs away on some input does not match it (and cannot stall the pipeline).</summary>
    private static bool SafeIsMatch(Regex regex, string input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Validates a definition and compiles it; returns the problems found instead when it is invalid.</summary>
    public static StageRule Compile(StageRuleDefinition def, int index, List<string> errors)
    {
        var where = string.IsNullOrWhiteSpace(def.Id) ? $"rules[{index}]" : $"rule '{def.Id}'";
        if (string.IsNullOrWhiteSpace(def.Id))
        {
            errors.Add($"{where}: 'id' is required");
        }
        if (JourneyStages.Rank(def.Stage) == 0)
        {
            errors.Add($"{where}: 'stage' must be one of awareness, consideration, decision, retention, advocacy (got '{def.Stage}')");
        }
        var hasCondition = def.PathPatterns is { Count: > 0 } || def.EventNames is { Count: > 0 } ||
            def.CampaignMediums is { Count: > 0 } || def.Channels is { Count: > 0 } ||
            def.FirstTouch is not null || def.MinSessions is not null || def.MinSessionPages is not null;
        if (!hasCondition)
        {
            errors.Add($"{where}: at least one condition is required (path, event, medium, channel, first_touch, min_sessions, min_session_pages)");
        }
        var paths = new List<Regex>();
        foreach (var pattern in def.PathPatterns ?? [])
        {
            try
            {
                paths.Add(new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1)));
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{where}: path pattern '{pattern}' is not a valid regular expression: {ex.Message}");
            }
        }
        return new StageRule(def, [.. paths]);
    }

    private static HashSet<string>? ToSet(List<string>? values) =>
        values is { Count: > 0 } ? new HashSet<string>(values, StringComparer.OrdinalIgnoreCase) : null;
}
