using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics;

/// <summary>
/// Keeps the store's history to <c>Analytics:RetentionDays</c> in the host that writes it (the embedded collector,
/// the processor's analytics role): older rows are deleted a minute after start-up (once the host has settled), then
/// every day; a failed run is logged and tried again an hour later. The run itself goes through the writer's loop
/// (<see cref="AnalyticsWriter.EnforceRetentionAsync"/>), so it never overlaps a flush.
/// </summary>
public sealed class AnalyticsRetention(AnalyticsWriter writer, TimeProvider clock, ILogger<AnalyticsRetention> logger) : BackgroundService
{
    public static readonly TimeSpan FirstRun = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Every = TimeSpan.FromHours(24);
    public static readonly TimeSpan AfterFailure = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var next = FirstRun;
            while (true)
            {
                await Task.Delay(next, clock, stoppingToken);
                try
                {
                    var deleted = await writer.EnforceRetentionAsync(clock.GetUtcNow(), stoppingToken);
                    logger.LogInformation("Analytics retention: {Deleted} touchpoints older than the retention period deleted", deleted);
                    next = Every;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Analytics retention failed; it runs again in {Hours} hour(s)", AfterFailure.TotalHours);
                    next = AfterFailure;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
