namespace TouchpointTracker.Enrichment;

/// <summary>Length bounds applied to every value the enrichment copies out of untrusted input.</summary>
public static class EnrichmentLimits
{
    /// <summary>Longest URL kept (page, referrer); longer input is cut before parsing.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Longest host name (RFC 1035 limit for a DNS name in text form).</summary>
    public const int MaxHostLength = 253;

    /// <summary>Longest decoded campaign value (utm_*), search keyword or click id.</summary>
    public const int MaxValueLength = 256;

    /// <summary>
    /// Longest user agent parsed; longer strings are cut (every real browser stays far below, and uap-core's own
    /// test suites parse the same within it). Regex cost grows with the length, and a hostile client chooses it.
    /// </summary>
    public const int MaxUserAgentLength = 512;
}
