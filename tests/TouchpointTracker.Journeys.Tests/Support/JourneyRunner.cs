using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Journeys.Tests.Support;

/// <summary>
/// Runs touches through a <see cref="JourneyProcessor"/> with one in-memory state per visitor, checking
/// every staged touchpoint and transition against the JSON Schemas. The reference model of the Kafka tests.
/// </summary>
public sealed class JourneyRunner(JourneyProcessor journeys)
{
    private readonly Dictionary<string, JourneyState> _states = new(StringComparer.Ordinal);

    public JourneyRunner() : this(new JourneyProcessor(StageEngine.CreateDefault(), JourneySettings.Default))
    {
    }

    public JourneyProcessor Journeys => journeys;
    public List<Touchpoint> Staged { get; } = [];
    public List<StageTransition> Transitions { get; } = [];

    public JourneyState StateOf(string visitor, string site = "acme") => _states[site + ":" + visitor];

    public JourneyStep Apply(Touchpoint tp)
    {
        var key = tp.SiteId + ":" + tp.VisitorId;
        if (!_states.TryGetValue(key, out var state))
        {
            state = new JourneyState();
            _states[key] = state;
        }
        Schemas.AssertValid(tp);
        var step = journeys.Apply(tp, state);
        if (step.Staged is { } staged)
        {
            Schemas.AssertValid(staged);
            Staged.Add(staged);
        }
        if (step.Transition is { } transition)
        {
            Schemas.AssertValid(transition);
            Transitions.Add(transition);
        }
        return step;
    }
}
