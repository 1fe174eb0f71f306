using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The store's upkeep in the host that writes it (the embedded collector, the processor's analytics role): a minute
/// after start-up (once the host has settled) and then every hour, it merges the sessions split across writer batches
/// (<see cref="AnalyticsWriter.MergeSplitSessionsAsync"/>), and once a day it enforces <c>Analytics:RetentionDays</c>
/// (<see cref="AnalyticsWriter.EnforceRetentionAsync"/>, which merges too). A failed run is logged and counted, and the
/// host keeps running: a failed retention is tried again at the next hour. Each run goes through the writer's loop, so
/// it never overlaps a flush.
/// </summary>
public sealed class AnalyticsUpkeep : BackgroundService
{
    public static readonly TimeSpan FirstRun = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Every = TimeSpan.FromHours(1);
    public static readonly TimeSpan RetentionEvery = TimeSpan.FromHours(24);

    /// <summary>The meter the services' own instruments are on (ServiceDefaults' <c>MetricsRegistry.MeterName</c>), so
    /// the hosts' metrics endpoint exports these with the rest.</summary>
    private const string MeterName = "TouchpointTracker";

    private readonly AnalyticsWriter _writer;
    private readonly TimeProvider _clock;
    private readonly ILogger<AnalyticsUpkeep> _logger;
    private readonly long[] _runs = new long[4]; // retention ok, retention failed, merge ok, merge failed
    private long _deleted;
    private long _merged;
    private long _retentionOkMs; // Unix ms of the last successful retention (0: none yet), read by the gauge
    private long _mergeOkMs; // of the last successful merge, retention's included

    public AnalyticsUpkeep(AnalyticsWriter writer, TimeProvider clock, ILogger<AnalyticsUpkeep> logger, IMeterFactory? meters = null)
    {
        _writer = writer;
        _clock = clock;
        _logger = logger;
        if (meters is null)
        {
            return;
        }
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("tt_analytics_upkeep_runs_total", ObserveRuns, description:
            "Analytics upkeep runs by run (retention: daily, merge: hourly split-session merge) and outcome (ok, failed).");
        meter.CreateObservableGauge("tt_analytics_upkeep_last_success_seconds", ObserveLastSuccess, unit: "s", description:
            "Unix time of the last successful run by run (retention also merges); alert when retention's is over two days old.");
        meter.CreateObservableCounter("tt_analytics_retention_deleted_total", () => Interlocked.Read(ref _deleted), description:
            "Touchpoints deleted by retention (older than Analytics:RetentionDays).");
        meter.CreateObservableCounter("tt_analytics_session_rows_merged_total", () => Interlocked.Read(ref _merged), description:
            "sessions rows merged away by the upkeep (a session's rows of one day, one per writer batch, made one).");
    }

    /// <summary>Runs so far: (retention ok, retention failed, merge ok, merge failed).</summary>
    public (long RetentionOk, long RetentionFailed, long MergeOk, long MergeFailed) Runs =>
        (Interlocked.Read(ref _runs[0]), Interlocked.Read(ref _runs[1]), Interlocked.Read(ref _runs[2]), Interlocked.Read(ref _runs[3]));

    private IEnumerable<Measurement<long>> ObserveRuns()
    {
        var (rOk, rFailed, mOk, mFailed) = Runs;
        yield return new(rOk, new("run", "retention"), new("outcome", "ok"));
        yield return new(rFailed, new("run", "retention"), new("outcome", "failed"));
        yield return new(mOk, new("run", "merge"), new("outcome", "ok"));
        yield return new(mFailed, new("run", "merge"), new("outcome", "failed"));
    }

    private IEnumerable<Measurement<double>> ObserveLastSuccess()
    {
        yield return new(Interlocked.Read(ref _retentionOkMs) / 1000.0, new KeyValuePair<string, object?>("run", "retention"));
        yield return new(Interlocked.Read(ref _mergeOkMs) / 1000.0, new KeyValuePair<string, object?>("run", "merge"));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset? lastRetention = null;
        try
        {
            await Task.Delay(FirstRun, _clock, stoppingToken);
            while (true)
            {
                var now = _clock.GetUtcNow();
                var retention = lastRetention is null || now - lastRetention.Value >= RetentionEvery;
                try
                {
                    if (retention)
                    {
                        var deleted = await _writer.EnforceRetentionAsync(now, stoppingToken);
                        lastRetention = now;
                        Interlocked.Exchange(ref _retentionOkMs, now.ToUnixTimeMilliseconds());
                        Interlocked.Exchange(ref _mergeOkMs, now.ToUnixTimeMilliseconds());
                        Interlocked.Add(ref _deleted, deleted);
                        Interlocked.Add(ref _merged, _writer.SessionRowsMerged);
                        Interlocked.Increment(ref _runs[0]);
                        _logger.LogInformation("Analytics retention: {Deleted} touchpoints older than the retention period deleted; {Merged} rows of sessions split across writer batches merged",
                            deleted, _writer.SessionRowsMerged);
                    }
                    else
                    {
                        var merged = await _writer.MergeSplitSessionsAsync(now, stoppingToken);
                        Interlocked.Exchange(ref _mergeOkMs, now.ToUnixTimeMilliseconds());
                        Interlocked.Add(ref _merged, merged);
                        Interlocked.Increment(ref _runs[2]);
                        _logger.LogDebug("Analytics upkeep: {Merged} rows of sessions split across writer batches merged", merged);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Interlocked.Increment(ref _runs[retention ? 1 : 3]);
                    _logger.LogError(ex, "Analytics {Run} failed; the upkeep runs again in an hour", retention ? "retention" : "session merge");
                }
                await Task.Delay(Every, _clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // The meter belongs to the host's meter factory (shared with the host's other instruments): not disposed here.
}
