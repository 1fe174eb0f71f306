using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Messaging;

/// <summary>
/// Kafka, for every service (section <c>Kafka</c>; environment variables <c>Kafka__BootstrapServers</c>, ...).
/// One model for the collector's forwarder and the processor: the connection, the topic names and the
/// client settings they share, then the settings only one of them reads (marked so). Setting
/// <see cref="BootstrapServers"/> (with <c>Redis:Configuration</c>) selects the collector's distributed mode.
/// </summary>
public sealed class KafkaOptions : IValidatableObject
{
    public const string Section = "Kafka";

    internal static readonly string[] Compressions = ["lz4", "zstd", "snappy", "gzip", "none"];

    /// <summary>Brokers, <c>host:port[,host:port...]</c>. Required wherever Kafka is used.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>Enriched touchpoints, keyed by <c>site:visitor</c>: the forwarder writes it, the processor reads it.</summary>
    public string TouchpointsTopic { get; set; } = "tt.touchpoints";
    /// <summary>Staged touchpoints, published by the processor.</summary>
    public string StagedTopic { get; set; } = "tt.touchpoints.staged";
    /// <summary>Stage changes, published by the processor.</summary>
    public string TransitionsTopic { get; set; } = "tt.stage-transitions";
    /// <summary>Conversion records (a conversion and the journey behind it, docs/conversions.md), published by the processor.</summary>
    public string ConversionsTopic { get; set; } = "tt.conversions";

    /// <summary>The former name of <see cref="TouchpointsTopic"/> in the processor; refused with a message naming the new key.</summary>
    public string? InputTopic { get; set; }

    /// <summary>Create missing topics at start-up (needs the broker's permission).</summary>
    public bool CreateTopics { get; set; } = true;
    /// <summary>Replication factor of created topics; -1 leaves it to the broker's default.</summary>
    [Range(-1, 32, ErrorMessage = "Kafka:ReplicationFactor must be -1 (broker default) or between 1 and 32.")]
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>Client id prefix; empty for the service's own name (<c>tt-collector</c>, <c>tt-processor</c>).</summary>
    public string? ClientId { get; set; }

    /// <summary>librdkafka <c>fetch.wait.max.ms</c> for consumers; empty for the library default (tests use about 5).</summary>
    [Range(0, 10_000, ErrorMessage = "Kafka:FetchWaitMaxMs must be between 0 and 10000.")]
    public int? FetchWaitMaxMs { get; set; }

    /// <summary>
    /// Further librdkafka settings for every client, applied last (security.protocol, sasl.mechanism,
    /// ssl.ca.location, ...): <c>Kafka:Properties:security.protocol</c>, environment variable
    /// <c>Kafka__Properties__security.protocol</c>.
    /// </summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// On Linux, a librdkafka shared library to use instead of the ones shipped with the service
    /// (runtimes/&lt;rid&gt;/native, whichever of its builds loads on this system). See <see cref="Librdkafka"/>.
    /// </summary>
    public string? LibrdkafkaPath { get; set; }

    // ---- the collector's forwarder ----

    /// <summary>Forwarder: partitions of the touchpoints topic when it creates it.</summary>
    [Range(1, 10_000, ErrorMessage = "Kafka:TouchpointsPartitions must be between 1 and 10000.")]
    public int TouchpointsPartitions { get; set; } = 12;
    /// <summary>Producers: lz4, zstd, snappy, gzip or none.</summary>
    public string Compression { get; set; } = "lz4";
    /// <summary>Producers: how long a batch of messages waits to fill up.</summary>
    [Range(0, 1_000, ErrorMessage = "Kafka:LingerMs must be between 0 and 1000.")]
    public int LingerMs { get; set; } = 5;
    /// <summary>
    /// Forwarder: how long the producer keeps trying one message before reporting it failed. A failed message
    /// is not lost: it stays pending in Redis and the forwarder produces it again after a back-off.
    /// </summary>
    [Range(1_000, 3_600_000, ErrorMessage = "Kafka:MessageTimeoutMs must be between 1000 and 3600000.")]
    public int MessageTimeoutMs { get; set; } = 30_000;
    /// <summary>Forwarder: largest touchpoint forwarded; larger entries go to the dead-letter stream. Keep it at or below the topic's max.message.bytes.</summary>
    [Range(1_024, 100_000_000, ErrorMessage = "Kafka:MaxMessageBytes must be between 1024 and 100000000.")]
    public int MaxMessageBytes { get; set; } = 1_000_000;

    // ---- the processor ----

    /// <summary>Processor: the consumer group of every processor instance.</summary>
    public string GroupId { get; set; } = "tt-processor";
    /// <summary>
    /// Processor: publish each batch's outputs and input offsets in one Kafka transaction (default). Turn off
    /// only for a Kafka-compatible service without transactions: outputs are still published once (see
    /// docs/processor.md), but a processor that lost its partitions while paused is no longer fenced by the broker.
    /// </summary>
    public bool Transactional { get; set; } = true;
    /// <summary>Processor: prefix of the transactional id (the instance id follows).</summary>
    public string TransactionalIdPrefix { get; set; } = "tt-processor";
    [Range(1000, 900_000, ErrorMessage = "Kafka:TransactionTimeoutMs must be between 1000 and 900000.")]
    public int TransactionTimeoutMs { get; set; } = 60_000;
    [Range(1000, 300_000, ErrorMessage = "Kafka:SessionTimeoutMs must be between 1000 and 300000.")]
    public int SessionTimeoutMs { get; set; } = 45_000;

    /// <summary>Client settings whose value the delivery guarantees depend on: never taken from <see cref="Properties"/>.</summary>
    public static readonly string[] ProtectedProperties = ["enable.idempotence", "acks", "bootstrap.servers", "transactional.id", "isolation.level", "enable.auto.commit"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            yield return new ValidationResult("Kafka:BootstrapServers is required (host:port of the Kafka brokers; environment variable Kafka__BootstrapServers).", [nameof(BootstrapServers)]);
        }
        if (InputTopic is not null)
        {
            yield return new ValidationResult($"Kafka:InputTopic was renamed Kafka:TouchpointsTopic (one name for the topic both services use); set Kafka:TouchpointsTopic={InputTopic} instead.", [nameof(InputTopic)]);
        }
        var topics = new[] { (nameof(TouchpointsTopic), TouchpointsTopic), (nameof(StagedTopic), StagedTopic), (nameof(TransitionsTopic), TransitionsTopic), (nameof(ConversionsTopic), ConversionsTopic) };
        foreach (var (name, topic) in topics)
        {
            if (!IsTopicName(topic))
            {
                yield return new ValidationResult($"Kafka:{name} must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', not '.' or '..' (got '{topic}').", [name]);
            }
        }
        if (topics.Select(t => t.Item2).Distinct(StringComparer.Ordinal).Count() != topics.Length)
        {
            yield return new ValidationResult("Kafka:TouchpointsTopic, Kafka:StagedTopic, Kafka:TransitionsTopic and Kafka:ConversionsTopic must differ.", [nameof(TouchpointsTopic)]);
        }
        if (!Compressions.Contains(Compression, StringComparer.Ordinal))
        {
            yield return new ValidationResult($"Kafka:Compression must be one of {string.Join(", ", Compressions)} (got '{Compression}').", [nameof(Compression)]);
        }
        if (ReplicationFactor == 0)
        {
            yield return new ValidationResult("Kafka:ReplicationFactor must be -1 (broker default) or at least 1.", [nameof(ReplicationFactor)]);
        }
        if (ClientId is not null && (ClientId.Length == 0 || ClientId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            yield return new ValidationResult($"Kafka:ClientId must be a name without spaces (got '{ClientId}').", [nameof(ClientId)]);
        }
        if (string.IsNullOrWhiteSpace(GroupId))
        {
            yield return new ValidationResult("Kafka:GroupId is required.", [nameof(GroupId)]);
        }
        if (Transactional && string.IsNullOrWhiteSpace(TransactionalIdPrefix))
        {
            yield return new ValidationResult("Kafka:TransactionalIdPrefix is required when Kafka:Transactional is true.", [nameof(TransactionalIdPrefix)]);
        }
        foreach (var key in ProtectedProperties)
        {
            if (Properties.ContainsKey(key))
            {
                yield return new ValidationResult($"Kafka:Properties:{key} may not be overridden: the delivery guarantees depend on it.", [nameof(Properties)]);
            }
        }
        if (Librdkafka.PathSettingProblem(LibrdkafkaPath) is { } problem)
        {
            yield return new ValidationResult(problem, [nameof(LibrdkafkaPath)]);
        }
    }

    private static bool IsTopicName(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 249 && topic is not ("." or "..") &&
        topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
