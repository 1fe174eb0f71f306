using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace TouchpointTracker.Processor.Hosting;

/// <summary>Readiness: Redis answers a PING.</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:0.0} ms");
        }
        catch (RedisException ex)
        {
            return HealthCheckResult.Unhealthy("Redis: " + ex.Message);
        }
    }
}
