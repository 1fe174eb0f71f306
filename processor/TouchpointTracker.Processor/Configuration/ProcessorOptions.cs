using TouchpointTracker.Messaging;
using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Processor.Configuration;

// The processor's own settings. Kafka, Redis and Journeys settings are the ones every service shares
// (TouchpointTracker.Messaging.KafkaOptions, RedisOptions; TouchpointTracker.Journeys.JourneyOptions).

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
    /// <summary>
    /// Journey states kept in process in front of Redis (the states this instance saved last, per owned partition;
    /// dropped when a partition is claimed again, revoked or lost). 0 turns the cache off. About 3 KB of memory each.
    /// </summary>
    [Range(0, 10_000_000)] public int StateCacheSize { get; set; } = 100_000;
    /// <summary>
    /// What this instance does: <c>staging</c> (the default: stage touchpoints, publish the staged topics) or
    /// <c>analytics</c> (read the staged topics into the analytics store and serve /api/v1 and the dashboard; one replica).
    /// </summary>
    public string Role { get; set; } = StagingRole;
    public const string StagingRole = "staging";
    public const string AnalyticsRole = "analytics";
    /// <summary>Delivers the conversion records of tt.conversions to each site's webhook (docs/conversions.md).</summary>
    public const string WebhooksRole = "webhooks";

    public bool IsAnalytics => string.Equals(Role, AnalyticsRole, StringComparison.Ordinal);

    public string LivenessPath { get; set; } = "/healthz";
    public string ReadinessPath { get; set; } = "/readyz";
    public string MetricsPath { get; set; } = "/metrics";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(InstanceId) || InstanceId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            yield return new ValidationResult($"{Section}:InstanceId must be a non-empty name without spaces (got '{InstanceId}')");
        }
        if (Role is not (StagingRole or AnalyticsRole or WebhooksRole))
        {
            yield return new ValidationResult($"{Section}:Role must be '{StagingRole}', '{AnalyticsRole}' or '{WebhooksRole}' (got '{Role}')");
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
