using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.Enrichment;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>Builds the enricher once at start-up from configuration, and says what it could load.</summary>
public sealed class EnrichmentSetup : IStartupNote, IDisposable
{
    private static readonly string[] RegexesCandidates =
    [
        Path.Combine(AppContext.BaseDirectory, "uap-core", "regexes.yaml"),
        "/usr/share/uap-core/regexes.yaml",
    ];

    private readonly GeoLocator? _geo;

    public EnrichmentSetup(IOptions<EnrichmentOptions> enrichment, IOptions<GeoOptions> geo, IOptions<CollectorOptions> collector)
    {
        var options = enrichment.Value;
        var notes = new List<string>();

        IUserAgentParser? userAgents = null;
        var regexes = options.UserAgentRegexesPath is { Length: > 0 } configured
            ? (configured == "none" ? null : configured)
            : RegexesCandidates.FirstOrDefault(File.Exists);
        if (regexes is not null)
        {
            userAgents = UserAgentParser.Create(new UserAgentParserOptions { RegexesPath = regexes, CacheCapacity = options.UserAgentCacheCapacity });
            notes.Add($"user agents: {regexes}");
        }
        else
        {
            notes.Add("user agents: no uap-core regexes.yaml found (Enrichment:UserAgentRegexesPath); browser, OS and device are absent, bots are flagged by keyword only");
        }

        if (geo.Value.DatabasePath is { Length: > 0 } path)
        {
            _geo = GeoLocator.Open(path);
            notes.Add($"geo: {path}");
        }
        else
        {
            notes.Add("geo: no database configured (Geo:DatabasePath); country, region and city are absent");
        }

        Enricher = new Enricher(new EnricherOptions
        {
            SiteDomains = collector.Value.Sites.ToDictionary(
                kv => kv.Key,
                kv => kv.Value.Domains.Where(d => d != "*").ToArray(),
                StringComparer.Ordinal),
            ExtraClickIds = options.ExtraClickIds,
            UserAgentParser = userAgents,
            GeoLocator = _geo,
        });
        Note = string.Join("; ", notes);
    }

    public Enricher Enricher { get; }

    public string Note { get; }

    public void Dispose() => _geo?.Dispose();
}
