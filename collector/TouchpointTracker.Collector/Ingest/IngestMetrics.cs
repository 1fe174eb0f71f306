using System.Collections.Concurrent;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>The collector's counters: every accepted event and every rejection, by reason and site.</summary>
public sealed class IngestMetrics(MetricsRegistry registry)
{
    /// <summary>Label sets are built once per site and reason, not per request; unknown sites all share one entry.</summary>
    private const int MaxCachedLabels = 10_000;

    private readonly Counter _accepted = registry.Counter("tt_accepted_events_total", "Events stored in the buffer, by site.");
    private readonly Counter _rejectedBatches = registry.Counter("tt_rejected_batches_total", "Requests refused whole, by reason and site.");
    private readonly Counter _rejectedEvents = registry.Counter("tt_rejected_events_total", "Events refused (alone or with their batch), by reason and site.");
    private readonly Counter _cut = registry.Counter("tt_cut_values_total", "Values cut or dropped instead of refusing their event (beacon v2; titles in every version), by reason and site.");
    private readonly Histogram _latency = registry.Histogram("tt_collect_duration_seconds", "Time to answer a collect request.",
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    private readonly ConcurrentDictionary<string, LabelSet> _siteLabels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Reason, string Site), LabelSet> _reasonLabels = new();

    public Counter Accepted => _accepted;
    public Counter RejectedBatches => _rejectedBatches;
    public Counter RejectedEvents => _rejectedEvents;

    public void CountAccepted(string site, int events) => _accepted.Inc(SiteLabels(site), events);

    /// <summary>Counts a refused request; <paramref name="events"/> is how many events it carried, where known.</summary>
    public void CountRejectedBatch(string reason, string? site, int events)
    {
        var labels = ReasonLabels(reason, site ?? "");
        _rejectedBatches.Inc(labels);
        if (events > 0)
        {
            _rejectedEvents.Inc(labels, events);
        }
    }

    public void CountRejectedEvent(string reason, string site) => _rejectedEvents.Inc(ReasonLabels(reason, site));

    /// <summary>Counts values the reader cut or dropped (<see cref="CutReasons"/>) in a beacon of a configured site.</summary>
    public void CountCuts(IReadOnlyDictionary<string, int> cuts, string site)
    {
        foreach (var (reason, count) in cuts)
        {
            _cut.Inc(ReasonLabels(reason, site), count);
        }
    }

    public void ObserveLatency(TimeSpan elapsed) => _latency.Observe(elapsed.TotalSeconds);

    /// <summary>The label set of <paramref name="reason"/> and <paramref name="site"/>, built once.</summary>
    public LabelSet ReasonLabels(string reason, string site) =>
        Cached<(string Reason, string Site)>(_reasonLabels, (reason, site), static k => MetricsRegistry.Labels(("reason", k.Reason), ("site", k.Site)));

    private LabelSet SiteLabels(string site) => Cached(_siteLabels, site, static s => MetricsRegistry.Labels(("site", s)));

    private static LabelSet Cached<TKey>(ConcurrentDictionary<TKey, LabelSet> cache, TKey key, Func<TKey, LabelSet> format)
        where TKey : notnull
    {
        if (cache.TryGetValue(key, out var labels))
        {
            return labels;
        }
        labels = format(key);
        return cache.Count < MaxCachedLabels ? cache.GetOrAdd(key, labels) : labels;
    }
}
