using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Staging;

/// <summary>The processor's own metrics; what staging produced is counted by the shared <see cref="StagingMetrics"/>.</summary>
public sealed class ProcessorMetrics(MetricsRegistry registry, StagingMetrics staging)
{
    public StagingMetrics Staging => staging;
    public Counter Published { get; } = registry.Counter("tt_processor_published_total", "Messages published, by topic.");
    public Counter Suppressed { get; } = registry.Counter("tt_processor_replayed_outputs_total", "Outputs not published again after a restart because an earlier run had published them.");
    public Counter Batches { get; } = registry.Counter("tt_processor_batches_total", "Batches staged and committed.");
    public Counter Failures { get; } = registry.Counter("tt_processor_batch_failures_total", "Batches that failed and were retried from the stored state, by error type.");
    public Counter Claims { get; } = registry.Counter("tt_processor_partition_claims_total", "Input partitions taken over (assignment or recovery).");
    public Counter IdentityConflicts { get; } = registry.Counter("tt_identity_conflicts_total",
        "Person saves that found the person saved by another instance since it was loaded (two visitors of one person staged at the same moment on two instances); the later save wins.");
    public Counter Fenced { get; } = registry.Counter("tt_processor_fenced_total", "State saves refused because another instance had claimed the partition.");
    public Counter StateCache { get; } = registry.Counter("tt_processor_state_cache_total",
        "Journey states a batch needed, by where they came from: the in-process cache (hit) or Redis (miss).");
    internal static readonly LabelSet CacheHit = MetricsRegistry.Labels(("result", "hit"));
    internal static readonly LabelSet CacheMiss = MetricsRegistry.Labels(("result", "miss"));
    public Histogram BatchSeconds { get; } = registry.Histogram("tt_processor_batch_seconds", "Time to stage, publish and commit one batch.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);

    /// <summary>Counts what staging one partition's slice of a committed batch produced.</summary>
    internal void CountStaged(BatchOutcome o, Func<OutputKind, string> topicOf)
    {
        staging.Count(o.Staged, o.Duplicates, o.Bots, o.Invalid, o.Late, o.TooLate, o.TransitionsTo);
        staging.CountConversions(o.ConversionTypes, o.DuplicateConversions, o.UnknownCurrency);
        Suppressed.Inc(by: o.Suppressed);
        foreach (var kind in o.Outputs.GroupBy(x => x.Kind))
        {
            Published.Inc(MetricsRegistry.Labels(("topic", topicOf(kind.Key))), kind.Count());
        }
    }
}
