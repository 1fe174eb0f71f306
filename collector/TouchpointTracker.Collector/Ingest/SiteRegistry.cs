using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>Which site keys exist and which page origins may send events for them.</summary>
public sealed class SiteRegistry
{
    /// <summary>The development site key of the embedded mode, accepted from any origin.</summary>
    public const string DemoSite = "demo";

    /// <summary>
    /// The development server key of the embedded demo site (offline events API). Public by design, like the demo
    /// site itself: a configured <c>Collector:Sites:demo</c> replaces the demo site and this key with it.
    /// </summary>
    public const string DemoServerKey = "demo-server-key";

    private readonly Dictionary<string, SiteOptions> _sites;

    public SiteRegistry(IOptions<CollectorOptions> options, CollectorRuntime runtime)
    {
        _sites = new Dictionary<string, SiteOptions>(options.Value.Sites, StringComparer.Ordinal);
        if (runtime.IsEmbedded && !_sites.ContainsKey(DemoSite))
        {
            // The demo page opts into automation (data-allow-automation: without it the tag sends nothing under
            // navigator.webdriver), so headless browsers walking the demo are shown; real sites still drop them.
            _sites[DemoSite] = new SiteOptions { Domains = ["*"], AcceptsAutomation = true, ServerKeys = [DemoServerKey] };
        }
    }

    public IReadOnlyCollection<string> Keys => _sites.Keys;

    public bool TryGet(string site, out SiteOptions options) => _sites.TryGetValue(site, out options!);

    /// <summary>True when some configured site accepts pages of <paramref name="origin"/> (answers to CORS preflights).</summary>
    public bool AnySiteAllows(string origin)
    {
        foreach (var site in _sites.Values)
        {
            if (OriginAllowed(site, origin))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// True when a request from <paramref name="origin"/> (the Origin header, or the page URL's origin
    /// when the browser sent none) may send events for the site. A missing origin passes: servers and
    /// <c>sendBeacon</c> from some browsers send none, and the Origin header is not a secret anyway.
    /// <c>Origin: null</c> (sandboxed frames, file: pages, some redirects) is not a missing origin: the caller
    /// checks the page URL instead, and "null" itself matches no domain.
    /// </summary>
    public static bool OriginAllowed(SiteOptions site, string? origin) =>
        site.AllowsAnyOrigin || string.IsNullOrEmpty(origin) || UrlAllowed(site, origin);

    /// <summary>
    /// True when the host of <paramref name="url"/> (an origin or an absolute http(s) URL) is one of the site's
    /// domains or a subdomain of one. Reads the host off the string without parsing the URL (no allocation):
    /// scheme, then an optional user-info ending in '@', then the host up to ':', '/', '?' or '#'.
    /// </summary>
    public static bool UrlAllowed(SiteOptions site, ReadOnlySpan<char> url)
    {
        if (site.AllowsAnyOrigin)
        {
            return true;
        }
        var host = HostOf(url);
        if (host.IsEmpty)
        {
            return false;
        }
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

    /// <summary>The host of an http(s) URL or origin, without port or trailing dot; empty when there is none.</summary>
    internal static ReadOnlySpan<char> HostOf(ReadOnlySpan<char> url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0 || !(url[..scheme].Equals("https", StringComparison.OrdinalIgnoreCase) || url[..scheme].Equals("http", StringComparison.OrdinalIgnoreCase)))
        {
            return [];
        }
        var authority = url[(scheme + 3)..];
        var end = authority.IndexOfAny('/', '?', '#');
        if (end >= 0)
        {
            authority = authority[..end];
        }
        // Backslashes end the authority in browsers' URL parsing; refuse them rather than guess.
        if (authority.Contains('\\'))
        {
            return [];
        }
        var at = authority.LastIndexOf('@');
        var host = at >= 0 ? authority[(at + 1)..] : authority;
        if (host.StartsWith('['))
        {
            return host; // an IPv6 literal matches no domain
        }
        var colon = host.IndexOf(':');
        if (colon >= 0)
        {
            host = host[..colon];
        }
        return host.EndsWith('.') ? host[..^1] : host;
    }
}
