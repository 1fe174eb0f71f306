using System.ComponentModel.DataAnnotations;
using TouchpointTracker.Journeys;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Processor.Configuration;

// One options class per concern, bound from configuration and validated at start-up: a bad setting stops
// the process with a message naming it (as a configuration key; environment variables use "__" for ":",
// e.g. Kafka__BootstrapServers).

/// <summary>The processor itself (section <c>Processor</c>).</summary>
public sealed class ProcessorOptions : IValidatableObject
{
    public const string Section = "Processor";

    /// <summary>
    /// This instance's stable name. It names the Kafka transactional id, so a restarted instance fences
    /// and aborts what its previous run left open. Give each replica its own (a StatefulSet pod name).
    /// </summary>
    public string InstanceId { get; set; } = Environment.MachineName;
    /// <summary>Most touchpoints staged in one transaction.</summary>
    [Range(1, 100_000)] public int MaxBatchSize { get; set; } = 1000;
    /// <summary>How long a batch waits to fill up once its first touchpoint arrived.</summary>
    [Range(0, 10_000)] public int MaxBatchWaitMs { get; set; } = 50;
    public string LivenessPath { get; set; } = "/healthz";
    public string ReadinessPath { get; set; } = "/readyz";
    public string MetricsPath { get; set; } = "/metrics";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(InstanceId) || InstanceId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            yield return new ValidationResult($"{Section}:InstanceId must be a non-empty name without spaces (got '{InstanceId}')");
        }
        foreach (var (name, path) in new[] { (nameof(LivenessPath), LivenessPath), (nameof(ReadinessPath), ReadinessPath), (nameof(MetricsPath), MetricsPath) })
        {
            if (string.IsNullOrWhiteSpace(path) || path[0] != '/')
            {
                yield return new ValidationResult($"{Section}:{name} must be an absolute path such as /x (got '{path}')");
            }
        }
    }
}

/// <summary>Kafka topics, group and client settings (section <c>Kafka</c>).</summary>
public sealed class KafkaOptions : IValidatableObject
{
    public const string Section = "Kafka";

    /// <summary>Brokers, host:port[,host:port...]. Required.</summary>
    public string? BootstrapServers { get; set; }
    public string InputTopic { get; set; } = "tt.touchpoints";
    public string StagedTopic { get; set; } = "tt.touchpoints.staged";
    public string TransitionsTopic { get; set; } = "tt.stage-transitions";
    public string GroupId { get; set; } = "tt-processor";
    /// <summary>
    /// Publish each batch's outputs and input offsets in one Kafka transaction (default). Turn off only for a
    /// Kafka-compatible service without transactions: outputs are still published once (see docs/processor.md),
    /// but a processor that lost its partitions while paused is no longer fenced by the broker.
    /// </summary>
    public bool Transactional { get; set; } = true;
    public string TransactionalIdPrefix { get; set; } = "tt-processor";
    [Range(1000, 900_000)] public int TransactionTimeoutMs { get; set; } = 60_000;
    [Range(1000, 300_000)] public int SessionTimeoutMs { get; set; } = 45_000;
    /// <summary>librdkafka fetch.wait.max.ms; leave empty for the library default (tests use about 5).</summary>
    [Range(0, 10_000)] public int? FetchWaitMaxMs { get; set; }
    /// <summary>Create the output topics (with the input topic's partition count) when they are missing.</summary>
    public bool CreateTopics { get; set; } = true;
    /// <summary>Replication factor of created topics; -1 for the broker default.</summary>
    [Range(-1, 32)] public short ReplicationFactor { get; set; } = -1;
    /// <summary>Further librdkafka properties for every client (security.protocol, sasl.*...).</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);
    /// <summary>On Linux, a librdkafka shared library to use instead of the ones shipped in librdkafka.redist (see <see cref="Librdkafka"/>).</summary>
    public string? LibrdkafkaPath { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            yield return new ValidationResult($"{Section}:BootstrapServers is required (host:port of the Kafka brokers; environment variable Kafka__BootstrapServers)");
        }
        var topics = new[] { (nameof(InputTopic), InputTopic), (nameof(StagedTopic), StagedTopic), (nameof(TransitionsTopic), TransitionsTopic) };
        foreach (var (name, topic) in topics)
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Length > 249 || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                yield return new ValidationResult($"{Section}:{name} must be a Kafka topic name (letters, digits, '.', '_', '-'; got '{topic}')");
            }
        }
        if (topics.Select(t => t.Item2).Distinct(StringComparer.Ordinal).Count() != topics.Length)
        {
            yield return new ValidationResult($"{Section}: InputTopic, StagedTopic and TransitionsTopic must differ");
        }
        if (string.IsNullOrWhiteSpace(GroupId))
        {
            yield return new ValidationResult($"{Section}:GroupId is required");
        }
        if (Transactional && string.IsNullOrWhiteSpace(TransactionalIdPrefix))
        {
            yield return new ValidationResult($"{Section}:TransactionalIdPrefix is required when {Section}:Transactional is true");
        }
        if (Librdkafka.PathSettingProblem(LibrdkafkaPath) is { } problem)
        {
            yield return new ValidationResult(problem, [nameof(LibrdkafkaPath)]);
        }
    }
}

/// <summary>Redis, where journey state lives (section <c>Redis</c>).</summary>
public sealed class RedisOptions : IValidatableObject
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string, e.g. <c>localhost:6379,abortConnect=false</c>. Required.</summary>
    public string? Configuration { get; set; }
    /// <summary>Prefix of every key the processor writes.</summary>
    public string KeyPrefix { get; set; } = "tt:journey";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            yield return new ValidationResult($"{Section}:Configuration is required (e.g. localhost:6379; environment variable Redis__Configuration)");
        }
        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.Contains('{', StringComparison.Ordinal) || KeyPrefix.Contains('}', StringComparison.Ordinal))
        {
            yield return new ValidationResult($"{Section}:KeyPrefix must be non-empty and without braces (got '{KeyPrefix}')");
        }
    }
}

/// <summary>Journey staging (section <c>Journeys</c>; the collector's embedded mode reads the same section).</summary>
public sealed class JourneyOptions : IValidatableObject
{
    public const string Section = "Journeys";

    /// <summary>The stage rules file (YAML or JSON); empty for the rules that ship with the product. Reloaded on change.</summary>
    public string? RulesPath { get; set; }
    /// <summary>Days without a touch after which a journey ends; the next touch starts a new one.</summary>
    [Range(1, 3650)] public int InactivityDays { get; set; } = 30;
    /// <summary>Minutes without a touch after which a session ends.</summary>
    [Range(1, 1440)] public int SessionTimeoutMinutes { get; set; } = 30;
    /// <summary>How much older than a journey's latest touch an event may be and still be placed in the session it belongs to.</summary>
    [Range(0, 60 * 24 * 90)] public int LateEventWindowMinutes { get; set; } = 1440;
    /// <summary>How often the rules file is checked for changes; 0 to never reload.</summary>
    [Range(0, 3600)] public int ReloadIntervalSeconds { get; set; } = 1;

    public JourneySettings ToSettings() => new(
        TimeSpan.FromDays(InactivityDays), TimeSpan.FromMinutes(SessionTimeoutMinutes), TimeSpan.FromMinutes(LateEventWindowMinutes));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LateEventWindowMinutes >= InactivityDays * 1440)
        {
            yield return new ValidationResult($"{Section}:LateEventWindowMinutes ({LateEventWindowMinutes}) must be shorter than {Section}:InactivityDays ({InactivityDays} days)");
        }
        if (!string.IsNullOrWhiteSpace(RulesPath) && !File.Exists(RulesPath))
        {
            yield return new ValidationResult($"{Section}:RulesPath: no rules file at '{Path.GetFullPath(RulesPath)}'");
        }
    }
}
