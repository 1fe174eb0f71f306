using System.ComponentModel.DataAnnotations;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>
/// The Kafka side of the forwarder (section <c>Kafka</c>; environment variables <c>Kafka__BootstrapServers</c>, ...).
/// Setting <see cref="BootstrapServers"/> (with <c>Redis:Configuration</c>) selects the distributed mode.
/// </summary>
public sealed class KafkaOptions : IValidatableObject
{
    public const string Section = "Kafka";

    internal static readonly string[] Compressions = ["lz4", "zstd", "snappy", "gzip", "none"];

    [Required(ErrorMessage = "Kafka:BootstrapServers (environment variable Kafka__BootstrapServers) is required in the distributed mode.")]
    public string BootstrapServers { get; set; } = "";

    /// <summary>Topic of enriched touchpoints, keyed by <c>site:visitor</c>.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "Kafka:TouchpointsTopic must be 1 to 249 letters, digits, '.', '_' or '-'.")]
    public string TouchpointsTopic { get; set; } = "tt.touchpoints";

    /// <summary>Partitions of the touchpoints topic when the forwarder creates it.</summary>
    [Range(1, 10_000, ErrorMessage = "Kafka:TouchpointsPartitions must be between 1 and 10000.")]
    public int TouchpointsPartitions { get; set; } = 12;

    /// <summary>Replication factor when the forwarder creates the topic; -1 leaves it to the broker's default.</summary>
    [Range(-1, 32, ErrorMessage = "Kafka:ReplicationFactor must be -1 (broker default) or between 1 and 32.")]
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>Create the topic at start-up when it is absent (needs the broker's permission; failures are logged, not fatal).</summary>
    public bool CreateTopics { get; set; } = true;

    /// <summary>lz4, zstd, snappy, gzip or none.</summary>
    public string Compression { get; set; } = "lz4";

    [Range(0, 1_000, ErrorMessage = "Kafka:LingerMs must be between 0 and 1000.")]
    public int LingerMs { get; set; } = 5;

    /// <summary>
    /// How long the producer keeps trying one message before reporting it failed. A failed message is not
    /// lost: it stays pending in Redis and the forwarder produces it again after a back-off.
    /// </summary>
    [Range(1_000, 3_600_000, ErrorMessage = "Kafka:MessageTimeoutMs must be between 1000 and 3600000.")]
    public int MessageTimeoutMs { get; set; } = 30_000;

    /// <summary>Largest touchpoint forwarded; larger entries go to the dead-letter stream. Keep it at or below the topic's max.message.bytes.</summary>
    [Range(1_024, 100_000_000, ErrorMessage = "Kafka:MaxMessageBytes must be between 1024 and 100000000.")]
    public int MaxMessageBytes { get; set; } = 1_000_000;

    public string ClientId { get; set; } = "tt-collector";

    /// <summary>
    /// On Linux, a librdkafka shared library to use instead of the ones shipped with the collector
    /// (runtimes/&lt;rid&gt;/native, whichever of its builds loads on this system). See <see cref="Librdkafka"/>.
    /// </summary>
    public string? LibrdkafkaPath { get; set; }

    /// <summary>
    /// Further librdkafka settings, applied last (security.protocol, sasl.mechanism, ssl.ca.location, ...):
    /// <c>Kafka:Properties:security.protocol</c>, environment variable <c>Kafka__Properties__security.protocol</c>.
    /// </summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Compressions.Contains(Compression, StringComparer.Ordinal))
        {
            yield return new ValidationResult($"Kafka:Compression must be one of {string.Join(", ", Compressions)} (got '{Compression}').", [nameof(Compression)]);
        }
        if (ReplicationFactor == 0)
        {
            yield return new ValidationResult("Kafka:ReplicationFactor must be -1 (broker default) or at least 1.", [nameof(ReplicationFactor)]);
        }
        if (TouchpointsTopic is "." or "..")
        {
            yield return new ValidationResult("Kafka:TouchpointsTopic may not be '.' or '..'.", [nameof(TouchpointsTopic)]);
        }
        foreach (var key in new[] { "enable.idempotence", "acks", "bootstrap.servers" })
        {
            if (Properties.ContainsKey(key))
            {
                yield return new ValidationResult($"Kafka:Properties:{key} may not be overridden: the forwarder's delivery guarantee depends on it.", [nameof(Properties)]);
            }
        }
        if (Librdkafka.PathSettingProblem(LibrdkafkaPath) is { } problem)
        {
            yield return new ValidationResult(problem, [nameof(LibrdkafkaPath)]);
        }
    }
}
