using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>Which site keys exist and which page origins may send events for them.</summary>
public sealed class SiteRegistry
{
    /// <summary>The development site key of the embedded mode, accepted from any origin.</summary>
    public const string DemoSite = "demo";

    private readonly Dictionary<string, SiteOptions> _sites;

    public SiteRegistry(IOptions<CollectorOptions> options, CollectorRuntime runtime)
    {
        _sites = new Dictionary<string, SiteOptions>(options.Value.Sites, StringComparer.Ordinal);
        if (runtime.IsEmbedded && !_sites.ContainsKey(DemoSite))
        {
            // The demo page opts into automation (data-allow-automation: without it the tag sends nothing under
            // navigator.webdriver), so headless browsers walking the demo are shown; real sites still drop them.
            _sites[DemoSite] = new SiteOptions { Domains = ["*"], AcceptsAutomation = true };
        }
    }

    public IReadOnlyCollection<string> Keys => _sites.Keys;

    public bool TryGet(string site, out SiteOptions options) => _sites.TryGetValue(site, out options!);

    /// <summary>
    /// True when a request from <paramref name="origin"/> (the Origin header, or the page URL's origin
    /// when the browser sent none) may send events for the site. A missing origin passes: servers and
    /// <c>sendBeacon</c> from some browsers send none, and the Origin header is not a secret anyway.
    /// </summary>
    public static bool OriginAllowed(SiteOptions site, string? origin)
    {
        if (site.AllowsAnyOrigin || string.IsNullOrEmpty(origin) || origin == "null")
        {
            return true;
        }
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return false;
        }
        var host = uri.IdnHost;
        foreach (var domain in site.Domains)
        {
            if (host.Equals(domain, StringComparison.OrdinalIgnoreCase) ||
                (host.Length > domain.Length && host.EndsWith(domain, StringComparison.OrdinalIgnoreCase) && host[^(domain.Length + 1)] == '.'))
            {
                return true;
            }
        }
        return false;
    }
}
