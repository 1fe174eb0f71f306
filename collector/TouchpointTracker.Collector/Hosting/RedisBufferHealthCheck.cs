using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Readiness: every shard stream is below 90% of its high-water mark (at 100% the collector answers 503).</summary>
public sealed class RedisBufferHealthCheck(RedisBufferState state, IOptions<RedisOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (state.Error is { } error)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Buffer state unknown: " + error));
        }
        var highWater = options.Value.HighWaterMark;
        var longest = state.LongestShard;
        var description = string.Create(CultureInfo.InvariantCulture,
            $"longest shard {longest} of {highWater} entries; {state.TotalLength} buffered in {state.ShardCount} shards; oldest unforwarded {state.OldestAge().TotalSeconds:F1}s");
        return Task.FromResult(longest >= highWater * 0.9 ? HealthCheckResult.Unhealthy("Buffer near its high-water mark: " + description) : HealthCheckResult.Healthy(description));
    }
}
