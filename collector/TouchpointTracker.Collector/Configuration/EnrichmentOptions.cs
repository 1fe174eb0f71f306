using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>Enrichment settings (section <c>Enrichment</c>).</summary>
public sealed class EnrichmentOptions : IValidatableObject
{
    public const string Section = "Enrichment";

    /// <summary>
    /// uap-core's regexes.yaml. Unset: the copy shipped beside the collector, else Debian's
    /// /usr/share/uap-core/regexes.yaml; "none" turns user-agent parsing off (the bot keyword check stays).
    /// </summary>
    public string? UserAgentRegexesPath { get; set; }

    /// <summary>Parsed user agents kept in the LRU cache.</summary>
    [Range(0, 10_000_000)] public int UserAgentCacheCapacity { get; set; } = 10_000;

    /// <summary>Extra click-id parameters and the ad platform each stands for ("gad_source": "google_ads").</summary>
    public Dictionary<string, string> ExtraClickIds { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A referrer table file (same format as the built-in Referrers/referrers.yaml) whose entries extend or
    /// replace the built-in ones (docs/enrichment.md, "Extending the table"). Unset: the built-in table only.
    /// Checked at start-up: an invalid file stops the collector with its line numbers.
    /// </summary>
    public string? ReferrersPath { get; set; }

    /// <summary>
    /// Only GA4's default channel groups: AI assistants' visits become Referral (medium "referral") instead of
    /// the "AI Assistants" channel (medium "ai").
    /// </summary>
    public bool StrictGa4Channels { get; set; }

    /// <summary>Drop events from bots (counted as rejected with reason <c>bot</c>) instead of forwarding them flagged.</summary>
    public bool DropBots { get; set; } = true;

    /// <summary>Keep the client IP truncated to /24 (IPv4) or /48 (IPv6) in <c>geo.ip_truncated</c>. The full IP is never kept.</summary>
    public bool KeepTruncatedIp { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UserAgentRegexesPath is { Length: > 0 } path && path != "none" && !File.Exists(path))
        {
            yield return new ValidationResult($"{Section}:UserAgentRegexesPath: file '{path}' does not exist");
        }

        if (ReferrersPath is { Length: > 0 } referrers && !File.Exists(referrers))
        {
            yield return new ValidationResult($"{Section}:ReferrersPath: file '{referrers}' does not exist");
        }
    }
}

/// <summary>IP geolocation (section <c>Geo</c>).</summary>
public sealed class GeoOptions : IValidatableObject
{
    public const string Section = "Geo";

    /// <summary>A MaxMind-format database (GeoIP2/GeoLite2 City or Country); unset: no geo.</summary>
    public string? DatabasePath { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DatabasePath is { Length: > 0 } path && !File.Exists(path))
        {
            yield return new ValidationResult($"{Section}:DatabasePath: file '{path}' does not exist");
        }
    }
}
