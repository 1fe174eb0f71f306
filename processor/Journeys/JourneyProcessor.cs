using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>The outcome of one touch: the staged touchpoint, or nothing when it was a duplicate.</summary>
public readonly record struct JourneyStep(Touchpoint? Staged, bool StageChanged)
{
    public bool IsDuplicate => Staged is null;
}

/// <summary>
/// Applies one enriched touchpoint to a visitor's journey state and stages it. Pure logic: the caller
/// loads and saves the state, so the same code serves the embedded mode and the Kafka processor.
/// </summary>
public sealed class JourneyProcessor(StageEngine engine, TimeSpan inactivityWindow)
{
    public StageEngine Engine => engine;

    /// <summary>Stages <paramref name="touchpoint"/> and updates <paramref name="state"/> in place.</summary>
    public JourneyStep Apply(Touchpoint touchpoint, JourneyState state)
    {
        if (state.HasSeen(touchpoint.EventId))
        {
            return new JourneyStep(null, false);
        }
        var at = touchpoint.DerivedTs;
        if (state.Touches > 0 && at - state.LastSeen > inactivityWindow)
        {
            // The journey expired: a new one starts with this touch.
            var recent = state.RecentEventIds;
            ResetJourney(state);
            state.RecentEventIds = recent;
        }
        var isFirst = state.Touches == 0;
        if (isFirst)
        {
            state.JourneyId = JourneyIdFor(touchpoint);
            state.Started = at;
        }
        state.Touches++;
        if (!string.Equals(state.SessionId, touchpoint.SessionId, StringComparison.Ordinal))
        {
            state.SessionId = touchpoint.SessionId;
            state.Sessions++;
            state.SessionPages = 0;
        }
        if (touchpoint.Type == "pageview")
        {
            state.Pages++;
            state.SessionPages++;
        }
        if (at > state.LastSeen)
        {
            state.LastSeen = at;
        }
        state.Remember(touchpoint.EventId);

        var (stage, points, reasons) = engine.Evaluate(new RuleInput(touchpoint, state, isFirst));
        var previous = string.IsNullOrEmpty(state.Stage) ? null : state.Stage;
        var next = previous ?? JourneyStages.Awareness;
        if (stage is not null && JourneyStages.Rank(stage) > JourneyStages.Rank(next))
        {
            next = stage; // stages move forward only
        }
        state.Stage = next;
        state.Score += points;

        touchpoint.Schema = Touchpoint.StagedSchema;
        touchpoint.Journey = new JourneyInfo
        {
            Id = state.JourneyId,
            Stage = next,
            PreviousStage = previous,
            Reasons = reasons,
            Score = state.Score,
            TouchIndex = state.Touches,
        };
        return new JourneyStep(touchpoint, previous != next);
    }

    private static void ResetJourney(JourneyState state)
    {
        state.JourneyId = "";
        state.Stage = "";
        state.Score = 0;
        state.Touches = 0;
        state.Sessions = 0;
        state.SessionId = null;
        state.SessionPages = 0;
        state.Pages = 0;
    }

    /// <summary>A journey is named after the visitor and the event that opened it, so replays name it the same.</summary>
    private static string JourneyIdFor(Touchpoint tp) => $"{tp.VisitorId}:{tp.EventId}";
}
