using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>Windows that shape journeys and sessions. All are event-time spans (no wall clock).</summary>
public sealed record JourneySettings(TimeSpan InactivityWindow, TimeSpan SessionTimeout, TimeSpan LateEventWindow)
{
    /// <summary>Each site's brand terms (configuration, not rules): a keyword containing one is branded.</summary>
    public Signals.BrandTerms BrandTerms { get; init; } = Signals.BrandTerms.None;

    /// <summary>Each site's reporting currency and the fixed rates (configuration <c>Conversions</c>).</summary>
    public Conversions.ReportingCurrencies Currencies { get; init; } = Conversions.ReportingCurrencies.Default;

    /// <summary>Session landings kept per visitor (<c>Journeys:LandingHistory</c>), the first one always among them.</summary>
    public int LandingHistory { get; init; } = LandingLog.DefaultMaxLandings;

    /// <summary>Hard cap on the encoded landings of one visitor (<c>Journeys:LandingBytes</c>).</summary>
    public int LandingBytes { get; init; } = LandingLog.DefaultMaxBytes;

    public static readonly JourneySettings Default = new(TimeSpan.FromDays(30), TimeSpan.FromMinutes(30), TimeSpan.FromHours(24));

    /// <summary>The problems with these settings, empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (InactivityWindow <= TimeSpan.Zero)
        {
            yield return "the inactivity window must be positive";
        }
        if (SessionTimeout <= TimeSpan.Zero)
        {
            yield return "the session timeout must be positive";
        }
        if (LateEventWindow < TimeSpan.Zero)
        {
            yield return "the late event window must be 0 or more";
        }
        if (LateEventWindow >= InactivityWindow)
        {
            yield return "the late event window must be shorter than the inactivity window";
        }
        if (LandingHistory < 2)
        {
            yield return "the landing history must keep at least 2 landings";
        }
        if (LandingBytes < 1024)
        {
            yield return "the landing history's byte cap must be at least 1024";
        }
    }
}

public enum TouchOutcome
{
    /// <summary>Staged: the touchpoint now carries its journey.</summary>
    Staged,
    /// <summary>Its event id was already staged (delivered twice upstream): nothing to publish.</summary>
    Duplicate,
    /// <summary>A bot's touch: counted, not staged, the journey untouched.</summary>
    Bot,
}

/// <summary>Where a touch fell in time relative to the journey's latest one.</summary>
public enum Lateness
{
    InOrder,
    /// <summary>Older than the latest touch but within the late event window: placed in the session it belongs to.</summary>
    Late,
    /// <summary>
    /// Older than the late event window: evaluated at its own time (the stage the journey had then, the session then);
    /// it can move a stage's entry in the history back to its time (a corrected transition).
    /// </summary>
    TooLate,
}

/// <summary>The outcome of one touch: the staged touchpoint, and the stage transition when the stage changed.</summary>
public readonly record struct JourneyStep(TouchOutcome Outcome, Touchpoint? Staged, StageTransition? Transition, Lateness Lateness = Lateness.InOrder,
    bool DuplicateConversion = false)
{
    /// <summary>The conversion the touch produced, if any (also on the staged touchpoint's <c>journey.conversion</c>).</summary>
    public ConversionInfo? Conversion => Staged?.Journey?.Conversion;

    public bool IsDuplicate => Outcome == TouchOutcome.Duplicate;
    public bool StageChanged => Transition is not null;
}

/// <summary>
/// Applies one enriched touchpoint to a visitor's journey state and stages it. Pure logic: the caller
/// loads and saves the state, so the same code serves the embedded mode and the Kafka processor, and a
/// replay of the same touches on the same state gives the same output (the processor's exactly-once
/// recovery relies on it).
/// </summary>
public sealed class JourneyProcessor
{
    private const long MaxEngagedMsPerEvent = 4 * 3600 * 1000L;
    private readonly StageEngine _engine;
    private readonly JourneySettings _settings;

    public JourneyProcessor(StageEngine engine, JourneySettings settings)
    {
        var problems = settings.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException("journey settings: " + string.Join("; ", problems), nameof(settings));
        }
        _engine = engine;
        _settings = settings;
    }

    public JourneyProcessor(StageEngine engine, TimeSpan inactivityWindow)
        : this(engine, JourneySettings.Default with
        {
            InactivityWindow = inactivityWindow,
            LateEventWindow = TimeSpan.FromTicks(Math.Min(JourneySettings.Default.LateEventWindow.Ticks, inactivityWindow.Ticks / 2)),
        })
    {
    }

    private static readonly JourneyStep BotStep = new(TouchOutcome.Bot, null, null);

    /// <summary>Bots (<c>device.is_bot</c>) are counted, never staged.</summary>
    public static bool IsBot(Touchpoint touchpoint) => touchpoint.Device?.IsBot == true;

    public StageEngine Engine => _engine;
    public JourneySettings Settings => _settings;

    /// <summary>
    /// Stages one touch against its visitor's state from <paramref name="states"/> and counts the outcome in
    /// <paramref name="tally"/>: the staging step of both the processor and the embedded mode. A bot's touch is
    /// counted and gets no journey state.
    /// </summary>
    public JourneyStep Stage<TStates>(Touchpoint touchpoint, TStates states, StagingTally tally) where TStates : IJourneyStateLookup
    {
        var step = IsBot(touchpoint) ? BotStep : Apply(touchpoint, states.GetOrCreate(touchpoint));
        tally.Count(step);
        return step;
    }

    /// <summary>Stages <paramref name="touchpoint"/> (in place) and updates <paramref name="state"/> in place.</summary>
    public JourneyStep Apply(Touchpoint touchpoint, JourneyState state)
    {
        if (IsBot(touchpoint))
        {
            return BotStep;
        }
        if (state.HasSeen(touchpoint.EventId))
        {
            return new JourneyStep(TouchOutcome.Duplicate, null, null);
        }
        var at = touchpoint.DerivedTs;
        var (lateness, isFirst) = PlaceInTime(touchpoint, state, at);
        if (lateness == Lateness.TooLate)
        {
            return ApplyAtItsTime(touchpoint, state, at);
        }
        var (session, isSessionStart) = PlaceInSession(touchpoint, state, at, lateness);
        CountTouch(touchpoint, state, session, at, lateness);
        CarrySessionContext(touchpoint, session);

        var stageBefore = string.IsNullOrEmpty(state.Stage) ? null : state.Stage;
        var (reasons, pointed, siteSearch) = FireRules(touchpoint, state, session, isFirst, isSessionStart, stageBefore, TimeSpan.Zero);
        var (next, furthest) = MoveStage(state, stageBefore, pointed);
        if (!string.Equals(stageBefore, next, StringComparison.Ordinal))
        {
            state.RecordStage(next, at);
        }
        var conversion = Conversions.ConversionLogic.Detect(touchpoint, state, session, _engine, _settings.Currencies, out var duplicateConversion);
        state.Remember(touchpoint.EventId);

        touchpoint.Schema = Touchpoint.StagedSchema;
        touchpoint.Journey = InfoOf(state, session, next, stageBefore, furthest, reasons, siteSearch, conversion);
        var transition = string.Equals(stageBefore, next, StringComparison.Ordinal) ? null
            : TransitionOf(touchpoint, state, session, stageBefore, next, reasons, at);
        return new JourneyStep(TouchOutcome.Staged, touchpoint, transition, lateness, duplicateConversion);
    }

    /// <summary>
    /// Where the touch falls in time: a journey idle longer than the inactivity window ends (the touch opens a
    /// new one); an older touch than the latest is late, or too late past the late event window.
    /// </summary>
    private (Lateness Lateness, bool IsFirst) PlaceInTime(Touchpoint touchpoint, JourneyState state, DateTimeOffset at)
    {
        var lateness = Lateness.InOrder;
        if (state.Touches > 0)
        {
            if (at - state.LastSeen > _settings.InactivityWindow)
            {
                state.ClearJourney(); // the journey expired: a new one starts with this touch
            }
            else if (at < state.LastSeen)
            {
                lateness = state.LastSeen - at > _settings.LateEventWindow ? Lateness.TooLate : Lateness.Late;
            }
        }
        var isFirst = state.Touches == 0;
        if (isFirst)
        {
            state.JourneyId = JourneyIdFor(touchpoint);
            state.Started = at;
            state.LastSeen = at;
        }
        return (lateness, isFirst);
    }

    /// <summary>The touch's counts (touches, pages, engaged time), the score's decay, and the spans of journey and session.</summary>
    private void CountTouch(Touchpoint touchpoint, JourneyState state, SessionState session, DateTimeOffset at, Lateness lateness)
    {
        state.Touches++;
        if (touchpoint.Type == "pageview")
        {
            state.Pages++;
            session.Pages++;
        }
        else if (touchpoint.Type == "engagement" && JsonProps.Number(touchpoint.Props, "engaged_ms") is { } ms)
        {
            var engaged = (long)Math.Clamp(ms, 0, MaxEngagedMsPerEvent);
            state.EngagedMs += engaged;
            session.EngagedMs += engaged;
        }
        if (at > state.LastSeen)
        {
            state.Score = _engine.Decay(state.Score, at - state.LastSeen);
            state.LastSeen = at;
        }
        if (lateness == Lateness.Late && at < state.Started)
        {
            state.Started = at;
        }
        if (lateness != Lateness.TooLate)
        {
            if (at > session.End)
            {
                session.End = at;
            }
            if (at < session.Start)
            {
                session.Start = at;
            }
        }
    }

    /// <summary>
    /// Evaluates the rules on the touch, remembers those that fire once per session or journey, adds their
    /// points (decayed by <paramref name="age"/>, the touch's age behind the journey's latest one) and any score band
    /// reached; returns the reasons, the stage they point to and the site-search term.
    /// </summary>
    private (List<string> Reasons, string? Pointed, string? SiteSearch) FireRules(
        Touchpoint touchpoint, JourneyState state, SessionState session, bool isFirst, bool isSessionStart, string? stageBefore, TimeSpan age)
    {
        var groups = _engine.PathGroups.Classify(touchpoint.Page.Path, touchpoint.Page.Query);
        var siteSearch = _engine.SiteSearchTerm(touchpoint);
        if (siteSearch is not null)
        {
            session.RememberSiteSearch(siteSearch);
        }
        // evaluated at its own time (age > 0), the journey had only the sessions that started by the touch's session
        int? sessionsThen = age > TimeSpan.Zero ? state.Sessions - state.RecentSessions.Count(s => s.Start > session.Start) : null;
        var verdict = _engine.Evaluate(new RuleInput(touchpoint, state, session, groups, isFirst, isSessionStart, stageBefore, siteSearch, sessionsThen));
        foreach (var rule in verdict.Fired)
        {
            if (rule.Repeat == RuleRepeat.OncePerSession)
            {
                session.MarkFired(rule.Id);
            }
            else if (rule.Repeat == RuleRepeat.OncePerJourney)
            {
                state.MarkFired(rule.Id);
            }
        }
        state.Score = Math.Round(state.Score + _engine.Decay(verdict.Points, age), 4);
        var reasons = verdict.Reasons;
        var pointed = verdict.Stage;
        foreach (var band in _engine.ScoreBands)
        {
            if (state.Score < band.MinScore || state.HasFired(band.Id))
            {
                continue;
            }
            reasons.Add(band.Id);
            state.MarkFired(band.Id);
            if (JourneyStages.Rank(band.Stage) > JourneyStages.Rank(pointed))
            {
                pointed = band.Stage;
            }
        }
        if (CountedName(touchpoint) is { } name && _engine.CountedEvents.Contains(name))
        {
            state.EventCounts ??= new Dictionary<string, int>(StringComparer.Ordinal);
            state.EventCounts[name] = state.CountOf(name) + 1;
        }
        return (reasons, pointed, siteSearch);
    }

    /// <summary>The journey part of a staged touch: its stage after the touch, why, and where it sits in the journey.</summary>
    private JourneyInfo InfoOf(JourneyState state, SessionState session, string stage, string? previous, string furthest,
        List<string> reasons, string? siteSearch, ConversionInfo? conversion) => new()
    {
        Id = state.JourneyId,
        Stage = stage,
        PreviousStage = previous,
        StagesPassed = _engine.StagesUpTo(furthest),
        Reasons = reasons,
        Score = state.Score,
        TouchIndex = state.Touches,
        SessionId = session.Id,
        SessionIndex = session.Index,
        SiteSearch = siteSearch,
        Conversion = conversion,
    };

    /// <summary>
    /// The name a touch is counted under for <c>min_events_before</c>: an event's name; for offline events, a deal
    /// won in the CRM (<c>crm_stage</c> with stage <c>won</c>) counts as <c>won</c> and revenue as <c>purchase</c>, so
    /// the retention and advocacy rules see sales closed off the site.
    /// </summary>
    private static string? CountedName(Touchpoint tp) => tp.Type switch
    {
        "event" => tp.Name,
        "offline" when tp.Name == "revenue" => "purchase",
        "offline" when tp.Name == "crm_stage" && tp.Props is { } p && p.TryGetValue("stage", out var stage)
            && stage.ValueKind == System.Text.Json.JsonValueKind.String && string.Equals(stage.GetString(), "won", StringComparison.OrdinalIgnoreCase) => "won",
        _ => null,
    };

    /// <summary>
    /// The stage after the touch (forward only unless the rules say otherwise) and the furthest stage the
    /// journey reached: the stage itself unless rules with <c>forward_only: false</c> moved it back.
    /// </summary>
    private (string Next, string Furthest) MoveStage(JourneyState state, string? stageBefore, string? pointed)
    {
        var current = stageBefore ?? JourneyStages.Awareness;
        string next;
        if (pointed is null)
        {
            next = current;
        }
        else if (_engine.ForwardOnly)
        {
            next = JourneyStages.Rank(pointed) > JourneyStages.Rank(current) ? pointed : current;
        }
        else
        {
            next = pointed;
        }
        state.Stage = next;
        var reached = state.Furthest ?? stageBefore;
        var furthest = JourneyStages.Rank(reached) > JourneyStages.Rank(next) ? reached! : next;
        state.Furthest = furthest == next ? null : furthest;
        return (next, furthest);
    }

    private static StageTransition TransitionOf(Touchpoint touchpoint, JourneyState state, SessionState session,
        string? from, string to, List<string> reasons, DateTimeOffset at) => new()
    {
        SiteId = touchpoint.SiteId,
        VisitorId = touchpoint.VisitorId,
        JourneyId = state.JourneyId,
        FromStage = from,
        ToStage = to,
        Reasons = [.. reasons],
        EventId = touchpoint.EventId,
        Ts = at,
        Score = state.Score,
        TouchIndex = state.Touches,
        SessionId = session.Id,
        Channel = session.Channel,
    };

    /// <summary>
    /// The session a touch belongs to. In order: the current session unless it timed out, the touch brings
    /// a new campaign, or the tag started a new session. Late or too late: the remembered session whose span
    /// (widened by the timeout) contains it, else a session of its own placed in time.
    /// </summary>
    private (SessionState Session, bool IsStart) PlaceInSession(Touchpoint tp, JourneyState state, DateTimeOffset at, Lateness lateness)
    {
        var current = state.CurrentSession;
        switch (lateness)
        {
            case Lateness.InOrder:
                if (current is not null && at - current.End <= _settings.SessionTimeout && !StartsNewSession(tp, current))
                {
                    return (current, false);
                }
                return (OpenSession(tp, state, at), true);
            default:
                for (var i = state.RecentSessions.Count - 1; i >= 0; i--)
                {
                    var s = state.RecentSessions[i];
                    if (at >= s.Start - _settings.SessionTimeout && at <= s.End + _settings.SessionTimeout)
                    {
                        return (s, false);
                    }
                }
                return (OpenSession(tp, state, at), true);
        }
    }

    /// <summary>
    /// Stages a touch older than the late event window at its own time. The journey's state keeps counters, recent
    /// sessions and the stage history, not every touch, so this is a correction, not a replay: the touch goes into the
    /// remembered session covering its time (else a session of its own), the rules fire with the stage the history
    /// gives for that time, and its points are added decayed from its time to the journey's latest touch. When the
    /// rules move the journey at that time, the history is corrected (<see cref="CorrectHistory"/>).
    /// </summary>
    private JourneyStep ApplyAtItsTime(Touchpoint touchpoint, JourneyState state, DateTimeOffset at)
    {
        var isFirst = at < state.Started;
        var (session, isSessionStart) = PlaceInSession(touchpoint, state, at, Lateness.TooLate);
        CountTouch(touchpoint, state, session, at, Lateness.Late);
        CarrySessionContext(touchpoint, session);

        var stageThen = StageAt(state, at);
        var (reasons, pointed, siteSearch) = FireRules(touchpoint, state, session, isFirst, isSessionStart, stageThen, state.LastSeen - at);
        var reached = stageThen ?? JourneyStages.Awareness;
        if (pointed is not null && JourneyStages.Rank(pointed) > JourneyStages.Rank(reached))
        {
            reached = pointed; // stages only move forward, also in a correction
        }
        var transition = string.Equals(stageThen, reached, StringComparison.Ordinal) ? null
            : CorrectHistory(touchpoint, state, session, stageThen, reached, reasons, at);
        var conversion = Conversions.ConversionLogic.Detect(touchpoint, state, session, _engine, _settings.Currencies, out var duplicateConversion);
        state.Remember(touchpoint.EventId);

        touchpoint.Schema = Touchpoint.StagedSchema;
        touchpoint.Journey = InfoOf(state, session, reached, stageThen, reached, reasons, siteSearch, conversion);
        return new JourneyStep(TouchOutcome.Staged, touchpoint, transition, Lateness.TooLate, duplicateConversion);
    }

    /// <summary>The stage the journey had at <paramref name="at"/> by its history; null before its first entry.</summary>
    private static string? StageAt(JourneyState state, DateTimeOffset at)
    {
        string? stage = null;
        foreach (var entry in state.StageHistory ?? [])
        {
            if (entry.At > at)
            {
                break;
            }
            stage = entry.Stage;
        }
        return stage;
    }

    /// <summary>
    /// A touch at <paramref name="at"/> moved the journey from <paramref name="stageThen"/> to <paramref name="reached"/>:
    /// <list type="bullet">
    /// <item>the history says the stage was reached later: its entry moves back to <paramref name="at"/>, published as a
    /// corrected transition with <c>replaces_ts</c> the time it had;</item>
    /// <item>the journey never reached the stage: an ordinary transition from the current stage, dated <paramref name="at"/>;</item>
    /// <item>the journey had skipped the stage (it is below the current one): the entry is added, published as a
    /// corrected transition without <c>replaces_ts</c>.</item>
    /// </list>
    /// Entries of lower stages later than <paramref name="at"/> are superseded (the journey was already further then)
    /// and leave the history; the transitions already published for them stay as they were.
    /// </summary>
    private StageTransition? CorrectHistory(Touchpoint touchpoint, JourneyState state, SessionState session,
        string? stageThen, string reached, List<string> reasons, DateTimeOffset at)
    {
        var history = state.StageHistory ??= [];
        var entry = history.Find(e => string.Equals(e.Stage, reached, StringComparison.Ordinal));
        var furthest = state.Furthest ?? (string.IsNullOrEmpty(state.Stage) ? null : state.Stage);
        StageTransition transition;
        if (entry is not null)
        {
            if (entry.At <= at)
            {
                return null; // the history already has the stage by then
            }
            transition = TransitionOf(touchpoint, state, session, stageThen, reached, reasons, at);
            transition.Kind = StageTransition.CorrectedKind;
            transition.ReplacesTs = entry.At;
            entry.At = at;
        }
        else if (JourneyStages.Rank(reached) > JourneyStages.Rank(furthest))
        {
            var current = string.IsNullOrEmpty(state.Stage) ? null : state.Stage;
            state.Stage = reached;
            state.Furthest = null;
            history.Add(new StageEntry { Stage = reached, At = at });
            transition = TransitionOf(touchpoint, state, session, current, reached, reasons, at);
        }
        else
        {
            history.Add(new StageEntry { Stage = reached, At = at });
            transition = TransitionOf(touchpoint, state, session, stageThen, reached, reasons, at);
            transition.Kind = StageTransition.CorrectedKind;
        }
        var rank = JourneyStages.Rank(reached);
        history.RemoveAll(e => e.At > at && JourneyStages.Rank(e.Stage) < rank);
        var ordered = history.OrderBy(e => e.At).ToList(); // stable: entries at the same time keep their order
        history.Clear();
        history.AddRange(ordered);
        while (history.Count > JourneyState.StageHistoryCapacity)
        {
            history.RemoveAt(1);
        }
        return transition;
    }

    private static bool StartsNewSession(Touchpoint tp, SessionState current)
    {
        // A new traffic source (campaign, search, social...) starts a session; direct traffic never does.
        if (!IsDirectOrNone(tp.Campaign) && !SameCampaign(tp.Campaign, current.Campaign))
        {
            return true;
        }
        return !string.IsNullOrEmpty(tp.SessionId) && current.ClientSessionId is not null &&
            !string.Equals(tp.SessionId, current.ClientSessionId, StringComparison.Ordinal);
    }

    /// <summary>Opens a session at <paramref name="at"/>, kept in time order among the remembered ones.</summary>
    private SessionState OpenSession(Touchpoint tp, JourneyState state, DateTimeOffset at)
    {
        var term = StateLimits.Bound(NullIfEmpty(tp.Referrer.Term) ?? NullIfEmpty(tp.Campaign.Term), StateLimits.MaxValueLength);
        var session = new SessionState
        {
            Id = StateLimits.Bound(tp.EventId, StateLimits.MaxIdLength)!,
            Index = ++state.Sessions,
            ClientSessionId = StateLimits.Bound(NullIfEmpty(tp.SessionId), StateLimits.MaxIdLength),
            Start = at,
            End = at,
            Channel = StateLimits.Bound(tp.Channel, StateLimits.MaxValueLength)!,
            Campaign = HasCampaign(tp.Campaign) ? Clone(tp.Campaign) : null,
            LandingUrl = StateLimits.Bound(NullIfEmpty(tp.Landing?.Url) ?? tp.Page.Url, StateLimits.MaxUrlLength),
            LandingReferrer = StateLimits.Bound(NullIfEmpty(tp.Landing?.Referrer) ?? (tp.Referrer.Medium == "internal" ? null : NullIfEmpty(tp.Referrer.Url)), StateLimits.MaxUrlLength),
            Term = term,
            Intent = (int)(_engine.Keywords.Classify(term) | _settings.BrandTerms.Classify(tp.SiteId, term)),
        };
        var position = state.RecentSessions.Count;
        while (position > 0 && state.RecentSessions[position - 1].Start > at)
        {
            position--;
        }
        session.PreviousEnd = position > 0 ? state.RecentSessions[position - 1].End : null;
        state.RecentSessions.Insert(position, session);
        if (position < state.RecentSessions.Count - 1)
        {
            state.RecentSessions[position + 1].PreviousEnd = session.End;
        }
        while (state.RecentSessions.Count > JourneyState.SessionHistory)
        {
            state.RecentSessions.RemoveAt(0);
        }
        (state.Landings ??= new LandingLog()).Add(LandingLog.FromSession(tp, session), _settings.LandingHistory, _settings.LandingBytes);
        return session;
    }

    /// <summary>The session's landing channel, campaign and referrer go onto each of its touches.</summary>
    private static void CarrySessionContext(Touchpoint tp, SessionState session)
    {
        tp.Channel = session.Channel;
        if (IsDirectOrNone(tp.Campaign) && session.Campaign is not null && !IsDirectOrNone(session.Campaign))
        {
            tp.Campaign = Clone(session.Campaign);
        }
        if (session.LandingUrl is not null || session.LandingReferrer is not null)
        {
            tp.Landing ??= new LandingInfo();
            tp.Landing.Url ??= session.LandingUrl;
            tp.Landing.Referrer ??= session.LandingReferrer;
        }
    }


    private static bool HasCampaign(CampaignInfo c) =>
        !string.IsNullOrEmpty(c.Source) || !string.IsNullOrEmpty(c.Medium) || !string.IsNullOrEmpty(c.Name) || !string.IsNullOrEmpty(c.ClickId);

    /// <summary>No traffic source, or the collector's "(direct)" / "(none)" one.</summary>
    private static bool IsDirectOrNone(CampaignInfo c) =>
        !HasCampaign(c) || string.IsNullOrEmpty(c.Name) && string.IsNullOrEmpty(c.ClickId) &&
        (c.Source is null or "" or "(direct)" or "(not set)") && (c.Medium is null or "" or "(none)" or "(not set)");

    /// <summary>Same source, medium, name and click id, ignoring case; a missing part equals an empty one.</summary>
    private static bool SameCampaign(CampaignInfo c, CampaignInfo? other) =>
        other is not null && SamePart(c.Source, other.Source) && SamePart(c.Medium, other.Medium) &&
        SamePart(c.Name, other.Name) && SamePart(c.ClickId, other.ClickId);

    private static bool SamePart(string? a, string? b) => string.Equals(a ?? "", b ?? "", StringComparison.OrdinalIgnoreCase);

    /// <summary>A copy of the campaign, each value bounded: the session keeps it in state.</summary>
    private static CampaignInfo Clone(CampaignInfo c) => new()
    {
        Source = StateLimits.Bound(c.Source, StateLimits.MaxValueLength),
        Medium = StateLimits.Bound(c.Medium, StateLimits.MaxValueLength),
        Name = StateLimits.Bound(c.Name, StateLimits.MaxValueLength),
        Term = StateLimits.Bound(c.Term, StateLimits.MaxValueLength),
        Content = StateLimits.Bound(c.Content, StateLimits.MaxValueLength),
        Id = StateLimits.Bound(c.Id, StateLimits.MaxValueLength),
        ClickId = StateLimits.Bound(c.ClickId, StateLimits.MaxValueLength),
        ClickPlatform = StateLimits.Bound(c.ClickPlatform, StateLimits.MaxValueLength),
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A journey is named after the visitor and the event that opened it, so replays name it the same.</summary>
    private static string JourneyIdFor(Touchpoint tp) =>
        $"{StateLimits.Bound(tp.VisitorId, StateLimits.MaxIdLength)}:{StateLimits.Bound(tp.EventId, StateLimits.MaxIdLength)}";
}
