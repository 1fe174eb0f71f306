using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Staging;

/// <summary>The processor's Prometheus metrics.</summary>
public sealed class ProcessorMetrics(MetricsRegistry registry)
{
    public Counter Events { get; } = registry.Counter("tt_processor_events_total", "Input touchpoints by outcome: staged, duplicate (event id already staged), bot (counted, not staged), invalid (not a touchpoint).");
    public Counter Transitions { get; } = registry.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");
    public Counter Late { get; } = registry.Counter("tt_late_events_total", "Touchpoints older than the journey's latest one, by placement (late = within the window, too_late = outside it).");
    public Counter Published { get; } = registry.Counter("tt_processor_published_total", "Messages published, by topic.");
    public Counter Suppressed { get; } = registry.Counter("tt_processor_replayed_outputs_total", "Outputs not published again after a restart because an earlier run had published them.");
    public Counter Batches { get; } = registry.Counter("tt_processor_batches_total", "Batches staged and committed.");
    public Counter Failures { get; } = registry.Counter("tt_processor_batch_failures_total", "Batches that failed and were retried from the stored state, by error type.");
    public Counter Claims { get; } = registry.Counter("tt_processor_partition_claims_total", "Input partitions taken over (assignment or recovery).");
    public Counter Fenced { get; } = registry.Counter("tt_processor_fenced_total", "State saves refused because another instance had claimed the partition.");
    public Counter RuleReloads { get; } = registry.Counter("tt_rules_reloads_total", "Rules file reloads, by result.");
    public Histogram BatchSeconds { get; } = registry.Histogram("tt_processor_batch_seconds", "Time to stage, publish and commit one batch.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);

    /// <summary>Counts what staging one partition's slice of a committed batch produced.</summary>
    internal void CountStaged(BatchOutcome o, Func<OutputKind, string> topicOf)
    {
        Events.Inc(MetricsRegistry.Labels(("outcome", "staged")), o.Staged);
        Events.Inc(MetricsRegistry.Labels(("outcome", "duplicate")), o.Duplicates);
        Events.Inc(MetricsRegistry.Labels(("outcome", "bot")), o.Bots);
        Events.Inc(MetricsRegistry.Labels(("outcome", "invalid")), o.Invalid);
        Late.Inc(MetricsRegistry.Labels(("placed", "late")), o.Late);
        Late.Inc(MetricsRegistry.Labels(("placed", "too_late")), o.TooLate);
        Suppressed.Inc(by: o.Suppressed);
        foreach (var stage in o.TransitionsTo)
        {
            Transitions.Inc(MetricsRegistry.Labels(("stage", stage)));
        }
        foreach (var kind in o.Outputs.GroupBy(x => x.Kind))
        {
            Published.Inc(MetricsRegistry.Labels(("topic", topicOf(kind.Key))), kind.Count());
        }
    }
}
