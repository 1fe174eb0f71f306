using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Privacy;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>The URL redactor of each site, built once from <see cref="PrivacyOptions"/> (a site's own section replaces the global one).</summary>
public sealed class UrlRedaction
{
    private readonly UrlRedactor _default;
    private readonly FrozenDictionary<string, UrlRedactor> _bySite;

    public UrlRedaction(IOptions<PrivacyOptions> privacy, IOptions<CollectorOptions> collector, IOptions<EnrichmentOptions> enrichment)
    {
        var clickIds = ClickIdRegistry.WithExtra(enrichment.Value.ExtraClickIds);
        _default = Create(privacy.Value, clickIds);
        _bySite = collector.Value.Sites
            .Where(kv => kv.Value.Privacy is not null)
            .ToFrozenDictionary(kv => kv.Key, kv => Create(kv.Value.Privacy!, clickIds), StringComparer.Ordinal);
    }

    /// <summary>The global rules only (tests, tools).</summary>
    public static UrlRedaction Default { get; } = new(Options.Create(new PrivacyOptions()), Options.Create(new CollectorOptions()), Options.Create(new EnrichmentOptions()));

    public UrlRedactor For(string site) => _bySite.TryGetValue(site, out var r) ? r : _default;

    private static UrlRedactor Create(PrivacyOptions o, ClickIdRegistry clickIds) =>
        new(o.RedactParameters ?? [.. UrlRedactor.DefaultParameters], o.RedactEmails, o.KeepOnlyAllowedParameters, o.AllowParameters, clickIds);
}
