using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Messaging;

/// <summary>
/// Redis, for every service (section <c>Redis</c>; environment variables <c>Redis__Configuration</c>, ...):
/// the collector's stream buffer and the processor's journey state. Setting <see cref="Configuration"/>
/// (with <c>Kafka:BootstrapServers</c>) selects the collector's distributed mode.
/// </summary>
public sealed class RedisOptions : IValidatableObject
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis-1:6379,password=...,ssl=true</c>. Required wherever Redis is used.</summary>
    public string Configuration { get; set; } = "";

    /// <summary>
    /// First part of every key: the buffer's <c>{prefix}:{s0}:events</c>, <c>{prefix}:{s0}:dead</c>, ...; the
    /// processor's journey state under <c>{prefix}:journey:</c>.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,32}$", ErrorMessage = "Redis:KeyPrefix must be 1 to 32 letters, digits, '_', '.' or '-'.")]
    public string KeyPrefix { get; set; } = "tt";

    // ---- the collector's buffer ----

    /// <summary>
    /// Buffer: number of streams the buffer is split into. A visitor always maps to the same shard, so order per
    /// visitor holds; shards are the unit of forwarding parallelism and, under Redis Cluster, of placement
    /// (the <c>{sN}</c> hash tag keeps a shard's keys in one slot). Change it only with an empty buffer.
    /// </summary>
    [Range(1, 1024, ErrorMessage = "Redis:Shards must be between 1 and 1024.")]
    public int Shards { get; set; } = 4;

    /// <summary>Buffer: entries one shard stream may hold before the collector answers 503 (acknowledged entries awaiting trim included).</summary>
    [Range(100, 1_000_000_000, ErrorMessage = "Redis:HighWaterMark must be between 100 and 1000000000 entries per shard.")]
    public long HighWaterMark { get; set; } = 1_000_000;

    /// <summary>Buffer: longest wait for Redis to confirm a batch before the collector answers 503.</summary>
    [Range(10, 60_000, ErrorMessage = "Redis:AppendTimeoutMs must be between 10 and 60000.")]
    public int AppendTimeoutMs { get; set; } = 1_000;

    /// <summary>
    /// Buffer: append calls one collector keeps on their way to Redis at once. Requests that arrive while that many
    /// are out share the next call (group commit), so under load one script call carries many requests' batches.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Redis:AppendCallsInFlight must be between 1 and 64.")]
    public int AppendCallsInFlight { get; set; } = 2;

    /// <summary>Buffer: the consumer group the forwarders of every collector share.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Redis:ConsumerGroup must be 1 to 64 letters, digits, '_', '.' or '-'.")]
    public string ConsumerGroup { get; set; } = "forwarder";

    /// <summary>Buffer: entries kept per dead-letter stream (approximately; older dead letters are dropped first).</summary>
    [Range(100, 100_000_000, ErrorMessage = "Redis:DeadLetterMaxLength must be between 100 and 100000000.")]
    public int DeadLetterMaxLength { get; set; } = 100_000;

    /// <summary>The key prefix of the processor's journey state.</summary>
    public string JourneyKeyPrefix => KeyPrefix + ":journey";

    /// <summary>The processor's identity state (persons, identifier index, unmatched offline events): <c>&lt;KeyPrefix&gt;:identity:{site}:...</c>.</summary>
    public string IdentityKeyPrefix => KeyPrefix + ":identity";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            yield return new ValidationResult("Redis:Configuration is required (e.g. localhost:6379; environment variable Redis__Configuration).", [nameof(Configuration)]);
            yield break;
        }
        string? problem = null;
        try
        {
            var parsed = StackExchange.Redis.ConfigurationOptions.Parse(Configuration);
            if (parsed.EndPoints.Count == 0)
            {
                problem = "it names no endpoint";
            }
        }
        catch (ArgumentException ex)
        {
            problem = ex.Message;
        }
        if (problem is not null)
        {
            yield return new ValidationResult($"Redis:Configuration is not a valid StackExchange.Redis configuration string: {problem}", [nameof(Configuration)]);
        }
    }
}
