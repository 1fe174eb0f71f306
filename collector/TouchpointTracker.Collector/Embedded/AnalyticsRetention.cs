using TouchpointTracker.Analytics;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's history is kept <c>Analytics:RetentionDays</c>: older rows are deleted a minute after
/// start-up and then every day (the processor's analytics role does the same in its sink).
/// </summary>
public sealed class AnalyticsRetention(AnalyticsWriter writer, TimeProvider clock, ILogger<AnalyticsRetention> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRun = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Every = TimeSpan.FromHours(24);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(FirstRun, clock, stoppingToken);
            using var timer = new PeriodicTimer(Every, clock);
            do
            {
                try
                {
                    var deleted = await writer.EnforceRetentionAsync(clock.GetUtcNow(), stoppingToken);
                    logger.LogInformation("Analytics retention: {Deleted} touchpoints older than the retention period deleted", deleted);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Analytics retention failed; it runs again tomorrow");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
