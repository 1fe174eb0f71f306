namespace TouchpointTracker.ServiceDefaults;

/// <summary>
/// What staging touchpoints produced, under the same names in every host of the journey engine (the
/// processor and the collector's embedded mode): one definition of each instrument, label sets built once.
/// </summary>
public sealed class StagingMetrics(MetricsRegistry registry)
{
    private static readonly LabelSet Staged = MetricsRegistry.Labels(("outcome", "staged"));
    private static readonly LabelSet Duplicate = MetricsRegistry.Labels(("outcome", "duplicate"));
    private static readonly LabelSet Bot = MetricsRegistry.Labels(("outcome", "bot"));
    private static readonly LabelSet Invalid = MetricsRegistry.Labels(("outcome", "invalid"));
    private static readonly LabelSet Error = MetricsRegistry.Labels(("outcome", "error"));
    private static readonly LabelSet Late = MetricsRegistry.Labels(("placed", "late"));
    private static readonly LabelSet TooLate = MetricsRegistry.Labels(("placed", "too_late"));
    private static readonly LabelSet ReloadOk = MetricsRegistry.Labels(("result", "ok"));
    private static readonly LabelSet ReloadInvalid = MetricsRegistry.Labels(("result", "invalid"));

    public Counter Events { get; } = registry.Counter("tt_processor_events_total",
        "Input touchpoints by outcome: staged, duplicate (event id already staged), bot (counted, not staged), invalid (not a touchpoint), error (could not be staged).");
    public Counter Transitions { get; } = registry.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");
    public Counter LateEvents { get; } = registry.Counter("tt_late_events_total",
        "Touchpoints older than the journey's latest one, by placement (late = within the window, too_late = outside it).");
    public Counter RuleReloads { get; } = registry.Counter("tt_rules_reloads_total", "Rules file reloads, by result.");
    public Counter Conversions { get; } = registry.Counter("tt_conversions_total", "Conversions produced by staged touches, by type (refund included).");
    public Counter ConversionDuplicates { get; } = registry.Counter("tt_conversion_duplicates_total",
        "Conversions not produced because their order, deal or lead id had already converted (or was already refunded in full).");
    public Counter UnknownCurrency { get; } = registry.Counter("tt_conversions_unknown_currency_total",
        "Conversions with a value whose currency has no configured rate (no reporting value).");

    /// <summary>Counts the conversions of a run of staged touches.</summary>
    public void CountConversions(IEnumerable<string> types, int duplicates, int unknownCurrency)
    {
        foreach (var type in types)
        {
            Conversions.Inc(MetricsRegistry.Labels(("type", type)));
        }
        if (duplicates > 0)
        {
            ConversionDuplicates.Inc(by: duplicates);
        }
        if (unknownCurrency > 0)
        {
            UnknownCurrency.Inc(by: unknownCurrency);
        }
    }

    public Counter Identity { get; } = registry.Counter("tt_identity_events_total",
        "Identity resolution by event: linked (a visitor joined a person), merged (its anonymous journey joined the person's), junk (a blocklisted or missing user id), cap_refused (the person had the maximum of visitor ids), relinked (a device identified as another user), matched (an offline event without visitor id matched), unmatched (kept until its identifier appears), rematched (an unmatched event matched later).");

    private static readonly string[] IdentityEvents = ["linked", "merged", "junk", "cap_refused", "relinked", "matched", "unmatched", "rematched"];
    private static readonly LabelSet[] IdentityLabels = IdentityEvents.Select(e => MetricsRegistry.Labels(("event", e))).ToArray();

    /// <summary>Counts identity events, in the order of <see cref="IdentityEvents"/>.</summary>
    public void CountIdentity(int linked, int merged, int junk, int capRefused, int relinked, int matched, int unmatched, int rematched)
    {
        Span<int> counts = [linked, merged, junk, capRefused, relinked, matched, unmatched, rematched];
        for (var i = 0; i < counts.Length; i++)
        {
            Add(Identity, IdentityLabels[i], counts[i]);
        }
    }

    /// <summary>Counts the outcomes of a run of staged touches (a batch, or one touch in the embedded mode).</summary>
    public void Count(int staged, int duplicates, int bots, int invalid, int late, int tooLate, IEnumerable<string> stagesReached)
    {
        Add(Events, Staged, staged);
        Add(Events, Duplicate, duplicates);
        Add(Events, Bot, bots);
        Add(Events, Invalid, invalid);
        Add(LateEvents, Late, late);
        Add(LateEvents, TooLate, tooLate);
        foreach (var stage in stagesReached)
        {
            Transitions.Inc(MetricsRegistry.Labels(("stage", stage)));
        }
    }

    /// <summary>A touch that could not be staged (an error in the engine; logged with its event id).</summary>
    public void CountError() => Events.Inc(Error);

    public void CountReload(bool ok) => RuleReloads.Inc(ok ? ReloadOk : ReloadInvalid);

    private static void Add(Counter counter, LabelSet labels, int count)
    {
        if (count > 0)
        {
            counter.Inc(labels, count);
        }
    }
}
