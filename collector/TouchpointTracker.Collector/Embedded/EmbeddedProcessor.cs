using System.Threading.Channels;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's forwarder and processor in one process: touchpoints move from the in-memory buffer
/// to an in-memory bus and are staged per visitor by the same call as the Kafka processor's
/// (<see cref="JourneyProcessor.Stage"/>), counted under the same metric names, and kept for the inspection API.
/// Same stages, same order guarantees (one visitor's events stay in order) as Redis and Kafka give, and
/// the same journey engine and rules file (reloaded on change) as the Kafka processor.
/// </summary>
public sealed class EmbeddedProcessor(
    InMemoryEventBuffer buffer,
    StageRulesSource rules,
    InMemoryJourneyStore states,
    StagedEventLog log,
    MetricsRegistry metrics,
    StagingMetrics staging,
    ILogger<EmbeddedProcessor> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private readonly Channel<Touchpoint> _bus = Channel.CreateBounded<Touchpoint>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly Counter _forwarded = Forwarding.ForwarderMetrics.ForwardedCounter(metrics);
    private readonly StagingTally _tally = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        rules.Reloaded += description =>
        {
            logger.LogInformation("Stage rules reloaded: {Rules}", description);
            staging.CountReload(ok: true);
        };
        rules.ReloadFailed += ex =>
        {
            logger.LogError("Stage rules file changed but cannot be used; the previous rules stay: {Problems}", ex.Message);
            staging.CountReload(ok: false);
        };
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
            staging.CountError();
        }
        var t = _tally;
        staging.Count(t.Staged, t.Duplicates, t.Bots, t.Invalid, t.Late, t.TooLate, t.TransitionsTo);
        t.Clear();
    }
}
