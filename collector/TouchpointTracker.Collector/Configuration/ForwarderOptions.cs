using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>
/// The forwarder that moves buffered touchpoints from Redis to Kafka (section <c>Forwarder</c>;
/// environment variables <c>Forwarder__Enabled</c>, ...). It runs in every collector; shard leases
/// decide which instance forwards which shard.
/// </summary>
public sealed class ForwarderOptions : IValidatableObject
{
    public const string Section = "Forwarder";

    /// <summary>Run the forwarder in this process. Collectors with it off only buffer.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Entries read from a shard, produced, and acknowledged together.</summary>
    [Range(1, 10_000, ErrorMessage = "Forwarder:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// After a read that returned fewer than <see cref="BatchSize"/> entries, the next read of that shard waits until
    /// this long after it started, so the entries arriving meanwhile gather into one larger batch: fewer reads,
    /// acknowledgements and Kafka requests per entry. A full batch is followed by the next read at once, so a backlog
    /// drains at full speed. 0 reads again at once. Adds at most this much to an entry's time to Kafka.
    /// </summary>
    [Range(0, 1_000, ErrorMessage = "Forwarder:FillWaitMs must be between 0 and 1000.")]
    public int FillWaitMs { get; set; } = 20;

    /// <summary>Pause after a read that found nothing new.</summary>
    [Range(1, 10_000, ErrorMessage = "Forwarder:PollIntervalMs must be between 1 and 10000.")]
    public int PollIntervalMs { get; set; } = 20;

    /// <summary>
    /// How long a shard lease lasts without renewal. A dead instance's shards are taken over after it;
    /// renewal happens every third of it.
    /// </summary>
    [Range(500, 600_000, ErrorMessage = "Forwarder:LeaseMs must be between 500 and 600000.")]
    public int LeaseMs { get; set; } = 10_000;

    /// <summary>Entries another consumer left pending at least this long are claimed (XAUTOCLAIM) and forwarded.</summary>
    [Range(500, 3_600_000, ErrorMessage = "Forwarder:ClaimIdleMs must be between 500 and 3600000.")]
    public int ClaimIdleMs { get; set; } = 30_000;

    /// <summary>How often acknowledged entries are trimmed from a shard.</summary>
    [Range(100, 600_000, ErrorMessage = "Forwarder:TrimIntervalMs must be between 100 and 600000.")]
    public int TrimIntervalMs { get; set; } = 1_000;

    /// <summary>How often buffer metrics (length, pending, oldest entry) are read from Redis.</summary>
    [Range(100, 600_000, ErrorMessage = "Forwarder:MonitorIntervalMs must be between 100 and 600000.")]
    public int MonitorIntervalMs { get; set; } = 1_000;

    [Range(10, 60_000, ErrorMessage = "Forwarder:RetryBackoffMinMs must be between 10 and 60000.")]
    public int RetryBackoffMinMs { get; set; } = 100;

    [Range(10, 600_000, ErrorMessage = "Forwarder:RetryBackoffMaxMs must be between 10 and 600000.")]
    public int RetryBackoffMaxMs { get; set; } = 5_000;

    /// <summary>A batch waiting this long for Kafka's delivery reports turns readiness red.</summary>
    [Range(100, 600_000, ErrorMessage = "Forwarder:DeliveryStallMs must be between 100 and 600000.")]
    public int DeliveryStallMs { get; set; } = 5_000;

    /// <summary>On shutdown: time given to in-flight batches and the producer flush. Entries still pending afterwards are claimed by another instance.</summary>
    [Range(0, 300_000, ErrorMessage = "Forwarder:DrainMs must be between 0 and 300000.")]
    public int DrainMs { get; set; } = 10_000;

    /// <summary>
    /// Whether Kafka delivery problems turn this collector's readiness red. Collectors keep accepting
    /// into Redis during a Kafka outage; set false to keep them in the load balancer meanwhile.
    /// </summary>
    public bool KafkaAffectsReadiness { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryBackoffMaxMs < RetryBackoffMinMs)
        {
            yield return new ValidationResult("Forwarder:RetryBackoffMaxMs must not be below Forwarder:RetryBackoffMinMs.", [nameof(RetryBackoffMaxMs)]);
        }
    }
}
