using System.Threading.Channels;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The whole pipeline in one process: the forwarder moves touchpoints from the in-memory buffer to an
/// in-memory bus, and the processor stages them per visitor and keeps them for the inspection API.
/// Same stages, same order guarantees (one visitor's events stay in order) as Redis and Kafka give, and
/// the same journey engine and rules file (reloaded on change) as the Kafka processor.
/// </summary>
public sealed class EmbeddedPipeline(
    InMemoryEventBuffer buffer,
    StageRulesSource rules,
    InMemoryJourneyStore states,
    StagedEventLog log,
    MetricsRegistry metrics,
    ILogger<EmbeddedPipeline> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private readonly Channel<Touchpoint> _bus = Channel.CreateBounded<Touchpoint>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly Counter _forwarded = metrics.Counter("tt_forwarded_events_total", "Touchpoints moved from the buffer to the bus.");
    // The processor's metric names (tt_processor_events_total{outcome}, ...): the same facts under the same names in both modes.
    private readonly Counter _events = metrics.Counter("tt_processor_events_total", "Input touchpoints by outcome: staged, duplicate (event id already staged), bot (counted, not staged), invalid (not a touchpoint), error (could not be staged).");
    private readonly Counter _transitions = metrics.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");
    private readonly Counter _late = metrics.Counter("tt_late_events_total", "Touchpoints older than the journey's latest one, by placement (late = within the window, too_late = outside it).");
    private readonly StagingTally _tally = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        rules.Reloaded += description => logger.LogInformation("Stage rules reloaded: {Rules}", description);
        rules.ReloadFailed += ex => logger.LogError("Stage rules file changed but cannot be used; the previous rules stay: {Problems}", ex.Message);
        logger.LogInformation("Stage rules: {Source} ({Count} rules)", rules.Current.Engine.Source, rules.Current.Engine.Rules.Count);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            Task.Run(() => ForwardAsync(stoppingToken), stoppingToken),
            Task.Run(() => ProcessAsync(stoppingToken), stoppingToken));

    private async Task ForwardAsync(CancellationToken ct)
    {
        var batch = new List<Touchpoint>(BatchSize);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                batch.Clear();
                if (await buffer.ReadBatchAsync(batch, BatchSize, ct) == 0)
                {
                    break;
                }
                foreach (var tp in batch)
                {
                    await _bus.Writer.WriteAsync(tp, ct);
                }
                buffer.Release(batch.Count); // the bus has them: their room in the buffer is free
                _forwarded.Inc(by: batch.Count);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _bus.Writer.TryComplete();
        }
    }

    private async Task ProcessAsync(CancellationToken ct)
    {
        try
        {
            while (await _bus.Reader.WaitToReadAsync(ct))
            {
                while (_bus.Reader.TryRead(out var tp))
                {
                    Stage(tp);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Stage(Touchpoint tp)
    {
        try
        {
            var step = rules.Current.Stage(tp, states, _tally);
            if (step.Outcome == TouchOutcome.Staged)
            {
                log.Add(step.Staged!);
            }
        }
        catch (Exception ex)
        {
            // One bad touchpoint must not stop the pipeline; it is logged with its id.
            logger.LogError(ex, "Could not stage event {EventId} of site {Site}", tp.EventId, tp.SiteId);
            _events.Inc(ErrorLabels);
        }
        Record();
    }

    private static readonly string StagedLabels = MetricsRegistry.Labels(("outcome", "staged"));
    private static readonly string DuplicateLabels = MetricsRegistry.Labels(("outcome", "duplicate"));
    private static readonly string BotLabels = MetricsRegistry.Labels(("outcome", "bot"));
    private static readonly string ErrorLabels = MetricsRegistry.Labels(("outcome", "error"));
    private static readonly string LateLabels = MetricsRegistry.Labels(("placed", "late"));
    private static readonly string TooLateLabels = MetricsRegistry.Labels(("placed", "too_late"));

    private void Record()
    {
        var t = _tally;
        if (t.Staged > 0) { _events.Inc(StagedLabels, t.Staged); }
        if (t.Duplicates > 0) { _events.Inc(DuplicateLabels, t.Duplicates); }
        if (t.Bots > 0) { _events.Inc(BotLabels, t.Bots); }
        if (t.Late > 0) { _late.Inc(LateLabels, t.Late); }
        if (t.TooLate > 0) { _late.Inc(TooLateLabels, t.TooLate); }
        foreach (var stage in t.TransitionsTo)
        {
            _transitions.Inc(MetricsRegistry.Labels(("stage", stage)));
        }
        t.Clear();
    }
}
