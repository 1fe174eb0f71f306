using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>Endpoints and input limits of the collector (section <c>Collector</c>).</summary>
public sealed class CollectorOptions : IValidatableObject
{
    public const string Section = "Collector";

    /// <summary>Shortest server key accepted from configuration (the embedded demo key is a documented exception).</summary>
    public const int MinServerKeyLength = 16;

    /// <summary>
    /// Embedded or Distributed. Unset: Distributed when Redis:Configuration or Kafka:BootstrapServers is set,
    /// Embedded otherwise.
    /// </summary>
    public CollectorMode? Mode { get; set; }

    /// <summary>Refuse to start unless <see cref="Mode"/> is set (the Docker image sets it: no silent embedded mode).</summary>
    public bool RequireExplicitMode { get; set; }

    /// <summary>
    /// Key for the inspection API (header <c>X-Api-Key</c>). Required when the embedded mode listens on any
    /// address but loopback: without it the collector refuses to start.
    /// </summary>
    public string? InspectApiKey { get; set; }

    /// <summary>Every path is configurable, because ad-blockers match common names.</summary>
    public string TagPath { get; set; } = "/tt.js";
    public string CollectPath { get; set; } = "/collect";
    public string LivenessPath { get; set; } = "/healthz";
    public string ReadinessPath { get; set; } = "/readyz";
    public string MetricsPath { get; set; } = "/metrics";
    /// <summary>Inspection API of the embedded mode: the latest staged touchpoints.</summary>
    public string InspectPath { get; set; } = "/api/events";
    /// <summary>Embedded mode: the latest conversion records (what the processor publishes on tt.conversions), same access as <see cref="InspectPath"/>.</summary>
    public string ConversionRecordsPath { get; set; } = "/api/conversion-records";
    public string DemoPath { get; set; } = "/demo";
    /// <summary>Offline events from servers (calls, CRM stages, revenue), authenticated by a site's server key.</summary>
    public string OfflineEventsPath { get; set; } = "/api/v1/offline-events";
    /// <summary>Call tracking: the tracking number a visitor is shown (GET, from the tag).</summary>
    public string NumbersPath { get; set; } = "/numbers";

    [Range(1024, 1024 * 1024)] public int MaxBodyBytes { get; set; } = 64 * 1024;
    [Range(1, 1000)] public int MaxEventsPerBatch { get; set; } = 100;
    [Range(64, 16 * 1024)] public int MaxUrlLength { get; set; } = 2048;
    [Range(0, 200)] public int MaxProps { get; set; } = 30;
    [Range(1, 1024)] public int MaxPropKeyLength { get; set; } = 64;
    [Range(1, 16 * 1024)] public int MaxPropValueLength { get; set; } = 1024;
    /// <summary>Oldest event accepted, relative to the batch's send time (the tag retries stored batches on later visits).</summary>
    [Range(1, 90)] public int MaxEventAgeDays { get; set; } = 7;
    /// <summary>
    /// How far a batch's send time (<c>sent</c>) may be from the collector's clock; further, the batch is refused
    /// as invalid_timestamp. Without <c>sent</c>, event times are checked against the collector's clock.
    /// </summary>
    [Range(1, 24 * 90)] public int MaxClockSkewHours { get; set; } = 24;

    /// <summary>Site keys and the domains their pages may be on. <c>*</c> allows any origin.</summary>
    public Dictionary<string, SiteOptions> Sites { get; set; } = new(StringComparer.Ordinal);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, path) in Paths())
        {
            if (string.IsNullOrWhiteSpace(path) || path[0] != '/' || path.Contains(' ', StringComparison.Ordinal))
            {
                yield return new ValidationResult($"{Section}:{name} must be an absolute path such as /x (got '{path}')", [name]);
            }
        }
        var distinct = Paths().Select(p => p.Path).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        if (distinct != Paths().Count())
        {
            yield return new ValidationResult($"{Section}: the paths must differ from one another");
        }
        if (RequireExplicitMode && Mode is null)
        {
            yield return new ValidationResult($"{Section}:Mode must be set (Embedded or Distributed): {Section}:RequireExplicitMode is on, so the collector does not fall back to the embedded mode silently");
        }
        if (InspectApiKey is { Length: > 0 and < 16 })
        {
            yield return new ValidationResult($"{Section}:InspectApiKey must be at least 16 characters");
        }
        foreach (var (key, site) in Sites)
        {
            if (site.Domains.Count == 0)
            {
                yield return new ValidationResult($"{Section}:Sites:{key}:Domains must list at least one domain (or * for any)");
            }
            for (var i = 0; i < site.ServerKeys.Count; i++)
            {
                if ((site.ServerKeys[i]?.Trim().Length ?? 0) < MinServerKeyLength)
                {
                    // The key itself is never echoed: only its position.
                    yield return new ValidationResult($"{Section}:Sites:{key}:ServerKeys:{i} must be at least {MinServerKeyLength} characters (spaces around it do not count)");
                }
            }
        }
    }

    private IEnumerable<(string Name, string Path)> Paths() =>
    [
        (nameof(TagPath), TagPath), (nameof(CollectPath), CollectPath), (nameof(LivenessPath), LivenessPath),
        (nameof(ReadinessPath), ReadinessPath), (nameof(MetricsPath), MetricsPath), (nameof(InspectPath), InspectPath),
        (nameof(DemoPath), DemoPath), (nameof(OfflineEventsPath), OfflineEventsPath), (nameof(ConversionRecordsPath), ConversionRecordsPath),
        (nameof(NumbersPath), NumbersPath),
    ];
}

public sealed class SiteOptions
{
    /// <summary>Domains whose pages may send events for this site; subdomains are included. <c>*</c> allows any.</summary>
    public List<string> Domains { get; set; } = [];

    public bool AllowsAnyOrigin => Domains.Contains("*");

    /// <summary>This site's rules for personal data in URLs; unset: the global <c>Privacy</c> section.</summary>
    public PrivacyOptions? Privacy { get; set; }

    /// <summary>
    /// The site has a legal basis to track visitors who send Global Privacy Control (the counterpart of the
    /// tag's <c>data-gpc="ignore"</c>; set both). Off: under <c>Sec-GPC: 1</c> only beacons without stored
    /// identifiers are taken, and the collector's own visitor cookie is neither read nor set.
    /// </summary>
    public bool IgnoreGpc { get; set; }

    /// <summary>
    /// Secrets that servers present as <c>Authorization: Bearer &lt;key&gt;</c> to send offline events for this site
    /// (a list, so a key can be rotated: add the new one, move the senders, remove the old). At least 16 characters;
    /// compared in constant time and never logged. Separate from the public site key the tag carries.
    /// </summary>
    public List<string> ServerKeys { get; set; } = [];

    /// <summary>Tracking-number pools shown in place of the site's published number (docs/call-tracking.md).</summary>
    public TouchpointTracker.Collector.CallTracking.CallTrackingOptions? CallTracking { get; set; }

    /// <summary>
    /// Headless browsers are taken (flagged as bots) instead of dropped: set for the embedded mode's own
    /// <c>demo</c> site only, never from configuration, so the demo works in test automation.
    /// </summary>
    internal bool AcceptsAutomation { get; init; }
}
