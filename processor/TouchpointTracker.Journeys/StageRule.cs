using System.Text.Json;
using System.Text.RegularExpressions;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Signals;

namespace TouchpointTracker.Journeys;

/// <summary>How often a rule may fire (and add its points) within a journey.</summary>
public enum RuleRepeat
{
    EveryTouch,
    OncePerSession,
    OncePerJourney,
}

/// <summary>
/// What a rule looks at: the touchpoint, the journey and the session as they stand after counting this
/// touch, the page's path groups, and the stage before this touch.
/// </summary>
public readonly record struct RuleInput(
    Touchpoint Touchpoint,
    JourneyState State,
    SessionState Session,
    ulong PathGroups,
    bool IsFirstTouch,
    bool IsSessionStart,
    string? StageBefore,
    string? SiteSearchTerm = null,
    int? SessionsThen = null)
{
    /// <summary>The journey's sessions up to the touch's: the state's count, or the count at the touch's time for one evaluated at its own time.</summary>
    public int Sessions => SessionsThen ?? State.Sessions;
}

/// <summary>A validated, compiled rule. Immutable, so one engine can be shared between threads.</summary>
public sealed class StageRule
{
    internal StageRule(string id, string? stage, double points, RuleRepeat repeat, string? description)
    {
        Id = id;
        Stage = stage;
        Points = points;
        Repeat = repeat;
        Description = description;
    }

    public string Id { get; }
    /// <summary>The stage the rule points to, or null for a rule that only scores.</summary>
    public string? Stage { get; }
    public double Points { get; }
    public RuleRepeat Repeat { get; }
    public string? Description { get; }

    internal bool? FirstTouch { get; set; }
    internal bool? SessionStart { get; set; }
    internal HashSet<string>? Types { get; set; }
    internal HashSet<string>? Events { get; set; }
    internal HashSet<string>? OfflineTypes { get; set; }
    internal ulong PathGroupMask { get; set; }
    internal Regex? Path { get; set; }
    internal HashSet<string>? Channels { get; set; }
    internal HashSet<string>? Mediums { get; set; }
    internal HashSet<string>? Sources { get; set; }
    internal KeywordIntent Intents { get; set; }
    internal HashSet<string>? CurrentStages { get; set; }
    internal int? MinSessions { get; set; }
    internal int? MaxSessions { get; set; }
    internal int? MinPages { get; set; }
    internal int? MinSessionPages { get; set; }
    internal long? MinEngagedMs { get; set; }
    internal long? MinSessionEngagedMs { get; set; }
    internal TimeSpan? ReturnedWithin { get; set; }
    internal (string Name, int Min)[] MinEventsBefore { get; set; } = [];
    /// <summary>Custom properties whose value (string, number or boolean, as text) must match.</summary>
    internal (string Name, Regex Pattern)[] Props { get; set; } = [];
    internal bool? SiteSearch { get; set; }
    /// <summary>Nested condition sets: at least one must hold.</summary>
    internal StageRule[]? Any { get; set; }
    /// <summary>A nested condition set that must not hold.</summary>
    internal StageRule? Not { get; set; }

    /// <summary>Event names this rule and its nested conditions look at (<c>event</c>).</summary>
    internal IEnumerable<string> EventNames() =>
        (Events ?? Enumerable.Empty<string>()).Concat((Any ?? []).SelectMany(a => a.EventNames())).Concat(Not?.EventNames() ?? []);

    /// <summary>Event names whose counts this rule and its nested conditions look at (<c>min_events_before</c>).</summary>
    internal IEnumerable<string> CountedEventNames() =>
        MinEventsBefore.Select(m => m.Name).Concat((Any ?? []).SelectMany(a => a.CountedEventNames())).Concat(Not?.CountedEventNames() ?? []);

    /// <summary>Whether every condition holds for this touch (the repeat limit is checked by the engine).</summary>
    public bool Matches(in RuleInput input)
    {
        var tp = input.Touchpoint;
        var session = input.Session;
        var state = input.State;
        if (FirstTouch is { } first && first != input.IsFirstTouch)
        {
            return false;
        }
        if (SessionStart is { } start && start != input.IsSessionStart)
        {
            return false;
        }
        if (Types is not null && !Types.Contains(tp.Type))
        {
            return false;
        }
        if (Events is not null && (tp.Type != "event" || tp.Name is null || !Events.Contains(tp.Name)))
        {
            return false;
        }
        if (OfflineTypes is not null && (tp.Type != "offline" || tp.Name is null || !OfflineTypes.Contains(tp.Name)))
        {
            return false;
        }
        if (PathGroupMask != 0 && (input.PathGroups & PathGroupMask) == 0)
        {
            return false;
        }
        if (Path is not null && (string.IsNullOrEmpty(tp.Page.Path) || !PathGroups.SafeIsMatch(Path, tp.Page.Path)))
        {
            return false;
        }
        if (Channels is not null && !Channels.Contains(session.Channel))
        {
            return false;
        }
        if (Mediums is not null && (session.Campaign?.Medium is not { } medium || !Mediums.Contains(medium)))
        {
            return false;
        }
        if (Sources is not null && (session.Campaign?.Source is not { } source || !Sources.Contains(source)))
        {
            return false;
        }
        if (Intents != KeywordIntent.None && ((KeywordIntent)session.Intent & Intents) == 0)
        {
            return false;
        }
        if (CurrentStages is not null && !CurrentStages.Contains(input.StageBefore ?? ""))
        {
            return false;
        }
        if (MinSessions is { } minSessions && input.Sessions < minSessions)
        {
            return false;
        }
        if (MaxSessions is { } maxSessions && input.Sessions > maxSessions)
        {
            return false;
        }
        if (MinPages is { } minPages && state.Pages < minPages)
        {
            return false;
        }
        if (MinSessionPages is { } minSessionPages && session.Pages < minSessionPages)
        {
            return false;
        }
        if (MinEngagedMs is { } engaged && state.EngagedMs < engaged)
        {
            return false;
        }
        if (MinSessionEngagedMs is { } sessionEngaged && session.EngagedMs < sessionEngaged)
        {
            return false;
        }
        if (ReturnedWithin is { } within && (session.PreviousEnd is not { } previousEnd || session.Start - previousEnd > within))
        {
            return false;
        }
        foreach (var (name, min) in MinEventsBefore)
        {
            if (state.CountOf(name) < min)
            {
                return false;
            }
        }
        if (SiteSearch is { } search && search != (input.SiteSearchTerm is not null))
        {
            return false;
        }
        foreach (var (name, pattern) in Props)
        {
            if (JsonProps.Text(tp.Props, name) is not { } text || !PathGroups.SafeIsMatch(pattern, text))
            {
                return false;
            }
        }
        if (Not is not null && Not.Matches(input))
        {
            return false;
        }
        if (Any is not null)
        {
            foreach (var any in Any)
            {
                if (any.Matches(input))
                {
                    return true;
                }
            }
            return false;
        }
        return true;
    }
}

/// <summary>A score threshold that moves the journey to a stage once reached (fires once per journey).</summary>
public sealed record ScoreBand(string Id, string Stage, double MinScore);

internal static class JsonProps
{
    /// <summary>A numeric property of a touchpoint (<c>props.engaged_ms</c>), or null when absent or not a number.</summary>
    public static double? Number(Dictionary<string, JsonElement>? props, string name) =>
        props is not null && props.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? d : null;

    /// <summary>A property as text: a string's value, a number's digits, <c>true</c>/<c>false</c>; null when absent or an object, array or null.</summary>
    public static string? Text(Dictionary<string, JsonElement>? props, string name) =>
        props is null || !props.TryGetValue(name, out var v) ? null : v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
}
