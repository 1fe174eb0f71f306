using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment;

/// <summary>What an <see cref="Enricher"/> is built from. Read once by the constructor.</summary>
public sealed class EnricherOptions
{
    /// <summary>
    /// Domains of each site, by site id ("shop" -> ["example.com", "example.fr"]). A referrer on one of
    /// them or a subdomain (www-insensitive) is internal; the page's own host always is.
    /// </summary>
    public IDictionary<string, string[]> SiteDomains { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

    /// <summary>Extra click-id parameters, name -> platform ("gad_source" -> "google_ads").</summary>
    public IDictionary<string, string> ExtraClickIds { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>User agent parser (usually a <see cref="CachedUserAgentParser"/>); null: only the bot keyword check runs.</summary>
    public IUserAgentParser? UserAgentParser { get; set; }

    /// <summary>IP geolocation; null: no geo.</summary>
    public IGeoLocator? GeoLocator { get; set; }

    /// <summary>
    /// The referrer table (<see cref="ReferrerTable.BuiltIn"/>, or it with a deployment's override merged in
    /// through <see cref="ReferrerTable.WithOverride(string)"/>); null: the built-in table.
    /// </summary>
    public ReferrerTable? Referrers { get; set; }

    /// <summary>
    /// True: only GA4's default channel groups (AI assistants' traffic is Referral with medium "referral");
    /// false: AI assistants get the "AI Assistants" group and medium "ai".
    /// </summary>
    public bool StrictGa4Channels { get; set; }
}
