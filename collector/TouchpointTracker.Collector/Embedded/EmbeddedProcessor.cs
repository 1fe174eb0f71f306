using TouchpointTracker.Analytics;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's forwarder and processor in one process: touchpoints are taken from the in-memory buffer
/// in arrival order and staged per visitor by the same call as the Kafka processor's
/// (<see cref="JourneyProcessor.Stage"/>), counted under the same metric names, written to the analytics store
/// and kept for the inspection API. Journey states that changed are saved to <see cref="JourneyStateFile"/> once
/// per <see cref="EmbeddedStorage.SaveInterval"/>, under load or when traffic pauses; a graceful stop stages what
/// the buffer still holds, saves the states and flushes the analytics store. An event's room in the buffer is freed
/// when it is staged, so <c>Buffer:Capacity</c> bounds the events accepted and not yet staged.
/// Same stages, same order guarantees (one visitor's events stay in order) as Redis and Kafka give, and
/// the same journey engine and rules file (reloaded on change) as the Kafka processor.
/// </summary>
public sealed class EmbeddedProcessor(
    InMemoryEventBuffer buffer,
    StageRulesSource rules,
    InMemoryJourneyStore states,
    StagedEventLog log,
    ConversionRecordLog conversions,
    MetricsRegistry metrics,
    StagingMetrics staging,
    AnalyticsWriter analytics,
    EmbeddedStorage storage,
    EmbeddedIdentity identity,
    IdentityResolver resolver,
    ILogger<EmbeddedProcessor> logger) : BackgroundService
{
    private readonly Counter _forwarded = Forwarding.ForwarderMetrics.ForwardedCounter(metrics);
    private readonly StagingTally _tally = new();
    private readonly IdentityTally _identityTally = new();
    private readonly List<JourneyStep> _steps = [];
    private readonly Queue<Touchpoint> _queue = new();

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
        var restored = storage.States.Load();
        states.Restore(restored);
        logger.LogInformation("Journey states: {Count} restored from {Path}", restored.Count, storage.States.FilePath);
        lock (identity.Gate)
        {
            logger.LogInformation("Identity: {Count} persons restored from {Path}", identity.Load(), identity.FilePath);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => ProcessAsync(stoppingToken), CancellationToken.None);

    /// <summary>After the stop, how long the loop keeps staging what requests still being answered append.</summary>
    private const int DrainMs = 200;

    /// <summary>
    /// Stages touchpoints straight from the buffer, one at a time in arrival order (no intermediate queue: each hop
    /// between loops cost a thread-pool wake-up per beacon under load). Saves the changed journey states once per
    /// interval, also when traffic pauses.
    /// </summary>
    private async Task ProcessAsync(CancellationToken ct)
    {
        _lastSave = Environment.TickCount64;
        var interval = (long)storage.SaveInterval.TotalMilliseconds;
        try
        {
            while (true)
            {
                var waiting = buffer.WaitToReadAsync(ct);
                if (!waiting.IsCompleted && states.ChangedCount > 0)
                {
                    // The buffer is empty, which under load happens between most beacons: saving (an fsync) each
                    // time cost more than staging. Wait for the next touch until the save is due, and save
                    // then if nothing came, so a pause in traffic is on disk within one interval.
                    var next = waiting.AsTask();
                    var due = interval - (Environment.TickCount64 - _lastSave);
                    if (due > 0)
                    {
                        using var timer = new CancellationTokenSource();
                        if (await Task.WhenAny(next, Task.Delay(TimeSpan.FromMilliseconds(due), timer.Token)) == next)
                        {
                            timer.Cancel();
                        }
                    }
                    if (!next.IsCompleted)
                    {
                        SaveStates();
                        _lastSave = Environment.TickCount64;
                    }
                    await next;
                }
                else
                {
                    await waiting;
                }
                await StageAvailableAsync(interval);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        // Stopping: what the buffer holds was answered 202 (and requests still being answered may add to it for a
        // moment); stage it before the process ends.
        var until = Environment.TickCount64 + DrainMs;
        while (true)
        {
            await StageAvailableAsync(interval);
            if (Environment.TickCount64 >= until)
            {
                break;
            }
            await Task.Delay(10, CancellationToken.None);
        }
        SaveStates();
        await analytics.FlushAsync(CancellationToken.None);
    }

    private long _lastSave;

    /// <summary>Stages every touchpoint the buffer holds now, freeing each one's room once it is staged.</summary>
    private async Task StageAvailableAsync(long interval)
    {
        var taken = 0;
        while (buffer.TryRead(out var tp))
        {
            foreach (var step in Stage(tp))
            {
                await analytics.AddAsync(step.Staged!);
                if (step.Transition is { } transition)
                {
                    await analytics.AddAsync(transition);
                }
            }
            buffer.Release(1);
            taken++;
            if (Environment.TickCount64 - _lastSave >= interval)
            {
                SaveStates();
                _lastSave = Environment.TickCount64;
            }
        }
        if (taken > 0)
        {
            _forwarded.Inc(by: taken);
        }
    }

    private void SaveStates()
    {
        try
        {
            storage.States.Append(states.TakeChanged(), states.Count, states.All);
            lock (identity.Gate)
            {
                identity.SaveIfChanged();
            }
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "Could not save journey states to {Path}; they are kept in memory and saved with the next change", storage.States.FilePath);
        }
    }

    /// <summary>
    /// Stages one touch with identity, and the touches it brings back (an offline event matched to a visitor, unmatched
    /// events matched by an identifier it taught); returns the staged steps. A touch the engine fails on is logged and
    /// counted as an error.
    /// </summary>
    private List<JourneyStep> Stage(Touchpoint first)
    {
        _steps.Clear();
        _queue.Enqueue(first);
        lock (identity.Gate)
        {
            var stager = new IdentityStager(rules.Current, resolver);
            while (_queue.TryDequeue(out var tp))
            {
                try
                {
                    var step = stager.Stage(tp, identity.State, _tally, _identityTally);
                    if (step.Step.Outcome == TouchOutcome.Staged)
                    {
                        states.MarkChanged(tp.SiteId, tp.VisitorId);
                        log.Add(step.Step.Staged!);
                        _steps.Add(step.Step);
                        if (step.Step.Conversion is not null && step.State is not null)
                        {
                            // what the processor publishes on tt.conversions, from the state as this touch left it
                            conversions.Add(ConversionRecord.Build(step.Step.Staged!, step.State, rules.Current.Settings.Currencies)!);
                        }
                    }
                    foreach (var again in step.Rekeyed)
                    {
                        _queue.Enqueue(again);
                    }
                }
                catch (Exception ex)
                {
                    // One bad touchpoint must not stop the pipeline; it is logged with its id.
                    logger.LogError(ex, "Could not stage event {EventId} of site {Site}", tp.EventId, tp.SiteId);
                    staging.CountError();
                }
            }
        }
        var t = _tally;
        staging.Count(t.Staged, t.Duplicates, t.Bots, t.Invalid, t.Late, t.TooLate, t.TransitionsTo);
        staging.CountConversions(t.ConversionTypes, t.DuplicateConversions, t.UnknownCurrency);
        t.Clear();
        var i = _identityTally;
        staging.CountIdentity(i.Linked, i.Merged, i.Junk, i.CapRefused, i.Relinked, i.Matched, i.Unmatched, i.Rematched);
        i.Clear();
        return _steps;
    }
}
