using System.Net;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment;
using TouchpointTracker.Enrichment.Privacy;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>What the collector knows about the request beside its body; the IP never leaves the collector.</summary>
public readonly record struct RequestFacts(DateTimeOffset ReceivedAt, string? UserAgent, IPAddress? ClientIp);

/// <summary>
/// Turns validated beacon events into enriched touchpoints. No I/O: the enricher's tables are in memory.
/// Personal data is redacted from the URLs first, so nothing derived from them (query, campaign) holds it;
/// user ids, e-mails and phone numbers in the properties are hashed (<see cref="IdentifyProps"/>).
/// </summary>
public sealed class TouchpointFactory(Enricher enricher, IOptions<EnrichmentOptions> options, UrlRedaction? redaction = null, UserIdPolicy? userIds = null)
{
    private readonly UserIdPolicy _userIds = userIds ?? UserIdPolicy.Default;
    private readonly bool _keepTruncatedIp = options.Value.KeepTruncatedIp;
    private readonly UrlRedaction _redaction = redaction ?? UrlRedaction.Default;

    public Touchpoint Create(Beacon beacon, BeaconEvent e, in RequestFacts facts)
    {
        var tp = new Touchpoint
        {
            EventId = e.Id!,
            SiteId = beacon.Site!,
            VisitorId = beacon.VisitorId!,
            SessionId = beacon.SessionId!,
            SessionIndex = beacon.SessionIndex,
            Type = e.Type!,
            Name = e.Name,
            ClientTs = FromEpoch(e.Timestamp),
            SentTs = FromEpoch(beacon.Sent),
            ReceivedTs = facts.ReceivedAt,
            DerivedTs = DerivedTimestamp(e.Timestamp, beacon.Sent, facts.ReceivedAt),
            // An identify's user id, and any e-mail or phone, only as SHA-256 from here on (docs/identity.md).
            Props = e.Props is { Count: > 0 } ? IdentifyProps.Protect(e.Type!, e.Props, _userIds) : null,
            Context = beacon.Context is { } c ? new ContextInfo
            {
                Screen = c.ScreenWidth is { } w && c.ScreenHeight is { } h ? $"{w}x{h}" : null,
                Language = Truncate(c.Language, 35),
                TimeZone = Truncate(c.TimeZone, 64),
                Storage = c.Storage is "gpc" or "none" ? c.Storage : null,
            } : null,
        };
        var redactor = _redaction.For(tp.SiteId);
        var land = beacon.Landing;
        var landingUrl = redactor.Redact(land?.Url, ownPage: true);
        var landingReferrer = ExternalReferrer(land?.Url, land?.Referrer) is { } external ? redactor.Redact(external, ownPage: false) : null;
        if (landingUrl is not null || landingReferrer is not null)
        {
            tp.Landing = new LandingInfo { Url = landingUrl, Referrer = landingReferrer };
        }

        var enriched = enricher.Enrich(tp.SiteId, redactor.Redact(e.Url, ownPage: true), redactor.Redact(e.Referrer, ownPage: false), landingUrl, landingReferrer, facts.UserAgent, facts.ClientIp);
        enriched.ApplyTo(tp);
        tp.Page.Title = e.Title;
        // The tag does not read the browser's time zone (it cost the first page view ~40 ms of script): the
        // location's, from a City database, stands in for it.
        if (string.IsNullOrEmpty(tp.Context?.TimeZone) && tp.Geo?.TimeZone is { Length: > 0 and <= 64 } zone)
        {
            tp.Context ??= new ContextInfo();
            tp.Context.TimeZone = zone;
        }
        if (_keepTruncatedIp && facts.ClientIp is { } ip)
        {
            tp.Geo ??= new GeoInfo();
            tp.Geo.IpTruncated = IpTruncation.TruncateToString(ip);
        }
        return tp;
    }

    /// <summary>
    /// The event time on the collector's clock: received − (sent − created), which removes the client's
    /// clock error. Without a send time it falls back to the received time.
    /// </summary>
    public static DateTimeOffset DerivedTimestamp(long? created, long? sent, DateTimeOffset received)
    {
        if (created is not { } c || sent is not { } s || s < c)
        {
            return received;
        }
        return received - TimeSpan.FromMilliseconds(s - c);
    }

    /// <summary>
    /// The session's referrer, or null when there is none or it is a page of the landing page's own origin:
    /// a session that starts on an internal link (after 30 idle minutes), on an SPA route change or on a
    /// back/forward cache restore has no acquisition referrer. The tag sends the referrer as it has it and
    /// leaves this to the collector; tags before that sent such a referrer empty, which gives the same result.
    /// </summary>
    public static string? ExternalReferrer(string? landingUrl, string? referrer)
    {
        if (string.IsNullOrEmpty(referrer))
        {
            return null;
        }
        if (CannotBeTheLandingOrigin(landingUrl, referrer))
        {
            return referrer;
        }
        return Uri.TryCreate(landingUrl, UriKind.Absolute, out var landing)
            && landing.Scheme is "http" or "https"
            && referrer.StartsWith(landing.Scheme + "://" + landing.Authority + "/", StringComparison.OrdinalIgnoreCase)
            ? null
            : referrer;
    }

    /// <summary>
    /// Proves without parsing the landing URL (a <see cref="Uri"/> cost about 2 % of a request) that the referrer is not of
    /// its origin: the referrer's host[:port] must then appear in the landing URL as typed, because for an ASCII URL
    /// without percent escapes <see cref="Uri.Authority"/> only lower-cases the host, drops a default port and rewrites
    /// numeric IP addresses (so the referrer's authority must be a host name with a letter and no port). False means
    /// "parse to decide", never "same origin". A property test holds it to the <see cref="Uri"/> answer.
    /// </summary>
    internal static bool CannotBeTheLandingOrigin(string? landingUrl, string referrer)
    {
        var r = referrer.AsSpan();
        int start;
        if (r.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            start = 8;
        }
        else if (r.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            start = 7;
        }
        else
        {
            return true; // the landing's scheme is http or https, so "scheme://authority/" cannot start the referrer
        }
        var slash = r[start..].IndexOf('/');
        if (slash <= 0)
        {
            return true; // no "/" after a non-empty authority: the prefix cannot match
        }
        var authority = r.Slice(start, slash);
        var letter = false;
        foreach (var c in authority)
        {
            if (c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z'))
            {
                letter = true;
            }
            else if (c is not ((>= '0' and <= '9') or '.' or '-'))
            {
                return false; // a port (leading zeros, a default one), userinfo, IPv6, escapes: let Uri decide
            }
        }
        if (!letter || landingUrl is null)
        {
            return landingUrl is null;
        }
        foreach (var c in landingUrl)
        {
            if (c is '%' or > '\u007e' or < ' ')
            {
                return false;
            }
        }
        return !landingUrl.AsSpan().Contains(authority, StringComparison.OrdinalIgnoreCase);
    }

    private static DateTimeOffset? FromEpoch(long? ms) =>
        ms is { } v && v > 0 && v < 253_402_300_799_000 ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}
