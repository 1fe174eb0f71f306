using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// The domains of one site. A host is internal when it equals one of them or is a subdomain of one,
/// ignoring a leading "www.". Immutable.
/// </summary>
public sealed class SiteDomains
{
    private readonly string[] _domains;

    /// <summary>No configured domains: only the page's own host counts as internal.</summary>
    public static SiteDomains None { get; } = new([]);

    /// <summary>
    /// Builds the set. Entries may be bare domains, "*.domain", ".domain" or full URLs; blanks and
    /// invalid entries are ignored.
    /// </summary>
    public SiteDomains(IEnumerable<string> domains)
    {
        _domains = domains
            .Select(Normalize)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The normalised domains.</summary>
    public IReadOnlyList<string> Domains => _domains;

    /// <summary>
    /// True when <paramref name="host"/> belongs to the site: one of the configured domains, the
    /// page's own host (<paramref name="pageHost"/>), or a subdomain of either.
    /// </summary>
    public bool IsInternal(ReadOnlySpan<char> host, ReadOnlySpan<char> pageHost)
    {
        host = StripWww(host);
        if (host.IsEmpty)
        {
            return false;
        }

        if (!pageHost.IsEmpty && IsSameOrSubdomain(host, StripWww(pageHost)))
        {
            return true;
        }

        foreach (var domain in _domains)
        {
            if (IsSameOrSubdomain(host, domain))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSameOrSubdomain(ReadOnlySpan<char> host, ReadOnlySpan<char> domain)
    {
        if (domain.IsEmpty)
        {
            return false;
        }

        if (host.Length == domain.Length)
        {
            return host.Equals(domain, StringComparison.OrdinalIgnoreCase);
        }

        return host.Length > domain.Length
            && host[^(domain.Length + 1)] == '.'
            && host.EndsWith(domain, StringComparison.OrdinalIgnoreCase);
    }

    private static ReadOnlySpan<char> StripWww(ReadOnlySpan<char> host) =>
        host.StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? host[4..] : host;

    private static string? Normalize(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return null;
        }

        var s = entry.AsSpan().Trim();
        if (s.StartsWith("*."))
        {
            s = s[2..];
        }

        s = s.TrimStart('.');
        var host = UrlParser.Parse(new string(s)).Host;
        return host is null ? null : new string(StripWww(host));
    }
}
