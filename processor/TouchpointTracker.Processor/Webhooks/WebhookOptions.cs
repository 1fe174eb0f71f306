using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Processor.Webhooks;

/// <summary>
/// Webhook delivery of the conversion records (section <c>Webhooks</c>): the processor run with
/// <c>Processor:Role=webhooks</c> reads <c>tt.conversions</c> and POSTs each record to its site's URL.
/// </summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Webhooks";

    /// <summary>Per site: <c>Webhooks:Sites:&lt;site&gt;:Url</c> and <c>:Secret</c>. A site without one is skipped.</summary>
    public Dictionary<string, WebhookSite> Sites { get; set; } = new(StringComparer.Ordinal);

    [RegularExpression("^[A-Za-z0-9._-]{1,128}$", ErrorMessage = "Webhooks:GroupId must be 1 to 128 letters, digits, '.', '_' or '-'.")]
    public string GroupId { get; set; } = "tt-webhooks";

    /// <summary>Where a record goes when it cannot be delivered (with the reason in a header).</summary>
    public string DeadLetterTopic { get; set; } = "tt.conversions.dead-letter";

    /// <summary>How long a record is retried before it is dead-lettered.</summary>
    [Range(0.001, 720, ErrorMessage = "Webhooks:RetryHours must be between 0.001 and 720.")]
    public double RetryHours { get; set; } = 24;

    /// <summary>The first retry's wait; it doubles on each failure up to <see cref="MaxBackoffMs"/> (with ±20 % jitter).</summary>
    [Range(10, 3_600_000, ErrorMessage = "Webhooks:InitialBackoffMs must be between 10 and 3600000.")]
    public int InitialBackoffMs { get; set; } = 1000;

    [Range(10, 3_600_000, ErrorMessage = "Webhooks:MaxBackoffMs must be between 10 and 3600000.")]
    public int MaxBackoffMs { get; set; } = 600_000;

    [Range(1, 120, ErrorMessage = "Webhooks:TimeoutSeconds must be between 1 and 120.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Records read but not yet delivered (retrying) at most; past it the loop stops reading until some are done.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Webhooks:MaxPending must be between 1 and 1000000.")]
    public int MaxPending { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (site, s) in Sites)
        {
            if (!Uri.TryCreate(s.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
            {
                yield return new ValidationResult($"Webhooks:Sites:{site}:Url must be an absolute http(s) URL (got '{s.Url}').");
            }
            if (string.IsNullOrWhiteSpace(s.Secret) || s.Secret.Trim().Length < 16)
            {
                yield return new ValidationResult($"Webhooks:Sites:{site}:Secret must be at least 16 characters (a random secret the receiver verifies signatures with).");
            }
        }
        if (MaxBackoffMs < InitialBackoffMs)
        {
            yield return new ValidationResult($"Webhooks:MaxBackoffMs ({MaxBackoffMs}) must be at least Webhooks:InitialBackoffMs ({InitialBackoffMs}).");
        }
        if (string.IsNullOrWhiteSpace(DeadLetterTopic) || DeadLetterTopic.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            yield return new ValidationResult($"Webhooks:DeadLetterTopic must be a Kafka topic name (got '{DeadLetterTopic}').");
        }
    }
}

public sealed class WebhookSite
{
    public string? Url { get; set; }
    public string? Secret { get; set; }
}
