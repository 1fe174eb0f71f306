using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// Journey state of the embedded mode, keyed by site and visitor, bounded: past its capacity the
/// tenth of visitors seen least recently is forgotten. Used by one processing loop only.
/// </summary>
public sealed class InMemoryJourneyStore(int maxVisitors) : IJourneyStateLookup
{
    private readonly Dictionary<(string Site, string Visitor), JourneyState> _states = [];

    public int Count => _states.Count;

    public JourneyState GetOrCreate(Touchpoint touchpoint) => GetOrCreate(touchpoint.SiteId, touchpoint.VisitorId);

    public JourneyState GetOrCreate(string site, string visitor)
    {
        var key = (site, visitor);
        if (!_states.TryGetValue(key, out var state))
        {
            if (_states.Count >= maxVisitors)
            {
                Evict();
            }
            state = new JourneyState();
            _states[key] = state;
        }
        return state;
    }

    private void Evict()
    {
        var drop = Math.Max(1, maxVisitors / 10);
        foreach (var key in _states.OrderBy(kv => kv.Value.LastSeen).Take(drop).Select(kv => kv.Key).ToList())
        {
            _states.Remove(key);
        }
    }
}
