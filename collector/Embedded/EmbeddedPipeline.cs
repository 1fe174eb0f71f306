using System.Threading.Channels;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The whole pipeline in one process: the forwarder moves touchpoints from the in-memory buffer to an
/// in-memory bus, and the processor stages them per visitor and keeps them for the inspection API.
/// Same stages, same order guarantees (one visitor's events stay in order) as Redis and Kafka give.
/// </summary>
public sealed class EmbeddedPipeline(
    InMemoryEventBuffer buffer,
    JourneyProcessor journeys,
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
    private readonly Counter _staged = metrics.Counter("tt_staged_events_total", "Touchpoints staged by the processor.");
    private readonly Counter _duplicates = metrics.Counter("tt_duplicate_events_total", "Touchpoints dropped because their event id was already staged.");
    private readonly Counter _transitions = metrics.Counter("tt_stage_transitions_total", "Journey stage changes, by stage reached.");

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
            var state = states.GetOrCreate(tp.SiteId, tp.VisitorId);
            var step = journeys.Apply(tp, state);
            if (step.IsDuplicate)
            {
                _duplicates.Inc();
                return;
            }
            _staged.Inc();
            if (step.StageChanged)
            {
                _transitions.Inc(MetricsRegistry.Labels(("stage", step.Staged!.Journey!.Stage)));
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
