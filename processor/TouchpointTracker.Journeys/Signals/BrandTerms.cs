namespace TouchpointTracker.Journeys.Signals;

/// <summary>
/// The words that name each site's brand: a search keyword containing one of its site's terms is
/// <c>branded</c>. Part of a site's configuration (<c>Journeys:Sites:&lt;site&gt;:BrandTerms</c>), derived from the
/// site's domains when absent (<c>acme.fr</c> → <c>acme</c>); the rules file's <c>brand_terms</c> apply to every site
/// on top. Built by the hosts, passed to the engine through <see cref="JourneySettings.BrandTerms"/>: pure, no I/O.
/// </summary>
public sealed class BrandTerms
{
    public static readonly BrandTerms None = new(new Dictionary<string, IReadOnlyList<string>>());

    private readonly Dictionary<string, (IReadOnlyList<string> Terms, KeywordIntentClassifier Classifier)> _sites;

    public BrandTerms(IReadOnlyDictionary<string, IReadOnlyList<string>> termsBySite)
    {
        _sites = new Dictionary<string, (IReadOnlyList<string>, KeywordIntentClassifier)>(StringComparer.Ordinal);
        foreach (var (site, terms) in termsBySite)
        {
            var clean = terms.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            if (clean.Length > 0)
            {
                _sites[site] = (clean, new KeywordIntentClassifier([(KeywordIntent.Branded, clean)]));
            }
        }
    }

    /// <summary>Sites with terms.</summary>
    public IEnumerable<string> Sites => _sites.Keys;

    /// <summary>The site's brand terms (empty when it has none).</summary>
    public IReadOnlyList<string> For(string siteId) => _sites.TryGetValue(siteId, out var s) ? s.Terms : [];

    /// <summary><see cref="KeywordIntent.Branded"/> when the keyword contains one of the site's terms (whole words, folded).</summary>
    public KeywordIntent Classify(string siteId, string? keyword) =>
        string.IsNullOrWhiteSpace(keyword) || _sites.Count == 0 || !_sites.TryGetValue(siteId, out var s) ? KeywordIntent.None : s.Classifier.Classify(keyword);

    /// <summary>
    /// Each site's terms: the configured ones, else those derived from its domains (<see cref="FromDomains"/>).
    /// <paramref name="warnings"/> names each site left without terms (branded search cannot fire for it).
    /// </summary>
    public static BrandTerms Build(
        IReadOnlyDictionary<string, IReadOnlyList<string>> configured,
        IReadOnlyDictionary<string, IReadOnlyList<string>> domainsBySite,
        out List<string> warnings)
    {
        warnings = [];
        var terms = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var site in configured.Keys.Concat(domainsBySite.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (configured.TryGetValue(site, out var given) && given.Any(t => !string.IsNullOrWhiteSpace(t)))
            {
                terms[site] = given;
                continue;
            }
            var derived = FromDomains(domainsBySite.TryGetValue(site, out var domains) ? domains : []);
            if (derived.Count > 0)
            {
                terms[site] = derived;
            }
            else
            {
                warnings.Add($"Site '{site}' has no brand terms and none can be derived from its domains: branded searches will not be recognised for it. " +
                    $"Set Journeys:Sites:{site}:BrandTerms (the words that name the brand).");
            }
        }
        if (terms.Count == 0 && warnings.Count == 0)
        {
            warnings.Add("No site has brand terms: branded searches are recognised only by the rules file's brand_terms. " +
                "Set Journeys:Sites:<site>:BrandTerms, or Collector:Sites:<site>:Domains to derive them.");
        }
        return new BrandTerms(terms);
    }

    private static readonly HashSet<string> SecondLevel = new(StringComparer.OrdinalIgnoreCase) { "co", "com", "net", "org", "gov", "gouv", "ac", "edu", "ne", "or" };
    private static readonly HashSet<string> HostPrefixes = new(StringComparer.OrdinalIgnoreCase) { "www", "www2", "m", "shop", "store", "app", "blog" };

    /// <summary>
    /// Brand terms from a site's domains: the label before the public suffix (<c>acme.fr</c>, <c>www.acme.co.uk</c> →
    /// <c>acme</c>); a hyphenated one also joined (<c>acme-shop.com</c> → <c>acme-shop</c>, <c>acmeshop</c>). Wildcards,
    /// IP addresses and single-label hosts give none.
    /// </summary>
    public static IReadOnlyList<string> FromDomains(IEnumerable<string> domains)
    {
        var terms = new List<string>();
        foreach (var raw in domains)
        {
            var host = raw.Trim().TrimStart('*', '.').TrimEnd('.').ToLowerInvariant();
            var colon = host.IndexOf(':');
            if (colon >= 0)
            {
                host = host[..colon];
            }
            if (host.Length == 0 || System.Net.IPAddress.TryParse(host, out _))
            {
                continue;
            }
            var labels = host.Split('.', StringSplitOptions.RemoveEmptyEntries).ToList();
            while (labels.Count > 2 && HostPrefixes.Contains(labels[0]))
            {
                labels.RemoveAt(0);
            }
            if (labels.Count < 2)
            {
                continue;
            }
            var twoLevelSuffix = labels.Count >= 3 && labels[^1].Length == 2 && SecondLevel.Contains(labels[^2]);
            var brand = twoLevelSuffix ? labels[^3] : labels[^2];
            if (brand.Length < 2)
            {
                continue;
            }
            terms.Add(brand);
            if (brand.Contains('-', StringComparison.Ordinal))
            {
                terms.Add(brand.Replace("-", "", StringComparison.Ordinal));
            }
        }
        return [.. terms.Distinct(StringComparer.Ordinal)];
    }
}
