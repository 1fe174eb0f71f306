using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.Enrichment;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.UserAgents;
using TouchpointTracker.ServiceDefaults;

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

    public EnrichmentSetup(IOptions<EnrichmentOptions> enrichment, IOptions<GeoOptions> geo, IOptions<CollectorOptions> collector, MetricsRegistry metrics)
    {
        var options = enrichment.Value;
        var notes = new List<string>();

        // The referrer table: built in, extended by Enrichment:ReferrersPath; a bad file stops start-up with its lines.
        var referrers = ReferrerTable.BuiltIn;
        if (options.ReferrersPath is { Length: > 0 } referrersPath)
        {
            try
            {
                referrers = referrers.WithOverride(referrersPath);
            }
            catch (ReferrerTableException ex)
            {
                throw new InvalidOperationException($"{EnrichmentOptions.Section}:ReferrersPath: {ex.Message}", ex);
            }
        }

        notes.Add($"referrers: table {referrers.Description}, {referrers.HostCount} host patterns (extend with {EnrichmentOptions.Section}:ReferrersPath); channels: "
            + (options.StrictGa4Channels ? "GA4 groups only (Enrichment:StrictGa4Channels)" : "GA4 groups + AI Assistants"));

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
            Referrers = referrers,
            StrictGa4Channels = options.StrictGa4Channels,
        });
        Note = string.Join("; ", notes);

        var info = MetricsRegistry.Labels(("version", referrers.Version), ("override", referrers.OverrideOrigin is null ? "" : referrers.OverrideVersion ?? "unversioned"));
        metrics.Gauge("tt_referrer_table_info", "The referrer table in use: built-in version, and the override file's version when one is configured.", () => [(info, 1)]);
        var enricher = Enricher;
        var spamLabels = referrers.SpamReasons.ToDictionary(r => r, r => MetricsRegistry.Labels(("reason", r)).Tags, StringComparer.Ordinal);
        metrics.Meter.CreateObservableCounter(
            "tt_referrer_spam_total",
            () => enricher.SpamReferrerCounts().Select(c => new System.Diagnostics.Metrics.Measurement<long>(c.Value, spamLabels[c.Key])),
            unit: null,
            description: "Events whose referrer or landing referrer is on the referrer-spam list, by reason (they are flagged device.is_bot).");
    }

    public Enricher Enricher { get; }

    public string Note { get; }

    public void Dispose() => _geo?.Dispose();
}
