using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// Journey state of the embedded mode, keyed by site and visitor, bounded: past its capacity the
/// tenth of visitors seen least recently is forgotten. It remembers which states changed since they were
/// last saved (<see cref="JourneyStateFile"/>). Used by one processing loop only.
/// </summary>
public sealed class InMemoryJourneyStore(int maxVisitors) : IJourneyStateLookup
{
    private readonly Dictionary<(string Site, string Visitor), JourneyState> _states = [];
    private readonly HashSet<(string Site, string Visitor)> _changed = [];

    public int Count => _states.Count;

    /// <summary>States changed since <see cref="TakeChanged"/> last ran.</summary>
    public int ChangedCount => _changed.Count;

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

    /// <summary>The visitor's state changed (a touch was staged): it is saved with the next batch of changes.</summary>
    public void MarkChanged(string site, string visitor) => _changed.Add((site, visitor));

    /// <summary>The states changed since the last call, and forgets that they changed.</summary>
    public List<(string Site, string Visitor, JourneyState State)> TakeChanged()
    {
        var changed = new List<(string, string, JourneyState)>(_changed.Count);
        foreach (var key in _changed)
        {
            if (_states.TryGetValue(key, out var state))
            {
                changed.Add((key.Site, key.Visitor, state));
            }
        }
        _changed.Clear();
        return changed;
    }

    /// <summary>Every state held (for rewriting the state file).</summary>
    public IEnumerable<(string Site, string Visitor, JourneyState State)> All() =>
        _states.Select(kv => (kv.Key.Site, kv.Key.Visitor, kv.Value));

    /// <summary>Takes the states read back at start-up (the most recently seen first when over capacity).</summary>
    public void Restore(Dictionary<(string Site, string Visitor), JourneyState> states)
    {
        foreach (var (key, state) in states.OrderByDescending(kv => kv.Value.LastSeen).Take(maxVisitors))
        {
            _states[key] = state;
        }
    }

    private void Evict()
    {
        var drop = Math.Max(1, maxVisitors / 10);
        foreach (var key in _states.OrderBy(kv => kv.Value.LastSeen).Take(drop).Select(kv => kv.Key).ToList())
        {
            _states.Remove(key);
            _changed.Remove(key);
        }
    }
}
