namespace TouchpointTracker.Collector.Configuration;

/// <summary>
/// Personal data in URL query strings (section <c>Privacy</c>, and per site <c>Collector:Sites:&lt;key&gt;:Privacy</c>,
/// which replaces it whole for that site). Applied to page, referrer and landing URLs before the touchpoint is
/// enriched or leaves the collector.
/// </summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>Replace any query value holding an e-mail address (also %40-encoded) with <c>redacted</c>.</summary>
    public bool RedactEmails { get; set; } = true;

    /// <summary>
    /// Query parameters whose values are replaced with <c>redacted</c> (case-insensitive). Unset: email, token,
    /// password, phone and the other names in docs/security.md; set, it replaces that list.
    /// </summary>
    public List<string>? RedactParameters { get; set; }

    /// <summary>Allow-list mode: the site's page URLs keep only utm_* parameters, click ids and <see cref="AllowParameters"/>.</summary>
    public bool KeepOnlyAllowedParameters { get; set; }

    /// <summary>Parameters kept in allow-list mode besides utm_* and click ids.</summary>
    public List<string> AllowParameters { get; set; } = [];
}
