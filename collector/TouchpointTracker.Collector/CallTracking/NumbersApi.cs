using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Enrichment;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>Stable reasons of <c>GET /numbers</c> beside those it shares with <c>/collect</c>.</summary>
public static class NumbersReasons
{
    public const string InvalidPhone = "invalid_phone";
    public const string InvalidChannel = "invalid_channel";
    public const string StoreUnavailable = "store_unavailable";

    public static int StatusFor(string reason) => reason switch
    {
        RejectReasons.UnknownSite or RejectReasons.OriginNotAllowed => StatusCodes.Status403Forbidden,
        StoreUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };
}

/// <summary>
/// <c>GET /numbers?site=&amp;vid=&amp;sid=&amp;phone=&amp;url=&amp;ref=</c> (or <c>&amp;channel=</c>): the tracking number this
/// visitor is shown in place of the site's published number. The pool is chosen by the published number
/// (<c>phone</c>, optional) and the session's channel: given as <c>channel</c>, or classified from the landing URL
/// and referrer (<c>url</c>, <c>ref</c>) by the same enrichment as the beacons. 200 with the number, 204 when no
/// pool serves the session, 4xx with a stable reason (counted), 503 when the store is unreachable. CORS as /collect;
/// never cached.
/// </summary>
public sealed class NumbersApi(
    CallTrackingCatalog catalog,
    INumberStore store,
    SiteRegistry sites,
    IngestMetrics metrics,
    CallTrackingMetrics callMetrics,
    EnrichmentSetup enrichment,
    TimeProvider clock,
    IOptions<CollectorOptions> options,
    IOptions<EdgeOptions> edge,
    IOptions<BufferOptions> buffer)
{
    private readonly Enricher _enricher = enrichment.Enricher;
    private readonly int _maxUrl = options.Value.MaxUrlLength;
    private readonly string? _cookie = edge.Value.VisitorCookieName is { Length: > 0 } c ? c : null;
    private readonly string _retryAfter = buffer.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    public RouteGroupBuilder Map(IEndpointRouteBuilder app, string path, bool rateLimited)
    {
        var group = app.MapGroup(path);
        group.MapGet("", (RequestDelegate)GetAsync);
        if (rateLimited)
        {
            group.RequireRateLimiting(CollectApi.RateLimitPolicy);
        }
        return group;
    }

    public async Task GetAsync(HttpContext http)
    {
        var q = http.Request.Query;
        var response = http.Response;
        response.Headers.CacheControl = "no-store";
        var origin = http.Request.Headers.Origin.ToString();
        var site = q["site"].ToString();
        if (site.Length == 0)
        {
            await RefuseAsync(http, RejectReasons.MissingSite, null, "Pass the site key as 'site'.", false);
            return;
        }
        if (!sites.TryGet(site, out var siteOptions))
        {
            await RefuseAsync(http, RejectReasons.UnknownSite, null, $"Site key '{site}' is not configured on this collector.", false);
            return;
        }
        var url = q["url"].ToString();
        var referrer = q["ref"].ToString();
        var checkedOrigin = origin == "null" ? (url.Length > 0 ? url : "null") : origin;
        if (!SiteRegistry.OriginAllowed(siteOptions, checkedOrigin))
        {
            await RefuseAsync(http, RejectReasons.OriginNotAllowed, site, $"Pages of '{checkedOrigin}' may not ask numbers of site '{site}'.", false);
            return;
        }
        var visitor = q["vid"].ToString();
        var session = q["sid"].ToString();
        var gpc = http.Request.Headers["Sec-GPC"].ToString() == "1" && !siteOptions.IgnoreGpc;
        if (!gpc && _cookie is not null && http.Request.Cookies[_cookie] is { } cookie && BeaconReader.IsValidId(cookie))
        {
            visitor = cookie; // the collector's own visitor cookie replaces the tag's id, as it does for beacons
        }
        string? reason = null, detail = null;
        string? replaces = null;
        if (!BeaconReader.IsValidId(visitor))
        {
            (reason, detail) = (RejectReasons.InvalidVisitor, "'vid' must be 1 to 128 printable characters without spaces.");
        }
        else if (session.Length > 0 && !BeaconReader.IsValidId(session))
        {
            (reason, detail) = (RejectReasons.InvalidSession, "'sid' must be 1 to 128 printable characters without spaces.");
        }
        else if (q["phone"].ToString() is { Length: > 0 } phone && (replaces = PhoneNumbers.Normalize(phone)) is null)
        {
            (reason, detail) = (NumbersReasons.InvalidPhone, "'phone' must be the published number in international form, e.g. +33 1 23 45 67 89.");
        }
        else if (url.Length > _maxUrl || referrer.Length > _maxUrl)
        {
            (reason, detail) = (RejectReasons.UrlTooLong, $"'url' and 'ref' are at most {_maxUrl} characters.");
        }
        if (reason is not null)
        {
            await RefuseAsync(http, reason, site, detail!, true);
            return;
        }
        var channel = q["channel"].ToString() is { Length: > 0 } given ? given : null;
        if (channel is not null && !CallTrackingCatalog.IsChannel(channel, out channel))
        {
            await RefuseAsync(http, NumbersReasons.InvalidChannel, site, "'channel' must be a channel name of the reports, e.g. Paid Search.", true);
            return;
        }
        if (channel is null && (url.Length > 0 || referrer.Length > 0))
        {
            channel = _enricher.Enrich(site, url, null, url, referrer, null, null).Channel;
        }

        var pool = catalog.Select(site, replaces, channel);
        Ingest.CollectApi.AllowOrigin(http, true); // CORS as /collect
        if (pool is null || gpc)
        {
            // No pool serves this session (or the browser sends Global Privacy Control): the page keeps its number.
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        NumberGiven given2;
        try
        {
            given2 = await store.AssignAsync(pool, visitor, session, clock.GetUtcNow(), http.RequestAborted);
        }
        catch (NumberStoreUnavailableException ex)
        {
            response.Headers.RetryAfter = _retryAfter;
            await RefuseAsync(http, NumbersReasons.StoreUnavailable, site, ex.Message, true);
            return;
        }
        callMetrics.CountGiven(pool, given2);
        var body = Answer(pool, given2.Number);
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, http.RequestAborted);
    }

    /// <summary>The answer: the number, its national display, the pool, and what the tag needs to find the published number in all its forms.</summary>
    public static byte[] Answer(NumberPool pool, string number)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("number", number);
            w.WriteString("display", pool.DisplayOf(number));
            w.WriteString("pool", pool.Name);
            w.WriteString("replaces", pool.Replaces);
            w.WriteString("cc", pool.CountryCode);
            w.WriteString("trunk", PhoneNumbers.TrunkOf(pool.CountryCode));
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private Task RefuseAsync(HttpContext http, string reason, string? site, string detail, bool originAllowed)
    {
        metrics.CountRejectedBatch(reason, site, 0);
        Ingest.CollectApi.AllowOrigin(http, originAllowed);
        var status = NumbersReasons.StatusFor(reason);
        var problem = TypedResults.Problem(detail: detail, statusCode: status, title: reason.Replace('_', ' '), type: "urn:touchpointtracker:problem:" + reason);
        problem.ProblemDetails.Extensions["reason"] = reason;
        return problem.ExecuteAsync(http);
    }
}
