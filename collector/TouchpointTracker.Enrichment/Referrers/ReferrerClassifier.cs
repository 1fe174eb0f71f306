using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// Classifies a referrer URL as internal or external and, for external ones, names the source,
/// medium and search keyword from the <see cref="SourceCatalog"/> (host patterns, with path prefixes such as
/// "bing.com/chat"). Stateless; never throws; allocates only the keyword and, for unknown "www." hosts, the source.
/// </summary>
public sealed class ReferrerClassifier
{
    private readonly SourceCatalog _catalog;

    /// <summary>Creates a classifier over <paramref name="catalog"/>.</summary>
    public ReferrerClassifier(SourceCatalog catalog) => _catalog = catalog;

    /// <summary>The classifier over the built-in table.</summary>
    public static ReferrerClassifier Default { get; } = new(SourceCatalog.Default);

    /// <summary>
    /// Classifies <paramref name="referrer"/> as seen from a page on <paramref name="pageHost"/> of a
    /// site with domains <paramref name="site"/>.
    /// </summary>
    public ReferrerClassification Classify(in ParsedUrl referrer, string? pageHost, SiteDomains site)
    {
        var host = referrer.Host;
        if (host is null)
        {
            return ReferrerClassification.None;
        }

        if (site.IsInternal(host, pageHost))
        {
            return new ReferrerClassification(ReferrerMedium.Internal, host, null, null);
        }

        var known = _catalog.FindByHost(host, referrer.PathSpan);
        if (known is null)
        {
            var medium = host.StartsWith("webmail.", StringComparison.Ordinal) ? ReferrerMedium.Email : ReferrerMedium.Referral;
            return new ReferrerClassification(medium, host, WithoutWww(host), null);
        }

        var term = known.KeywordParameters.Count == 0 ? null : FindKeyword(referrer.QuerySpan, known.KeywordParameters);
        return new ReferrerClassification(known.Medium, host, known.Source ?? WithoutWww(host), term, known);
    }

    private static string WithoutWww(string host) => host.StartsWith("www.", StringComparison.Ordinal) && host.Length > 4 ? host[4..] : host;

    private static string? FindKeyword(ReadOnlySpan<char> query, IReadOnlyList<string> parameters)
    {
        if (query.IsEmpty)
        {
            return null;
        }

        Span<char> nameBuffer = stackalloc char[32];
        for (var i = 0; i < parameters.Count; i++)
        {
            var wanted = parameters[i];
            foreach (var parameter in new QueryParameters(query))
            {
                var name = QueryParameters.NormalizeName(parameter.RawName, nameBuffer);
                if (!name.Equals(wanted, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var value = parameter.DecodeValue();
                // Redirect pages (google.com/url?q=https://...) carry the target URL, not a keyword.
                if (value is not null && !LooksLikeUrl(value))
                {
                    return value;
                }
            }
        }

        return null;
    }

    private static bool LooksLikeUrl(string value) =>
        value.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("//", StringComparison.Ordinal);
}
