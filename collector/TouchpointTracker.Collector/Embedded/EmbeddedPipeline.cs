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
    private readonly Counter _forwarded = Forwarding.ForwarderMetrics.ForwardedCounter(metrics);
    private readonly Counter _staged = metrics.Counter("tt_staged_events_total", "Touchpoints staged by the processor.");
    private readonly Counter _duplicates = metrics.Counter("tt_duplicate_events_total", "Touchpoints dropped because their event id was already staged.");
    private readonly Counter _transitions = metrics.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");
    private readonly Counter _bots = metrics.Counter("tt_bot_events_total", "Touchpoints of bots: counted, not staged.");
    private readonly Counter _late = metrics.Counter("tt_late_events_total", "Touchpoints older than the journey's latest one, by placement (late = within the window, too_late = outside it).");

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
            if (tp.Device?.IsBot == true)
            {
                _bots.Inc(); // not staged, and no journey state kept for it
                return;
            }
            var state = states.GetOrCreate(tp.SiteId, tp.VisitorId);
            var step = rules.Current.Apply(tp, state);
            switch (step.Outcome)
            {
                case TouchOutcome.Duplicate:
                    _duplicates.Inc();
                    return;
                case TouchOutcome.Bot:
                    _bots.Inc();
                    return;
            }
            _staged.Inc();
            if (step.Lateness != Lateness.InOrder)
            {
                _late.Inc(MetricsRegistry.Labels(("placed", step.Lateness == Lateness.Late ? "late" : "too_late")));
            }
            if (step.Transition is { } transition)
            {
                _transitions.Inc(MetricsRegistry.Labels(("stage", transition.ToStage)));
            }
            log.Add(step.Staged!);
        }
        catch (Exception ex)
        {
            // One bad touchpoint must not stop the pipeline; it is logged with its id.
            logger.LogError(ex, "Could not stage event {EventId} of site {Site}", tp.EventId, tp.SiteId);
            metrics.Counter("tt_processing_errors_total", "Touchpoints the processor could not stage.").Inc();
        }
    }
}
