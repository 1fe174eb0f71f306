using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>The answer to a beacon that was stored (fully or in part).</summary>
public sealed record CollectResponse(int Accepted, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string? Id, string Reason, string Detail);

/// <summary>
/// POST /collect: beacons from the tag, as text/plain (no CORS preflight) or application/json.
/// GET /collect?d=&lt;base64url beacon&gt;: the same as a 1x1 GIF, for &lt;noscript&gt; and email opens.
/// One instance serves every request: its dependencies are bound once, not per request, and the common
/// answer (every event taken) is written from cached bytes.
/// </summary>
public sealed class CollectApi(
    BeaconIngestor ingestor,
    SiteRegistry sites,
    IngestMetrics metrics,
    IOptions<CollectorOptions> options,
    IOptions<BufferOptions> bufferOptions,
    IOptions<EdgeOptions> edgeOptions,
    IOptions<JsonOptions> json)
{
    public const string RateLimitPolicy = "collect";

    /// <summary>The smallest transparent 1x1 GIF.</summary>
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    private readonly CollectorOptions _options = options.Value;
    private readonly EdgeOptions _edge = edgeOptions.Value;
    private readonly string _retryAfter = bufferOptions.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;
    private readonly byte[][] _acceptedAll = AcceptedAnswers(options.Value.MaxEventsPerBatch);

    public RouteGroupBuilder Map(IEndpointRouteBuilder app, string path, bool rateLimited)
    {
        var group = app.MapGroup(path);
        group.MapPost("", (RequestDelegate)PostAsync);
        group.MapGet("", (RequestDelegate)PixelAsync);
        group.MapMethods("", [HttpMethods.Options], (RequestDelegate)Preflight);
        if (rateLimited)
        {
            group.RequireRateLimiting(RateLimitPolicy);
        }
        return group;
    }

    public async Task PostAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var request = http.Request;
        // Rent what the body needs (beacons are ~1 KB), not the 64 KB limit: large rentals end up on the large object heap.
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } declared && declared <= _options.MaxBodyBytes ? (int)declared + 1 : 16 * 1024);
        try
        {
            IngestOutcome outcome;
            if (!IsAcceptedContentType(request.ContentType))
            {
                outcome = ingestor.Refuse(RejectReasons.UnsupportedMediaType, "Send the beacon as JSON with Content-Type text/plain or application/json.", null, 0);
            }
            else if (request.ContentLength > _options.MaxBodyBytes)
            {
                outcome = ingestor.Refuse(RejectReasons.BodyTooLarge, $"The body is {request.ContentLength} bytes; the limit is {_options.MaxBodyBytes}.", null, 0);
            }
            else
            {
                int length;
                try
                {
                    (buffer, length) = await ReadBodyAsync(request.Body, buffer, _options.MaxBodyBytes + 1, http.RequestAborted);
                }
                catch (BadHttpRequestException ex)
                {
                    await WriteOutcomeAsync(http, ingestor.Refuse(RejectReasons.UnreadableBody, "The request body could not be read: " + ex.Message, null, 0));
                    return;
                }
                outcome = await ingestor.IngestAsync(buffer.AsMemory(0, length), RequestOf(http), http.RequestAborted);
            }
            await WriteOutcomeAsync(http, outcome);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            metrics.ObserveLatency(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The pixel: the beacon travels base64url-encoded in <c>d</c>; the answer is always a GIF, its status says what happened.</summary>
    public async Task PixelAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var d = http.Request.Query["d"].ToString();
            IngestOutcome outcome;
            if (string.IsNullOrEmpty(d))
            {
                outcome = ingestor.Refuse(RejectReasons.EmptyBody, "Pass the beacon base64url-encoded in the 'd' query parameter.", null, 0);
            }
            else if (!TryDecodeBase64Url(d, _options.MaxBodyBytes, out var body))
            {
                outcome = ingestor.Refuse(RejectReasons.InvalidJson, "'d' is not base64url or decodes to more than the body limit.", null, 0);
            }
            else
            {
                outcome = await ingestor.IngestAsync(body, RequestOf(http), http.RequestAborted);
            }
            var response = http.Response;
            response.Headers.CacheControl = "no-store";
            response.ContentType = "image/gif";
            response.ContentLength = Pixel.Length;
            if (outcome.IsStored)
            {
                SetVisitorCookie(http, outcome.VisitorId);
            }
            else
            {
                response.StatusCode = RejectReasons.StatusFor(outcome.Refusal!.Reason);
                response.Headers["X-Reject-Reason"] = outcome.Refusal.Reason;
                if (response.StatusCode == StatusCodes.Status503ServiceUnavailable)
                {
                    response.Headers.RetryAfter = _retryAfter;
                }
            }
            await response.Body.WriteAsync(Pixel, http.RequestAborted);
        }
        finally
        {
            metrics.ObserveLatency(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Preflight for application/json beacons: the origin is echoed (credentials allowed) only when some site
    /// accepts its pages; the site itself is checked on the POST.
    /// </summary>
    public Task Preflight(HttpContext http)
    {
        AllowOrigin(http, sites.AnySiteAllows(http.Request.Headers.Origin.ToString()));
        var headers = http.Response.Headers;
        headers.AccessControlAllowMethods = "POST, GET, OPTIONS";
        headers.AccessControlAllowHeaders = "Content-Type";
        headers.AccessControlMaxAge = "86400";
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>
    /// 202 with what was taken and what was not; a refusal as an RFC 7807 problem with its reason. The
    /// everyday answer, every event taken, is a cached byte array.
    /// </summary>
    private Task WriteOutcomeAsync(HttpContext http, IngestOutcome outcome)
    {
        AllowOrigin(http, outcome.OriginAllowed);
        var response = http.Response;
        if (outcome.IsStored)
        {
            SetVisitorCookie(http, outcome.VisitorId);
            response.StatusCode = StatusCodes.Status202Accepted;
            if (outcome.Rejected.Count == 0 && outcome.Accepted < _acceptedAll.Length)
            {
                var body = _acceptedAll[outcome.Accepted];
                response.ContentType = "application/json; charset=utf-8";
                response.ContentLength = body.Length;
                return response.Body.WriteAsync(body, http.RequestAborted).AsTask();
            }
            return response.WriteAsJsonAsync(new CollectResponse(outcome.Accepted, outcome.Rejected), _json, http.RequestAborted);
        }
        var refusal = outcome.Refusal!;
        var status = RejectReasons.StatusFor(refusal.Reason);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = _retryAfter;
        }
        var problem = Problem(status, refusal.Reason, refusal.Detail);
        if (outcome.Rejected.Count > 0)
        {
            problem.ProblemDetails.Extensions["rejected"] = outcome.Rejected;
        }
        return problem.ExecuteAsync(http);
    }

    private static byte[][] AcceptedAnswers(int maxEvents)
    {
        var answers = new byte[maxEvents + 1][];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = Encoding.UTF8.GetBytes($"{{\"accepted\":{i},\"rejected\":[]}}");
        }
        return answers;
    }

    private IngestRequest RequestOf(HttpContext http)
    {
        var cookieName = _edge.VisitorCookieName;
        var cookie = string.IsNullOrEmpty(cookieName) ? null : http.Request.Cookies[cookieName];
        return new IngestRequest(
            http.Request.Headers.Origin.ToString(),
            http.Request.Headers.UserAgent.ToString(),
            http.Connection.RemoteIpAddress,
            // The cookie replaces the beacon's vid after validation, so it must pass the same rule: a value that does
            // not (newlines, markup, bidi overrides, NUL once percent-decoded) is ignored and overwritten with the vid.
            BeaconReader.IsValidId(cookie) ? cookie : null,
            IsGpc(http));
    }

    /// <summary>
    /// CORS for the tag. An origin allowed for the beacon's site is echoed with credentials (so the collector's
    /// own visitor cookie travels). Any other answer (an origin the site refuses, or a body refused before its
    /// site was known) gets <c>*</c> without credentials: the page can read the status, so the tag does not
    /// retry a 4xx as a network error, but no credentialed response is shared with a foreign origin.
    /// </summary>
    internal static void AllowOrigin(HttpContext http, bool allowed)
    {
        var origin = http.Request.Headers.Origin.ToString();
        var headers = http.Response.Headers;
        if (!allowed || string.IsNullOrEmpty(origin) || origin == "null")
        {
            headers.AccessControlAllowOrigin = "*";
        }
        else
        {
            headers.AccessControlAllowOrigin = origin;
            headers.AccessControlAllowCredentials = "true";
        }
        headers.AccessControlExposeHeaders = "Retry-After";
        headers.Vary = "Origin";
    }

    /// <summary>Global Privacy Control: the browser sends <c>Sec-GPC: 1</c>.</summary>
    private static bool IsGpc(HttpContext http) => http.Request.Headers["Sec-GPC"].ToString() == "1";

    private void SetVisitorCookie(HttpContext http, string? visitorId)
    {
        // Under GPC the outcome carries no visitor id unless the site ignores GPC (IgnoreGpc).
        if (string.IsNullOrEmpty(_edge.VisitorCookieName) || string.IsNullOrEmpty(visitorId))
        {
            return;
        }
        http.Response.Cookies.Append(_edge.VisitorCookieName, visitorId, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            MaxAge = TimeSpan.FromDays(_edge.VisitorCookieDays),
            Domain = string.IsNullOrEmpty(_edge.VisitorCookieDomain) ? null : _edge.VisitorCookieDomain,
            Path = "/",
            IsEssential = true,
        });
    }

    /// <summary>
    /// text/plain (the tag: no preflight), application/json, and the form type curl and some beacon
    /// libraries send by default; the body is read as JSON in every case.
    /// </summary>
    private static bool IsAcceptedContentType(string? contentType) =>
        string.IsNullOrEmpty(contentType) ||
        contentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) ||
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ||
        contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads up to <paramref name="max"/> bytes, growing the rented buffer when the body is longer than declared.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(Stream body, byte[] buffer, int max, CancellationToken ct)
    {
        var total = 0;
        while (total < max)
        {
            if (total == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(max, buffer.Length * 2));
                buffer.AsSpan(0, total).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            var n = await body.ReadAsync(buffer.AsMemory(total, Math.Min(buffer.Length, max) - total), ct);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return (buffer, total);
    }

    internal static bool TryDecodeBase64Url(string value, int maxBytes, out byte[] decoded)
    {
        decoded = [];
        if (value.Length > (maxBytes + 2) / 3 * 4 + 4)
        {
            return false;
        }
        var s = value.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        try
        {
            decoded = Convert.FromBase64String(s);
            return decoded.Length <= maxBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static ProblemHttpResult Problem(int status, string reason, string detail)
    {
        var problem = TypedResults.Problem(detail: detail, statusCode: status, title: reason.Replace('_', ' '), type: "urn:touchpointtracker:problem:" + reason);
        problem.ProblemDetails.Extensions["reason"] = reason;
        return problem;
    }
}
