using System.Collections.Frozen;
using System.Net;
using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Channels;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment;

/// <summary>
/// Turns the raw fields of one event into page, referrer, campaign, channel, device and geo. Built once
/// at start-up; immutable and thread-safe; does no I/O per call and never throws on bad input.
/// </summary>
public sealed class Enricher
{
    private readonly FrozenDictionary<string, SiteDomains> _sites;
    private readonly CampaignParser _campaigns;
    private readonly ReferrerClassifier _referrers;
    private readonly ChannelClassifier _channels;
    private readonly bool _strictGa4;
    private readonly long[] _spamCounts;
    private readonly IUserAgentParser? _userAgents;
    private readonly IGeoLocator? _geo;

    /// <summary>Builds an enricher from <paramref name="options"/>.</summary>
    public Enricher(EnricherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sites = options.SiteDomains
            .Where(static kv => kv.Key is not null)
            .ToFrozenDictionary(static kv => kv.Key, static kv => new SiteDomains(kv.Value ?? []), StringComparer.Ordinal);
        _campaigns = new CampaignParser(ClickIdRegistry.WithExtra(options.ExtraClickIds));
        _userAgents = options.UserAgentParser;
        _geo = options.GeoLocator;
        var catalog = options.Referrers is null || ReferenceEquals(options.Referrers, ReferrerTable.BuiltIn)
            ? SourceCatalog.Default
            : new SourceCatalog(options.Referrers);
        Referrers = catalog.Table;
        _strictGa4 = options.StrictGa4Channels;
        _referrers = ReferenceEquals(catalog, SourceCatalog.Default) ? ReferrerClassifier.Default : new ReferrerClassifier(catalog);
        _channels = new ChannelClassifier(catalog, _strictGa4);
        _spamCounts = new long[catalog.Table.SpamReasons.Count];
    }

    /// <summary>The referrer table in use (its <see cref="ReferrerTable.Version"/> for metrics and the start-up banner).</summary>
    public ReferrerTable Referrers { get; }

    /// <summary>
    /// Events enriched so far whose referrer or landing referrer is on the spam list, by spam reason
    /// (one count per event). Thread-safe; for metrics.
    /// </summary>
    public IEnumerable<KeyValuePair<string, long>> SpamReferrerCounts()
    {
        for (var i = 0; i < _spamCounts.Length; i++)
        {
            yield return new(Referrers.SpamReasons[i], Interlocked.Read(ref _spamCounts[i]));
        }
    }

    /// <summary>
    /// Enriches one event.
    /// </summary>
    /// <param name="siteId">Site id (selects the configured site domains); null for none.</param>
    /// <param name="pageUrl">The event's page URL.</param>
    /// <param name="referrerUrl">The event's own referrer (document.referrer or the previous SPA route).</param>
    /// <param name="landingUrl">The session's landing URL, when known.</param>
    /// <param name="landingReferrer">The session's external referrer, when known.</param>
    /// <param name="userAgent">The User-Agent header.</param>
    /// <param name="ip">The client address (for geo only; not stored).</param>
    /// <remarks>
    /// Campaign and channel come from the landing URL/referrer when either is given, so internal
    /// navigation keeps the session's acquisition; otherwise from the event's own URL/referrer.
    /// </remarks>
    public EnrichmentResult Enrich(string? siteId, string? pageUrl, string? referrerUrl, string? landingUrl, string? landingReferrer, string? userAgent, IPAddress? ip)
    {
        var site = siteId is not null && _sites.TryGetValue(siteId, out var domains) ? domains : SiteDomains.None;

        var page = UrlParser.Parse(pageUrl);
        var referrer = UrlParser.Parse(referrerUrl);
        var referrerClass = _referrers.Classify(referrer, page.Host, site);

        var hasLanding = !string.IsNullOrWhiteSpace(landingUrl) || !string.IsNullOrWhiteSpace(landingReferrer);
        var campaignUrl = string.IsNullOrWhiteSpace(landingUrl) ? page : UrlParser.Parse(landingUrl);
        var campaignReferrer = hasLanding
            ? _referrers.Classify(UrlParser.Parse(landingReferrer), campaignUrl.Host ?? page.Host, site)
            : referrerClass;

        var traffic = TrafficSourceResolver.Resolve(_campaigns.Parse(campaignUrl), campaignReferrer, _strictGa4);
        var channel = _channels.Classify(traffic);

        var userAgentInfo = string.IsNullOrWhiteSpace(userAgent) ? null : _userAgents?.Parse(userAgent);
        var device = ToDeviceInfo(userAgent, userAgentInfo);
        var spam = referrerClass.IsSpam ? referrerClass.Known : campaignReferrer.IsSpam ? campaignReferrer.Known : null;
        if (spam is not null)
        {
            // Referrer spam is automated traffic: flagged like a bot, so it is dropped (Enrichment:DropBots)
            // or left out of journeys and channel reports downstream.
            if ((uint)spam.SpamReasonIndex < (uint)_spamCounts.Length)
            {
                Interlocked.Increment(ref _spamCounts[spam.SpamReasonIndex]);
            }

            device ??= new DeviceInfo();
            device.IsBot = true;
        }

        return new EnrichmentResult(
            ToPageInfo(page),
            ToReferrerInfo(referrer, referrerClass),
            ToCampaignInfo(traffic),
            channel,
            device,
            _geo?.Locate(ip),
            userAgentInfo);
    }

    private static PageInfo ToPageInfo(in ParsedUrl page) => new()
    {
        Url = page.Url,
        Host = page.Host,
        Path = page.Path,
        Query = page.Query,
    };

    private static ReferrerInfo ToReferrerInfo(in ParsedUrl referrer, ReferrerClassification c) => new()
    {
        Url = referrer.Url,
        Host = c.Host,
        Medium = c.Medium.ToWireName(),
        Source = c.Source,
        Term = c.Term,
    };

    private static CampaignInfo ToCampaignInfo(TrafficSource t) => new()
    {
        Source = t.Source,
        Medium = t.Medium,
        Name = t.Campaign,
        Term = t.Term,
        Content = t.Content,
        Id = t.Id,
        ClickId = t.ClickId,
        ClickPlatform = t.ClickPlatform,
    };

    private static DeviceInfo? ToDeviceInfo(string? userAgent, UserAgentInfo? parsed)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return null;
        }

        if (parsed is null)
        {
            return new DeviceInfo { IsBot = BotDetector.IsBot(userAgent) };
        }

        return new DeviceInfo
        {
            Browser = parsed.Browser.Family,
            BrowserVersion = parsed.Browser.Version,
            Os = parsed.Os.Family,
            OsVersion = parsed.Os.Version,
            Family = parsed.Device.Family,
            IsBot = parsed.IsBot,
        };
    }
}
