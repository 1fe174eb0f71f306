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
    string? StageBefore);

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

    internal bool? FirstTouch { get; init; }
    internal bool? SessionStart { get; init; }
    internal HashSet<string>? Types { get; init; }
    internal HashSet<string>? Events { get; init; }
    internal ulong PathGroupMask { get; init; }
    internal Regex? Path { get; init; }
    internal HashSet<string>? Channels { get; init; }
    internal HashSet<string>? Mediums { get; init; }
    internal HashSet<string>? Sources { get; init; }
    internal KeywordIntent Intents { get; init; }
    internal HashSet<string>? CurrentStages { get; init; }
    internal int? MinSessions { get; init; }
    internal int? MaxSessions { get; init; }
    internal int? MinPages { get; init; }
    internal int? MinSessionPages { get; init; }
    internal long? MinEngagedMs { get; init; }
    internal long? MinSessionEngagedMs { get; init; }
    internal TimeSpan? ReturnedWithin { get; init; }
    internal (string Name, int Min)[] MinEventsBefore { get; init; } = [];

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
        if (MinSessions is { } minSessions && state.Sessions < minSessions)
        {
            return false;
        }
        if (MaxSessions is { } maxSessions && state.Sessions > maxSessions)
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
}
