using System.Collections.Concurrent;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// Call tracking's instruments: numbers given by outcome, pool exhaustion, numbers in use and pool sizes, and
/// calls to pool numbers matched or not. Labels are configured sites and pools only.
/// </summary>
public sealed class CallTrackingMetrics
{
    private readonly Counter _given;
    private readonly Counter _exhausted;
    private readonly Counter _calls;
    private readonly ConcurrentDictionary<(string Site, string Pool), int> _lastInUse = new();
    private readonly ConcurrentDictionary<(string, string, string), LabelSet> _labels = new();

    public CallTrackingMetrics(MetricsRegistry registry, CallTrackingCatalog catalog, INumberStore store, TimeProvider clock)
    {
        _given = registry.Counter("tt_call_numbers_given_total", "Tracking numbers given to visitors, by site, pool and outcome (kept: the visitor's own; free; reused: the pool was exhausted).");
        _exhausted = registry.Counter("tt_call_pool_exhausted_total", "Assignments that found every number of the pool actively held and took the least recently active holder's (pool_exhausted): add numbers.");
        _calls = registry.Counter("tt_calls_total", "Calls to tracking numbers received by the offline events API, by site, pool and result (matched to the visitor who held the number, or unmatched).");
        var pools = catalog.Pools.ToList();
        registry.Gauge("tt_call_numbers_in_use", "Numbers of the pool actively held (within the hold time of their holder's last activity); in the distributed mode, as of this collector's latest assignment.",
            () => pools.Select(p => (Labels(p.Site, p.Name), (double)(store.InUse(p, clock.GetUtcNow()) ?? _lastInUse.GetValueOrDefault((p.Site, p.Name))))));
        registry.Gauge("tt_call_pool_numbers", "Numbers configured in the pool.", () => pools.Select(p => (Labels(p.Site, p.Name), (double)p.Numbers.Count)));
    }

    public Counter Given => _given;
    public Counter Exhausted => _exhausted;
    public Counter Calls => _calls;

    public LabelSet Labels(string site, string pool) =>
        _labels.GetOrAdd((site, pool, ""), static k => MetricsRegistry.Labels(("site", k.Item1), ("pool", k.Item2)));

    private LabelSet Labels(string site, string pool, string name, string value) =>
        _labels.GetOrAdd((site, pool, name + "=" + value), k => MetricsRegistry.Labels(("site", site), ("pool", pool), (name, value)));

    public void CountGiven(NumberPool pool, NumberGiven given)
    {
        _given.Inc(Labels(pool.Site, pool.Name, "outcome", given.Kind.ToString().ToLowerInvariant()));
        if (given.Kind == AssignmentKind.Reused)
        {
            _exhausted.Inc(Labels(pool.Site, pool.Name));
        }
        _lastInUse[(pool.Site, pool.Name)] = given.InUse;
    }

    public void CountCall(NumberPool pool, bool matched) => _calls.Inc(Labels(pool.Site, pool.Name, "result", matched ? "matched" : "unmatched"));
}
