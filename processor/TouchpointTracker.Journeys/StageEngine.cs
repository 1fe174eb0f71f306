using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Signals;

namespace TouchpointTracker.Journeys;

/// <summary>Thrown when a rules file cannot be used; the message lists every problem found.</summary>
public sealed class StageRulesException(string message) : Exception(message);

/// <summary>What the rules say about one touch: the furthest stage pointed to, the points, and which rules fired.</summary>
public readonly record struct StageVerdict(string? Stage, double Points, List<string> Reasons, List<StageRule> Fired);

/// <summary>
/// The compiled rules file: signals (keyword intents, path groups), rules and score bands. Evaluates one
/// touch at a time. Pure: no I/O, no clock; immutable, so safe to share between threads. A reload makes
/// a new engine.
/// </summary>
public sealed class StageEngine
{
    private readonly StageRule[] _rules;
    private readonly ScoreBand[] _bands;
    private readonly string[][] _stagesUpTo;

    internal StageEngine(
        string source,
        IReadOnlyList<string> stages,
        bool forwardOnly,
        double scoreHalfLifeDays,
        KeywordIntentClassifier keywords,
        PathGroups pathGroups,
        IEnumerable<StageRule> rules,
        IEnumerable<ScoreBand> bands,
        IReadOnlyList<string>? siteSearchParams = null,
        IReadOnlyList<Conversions.ConversionGoal>? goals = null)
    {
        Goals = goals ?? [];
        Source = source;
        Stages = stages;
        ForwardOnly = forwardOnly;
        ScoreHalfLifeDays = scoreHalfLifeDays;
        Keywords = keywords;
        PathGroups = pathGroups;
        _rules = [.. rules];
        _bands = [.. bands.OrderBy(b => b.MinScore)];
        CountedEvents = new HashSet<string>(_rules.SelectMany(r => r.CountedEventNames()), StringComparer.Ordinal);
        EventNames = new HashSet<string>(_rules.SelectMany(r => r.EventNames()), StringComparer.OrdinalIgnoreCase);
        SiteSearchParams = siteSearchParams ?? [];
        _stagesUpTo = new string[JourneyStages.Rank(JourneyStages.Advocacy) + 1][];
        for (var rank = 0; rank < _stagesUpTo.Length; rank++)
        {
            _stagesUpTo[rank] = [.. stages.Where(s => JourneyStages.Rank(s) <= rank)];
        }
    }

    /// <summary>Where the rules came from (a path, or "default rules").</summary>
    public string Source { get; }
    public IReadOnlyList<string> Stages { get; }
    public bool ForwardOnly { get; }
    public double ScoreHalfLifeDays { get; }
    public KeywordIntentClassifier Keywords { get; }
    public PathGroups PathGroups { get; }
    public IReadOnlyList<StageRule> Rules => _rules;
    public IReadOnlyList<ScoreBand> ScoreBands => _bands;
    /// <summary>The rules file's goals, in file order (the first that matches a touch converts it).</summary>
    public IReadOnlyList<Conversions.ConversionGoal> Goals { get; }
    /// <summary>Event names whose counts rules look at (<c>min_events_before</c>); the journey counts only these.</summary>
    public IReadOnlySet<string> CountedEvents { get; }
    /// <summary>Every event name a rule (or a nested condition) listens for (<c>event</c>), ignoring case.</summary>
    public IReadOnlySet<string> EventNames { get; }
    /// <summary>Query parameters of a page view that carry a site-search term (<c>site_search_params</c>).</summary>
    public IReadOnlyList<string> SiteSearchParams { get; }

    /// <summary>The site-search term of a page view: the first non-empty <see cref="SiteSearchParams"/> value of its query.</summary>
    public string? SiteSearchTerm(Touchpoint touchpoint)
    {
        if (touchpoint.Type != "pageview" || string.IsNullOrEmpty(touchpoint.Page.Query))
        {
            return null;
        }
        foreach (var name in SiteSearchParams)
        {
            if (PathGroups.QueryValue(touchpoint.Page.Query, name) is { Length: > 0 } term)
            {
                return term.Length > MaxSiteSearchTermLength ? term[..MaxSiteSearchTermLength] : term;
            }
        }
        return null;
    }

    /// <summary>
    /// The stages in use up to <paramref name="stage"/>, in funnel order: the stages a journey in that stage
    /// has passed, skipped ones included (a first touch that jumps to decision has passed awareness and
    /// consideration too). Shared arrays: no allocation per touch.
    /// </summary>
    public IReadOnlyList<string> StagesUpTo(string? stage) => _stagesUpTo[JourneyStages.Rank(stage)];

    /// <summary>Site-search terms are cut to this many characters.</summary>
    public const int MaxSiteSearchTermLength = 100;

    /// <summary>The rules that ship with the product (processor/Journeys/stage-rules.default.yaml).</summary>
    public static StageEngine CreateDefault() => StageRulesLoader.LoadDefault();

    /// <summary>Loads and validates a rules file (YAML or JSON); throws <see cref="StageRulesException"/> naming each problem.</summary>
    public static StageEngine Load(string path) => StageRulesLoader.LoadFile(path);

    /// <summary>
    /// The rules that fire for this touch (respecting their repeat limits) and the furthest stage they
    /// point to, or a null stage when none that points to a stage fires.
    /// </summary>
    /// <summary>The (never changed) empty list of a verdict where no rule fired.</summary>
    private static readonly List<StageRule> NoneFired = [];

    public StageVerdict Evaluate(in RuleInput input)
    {
        string? stage = null;
        double points = 0;
        var reasons = new List<string>(4);
        List<StageRule>? fired = null; // most touches fire nothing: no list then
        foreach (var rule in _rules)
        {
            if (rule.Repeat == RuleRepeat.OncePerSession && input.Session.HasFired(rule.Id) ||
                rule.Repeat == RuleRepeat.OncePerJourney && input.State.HasFired(rule.Id) ||
                !rule.Matches(input))
            {
                continue;
            }
            reasons.Add(rule.Id);
            (fired ??= new List<StageRule>(4)).Add(rule);
            points += rule.Points;
            if (rule.Stage is not null && JourneyStages.Rank(rule.Stage) > JourneyStages.Rank(stage))
            {
                stage = rule.Stage;
            }
        }
        return new StageVerdict(stage, points, reasons, fired ?? NoneFired);
    }

    /// <summary>Bands reached by <paramref name="score"/> that have not fired yet in this journey, lowest first.</summary>
    public IEnumerable<ScoreBand> BandsReached(double score, JourneyState state)
    {
        foreach (var band in _bands)
        {
            if (score >= band.MinScore && !state.HasFired(band.Id))
            {
                yield return band;
            }
        }
    }

    /// <summary>The score after <paramref name="elapsed"/> without a touch (halves every half-life).</summary>
    public double Decay(double score, TimeSpan elapsed)
    {
        if (ScoreHalfLifeDays <= 0 || elapsed <= TimeSpan.Zero || score == 0)
        {
            return score;
        }
        return score * Math.Pow(2, -elapsed.TotalDays / ScoreHalfLifeDays);
    }
}
