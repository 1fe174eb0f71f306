using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Readiness: Redis answers a PING on the ingest connection within a second.</summary>
public sealed class RedisReachableHealthCheck(RedisConnections connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await connections.Ingest.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"Redis answered in {latency.TotalMilliseconds:F1} ms"));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis unreachable: " + ex.Message);
        }
    }
}
