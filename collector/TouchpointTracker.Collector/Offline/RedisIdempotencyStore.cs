using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Messaging;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Offline;

/// <summary>
/// The distributed mode's <c>Idempotency-Key</c> answers, shared by every collector behind the load balancer: one
/// string per key, <c>{prefix}:idem:{site}:{key}</c>, written with <c>SET ... NX PX</c> (the first answer wins, it
/// expires after <see cref="OfflineOptions.IdempotencyHours"/>). A retry that reaches another collector gets the
/// first answer back. Answers over <see cref="OfflineOptions.IdempotencyBytesPerSite"/> are not kept, as in memory;
/// the count of keys is bounded by their age only (Redis evicts nothing of the buffer's: size it with the answers in
/// mind, see docs/offline.md). If Redis cannot be read the request is processed (the processor's event-id
/// deduplication still keeps a retried event from counting twice); if the answer cannot be kept the request is
/// answered all the same. Both are counted.
/// </summary>
public sealed class RedisIdempotencyStore(RedisConnections connections, RedisOptions redis, OfflineOptions options, MetricsRegistry metrics,
    ILogger<RedisIdempotencyStore> logger) : IIdempotencyStore
{
    private static readonly LabelSet Read = MetricsRegistry.Labels(("operation", "read"));
    private static readonly LabelSet Write = MetricsRegistry.Labels(("operation", "write"));
    private readonly TimeSpan _ttl = TimeSpan.FromHours(options.IdempotencyHours);
    private readonly Counter _failures = metrics.Counter("tt_offline_idempotency_failures_total",
        "Idempotency-Key answers that could not be read from or kept in Redis, by operation.");

    public string Where => "in Redis, shared by every collector";

    public static string KeyOf(string prefix, string site, string key) => $"{prefix}:idem:{site}:{key}";

    public async ValueTask<byte[]?> GetAsync(string site, string key, CancellationToken cancellationToken)
    {
        if (options.IdempotencyKeysPerSite == 0)
        {
            return null;
        }
        try
        {
            var value = await connections.Ingest.GetDatabase().StringGetAsync(KeyOf(redis.KeyPrefix, site, key)).ConfigureAwait(false);
            return value.HasValue ? (byte[]?)value : null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _failures.Inc(Read);
            logger.LogWarning(ex, "Idempotency-Key answers cannot be read from Redis; the request is processed");
            return null;
        }
    }

    public async ValueTask StoreAsync(string site, string key, byte[] answer, CancellationToken cancellationToken)
    {
        if (options.IdempotencyKeysPerSite == 0 || answer.Length > options.IdempotencyBytesPerSite)
        {
            return;
        }
        try
        {
            await connections.Ingest.GetDatabase().StringSetAsync(KeyOf(redis.KeyPrefix, site, key), answer, _ttl, When.NotExists).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _failures.Inc(Write);
            logger.LogWarning(ex, "An Idempotency-Key answer could not be kept in Redis; a retry of that request will be processed again");
        }
    }
}
