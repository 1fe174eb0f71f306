using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The store's upkeep in the host that writes it (the embedded collector, the processor's analytics role): a minute
/// after start-up (once the host has settled) and then every hour, it merges the sessions split across writer batches
/// (<see cref="AnalyticsWriter.MergeSplitSessionsAsync"/>), and once a day it enforces <c>Analytics:RetentionDays</c>
/// (<see cref="AnalyticsWriter.EnforceRetentionAsync"/>, which merges too). A failed run is logged and the host keeps
/// running: a failed retention is tried again at the next hour. Each run goes through the writer's loop, so it never
/// overlaps a flush.
/// </summary>
public sealed class AnalyticsUpkeep(AnalyticsWriter writer, TimeProvider clock, ILogger<AnalyticsUpkeep> logger) : BackgroundService
{
    public static readonly TimeSpan FirstRun = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Every = TimeSpan.FromHours(1);
    public static readonly TimeSpan RetentionEvery = TimeSpan.FromHours(24);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset? lastRetention = null;
        try
        {
            await Task.Delay(FirstRun, clock, stoppingToken);
            while (true)
            {
                var now = clock.GetUtcNow();
                var retention = lastRetention is null || now - lastRetention.Value >= RetentionEvery;
                try
                {
                    if (retention)
                    {
                        var deleted = await writer.EnforceRetentionAsync(now, stoppingToken);
                        lastRetention = now;
                        logger.LogInformation("Analytics retention: {Deleted} touchpoints older than the retention period deleted; {Merged} rows of sessions split across writer batches merged",
                            deleted, writer.SessionRowsMerged);
                    }
                    else
                    {
                        var merged = await writer.MergeSplitSessionsAsync(now, stoppingToken);
                        logger.LogDebug("Analytics upkeep: {Merged} rows of sessions split across writer batches merged", merged);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Analytics {Run} failed; the upkeep runs again in an hour", retention ? "retention" : "session merge");
                }
                await Task.Delay(Every, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
