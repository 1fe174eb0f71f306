using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>The forwarder's counters (Prometheus names <c>tt_...</c>).</summary>
public sealed class ForwarderMetrics(MetricsRegistry registry)
{
    public Counter Forwarded { get; } = ForwardedCounter(registry);
    public Counter DeliveryErrors { get; } = registry.Counter("tt_forward_delivery_errors_total", "Failed produce attempts, by error code and class (the entries are retried or dead-lettered).");
    public Counter DeadLettered { get; } = registry.Counter("tt_dead_lettered_events_total", "Entries moved to the dead-letter stream, by reason.");
    public Counter Claimed { get; } = registry.Counter("tt_forward_claimed_events_total", "Entries taken over (XAUTOCLAIM) from another forwarder that left them pending.");
    public Counter RedisErrors { get; } = registry.Counter("tt_forward_redis_errors_total", "Redis errors in the forwarder loop (the batch is read again).");
    public Counter Trimmed { get; } = registry.Counter("tt_buffer_trimmed_entries_total", "Acknowledged entries trimmed from the shard streams.");

    /// <summary>
    /// <c>tt_forwarded_events_total</c>, the one definition both modes use: distributed mode counts touchpoints
    /// Kafka confirmed and Redis acknowledged, embedded mode those handed from the buffer to the in-process bus.
    /// </summary>
    public static Counter ForwardedCounter(MetricsRegistry registry) =>
        registry.Counter("tt_forwarded_events_total", "Touchpoints forwarded from the buffer: confirmed by Kafka and acknowledged in Redis (distributed mode) or handed to the in-process bus (embedded mode).");
}
