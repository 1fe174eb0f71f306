using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>What the collect handlers need, as one parameter.</summary>
public sealed record CollectDependencies(
    IngestPipeline Pipeline,
    IngestMetrics Metrics,
    IOptions<CollectorOptions> Options,
    IOptions<BufferOptions> BufferOptions,
    IOptions<EdgeOptions> EdgeOptions);

/// <summary>The answer to a beacon that was stored (fully or in part).</summary>
public sealed record CollectResponse(int Accepted, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string? Id, string Reason, string Detail);

/// <summary>
/// POST /collect: beacons from the tag, as text/plain (no CORS preflight) or application/json.
/// GET /collect?d=&lt;base64url beacon&gt;: the same as a 1x1 GIF, for &lt;noscript&gt; and email opens.
/// </summary>
public static class CollectApi
{
    public const string RateLimitPolicy = "collect";

    /// <summary>The smallest transparent 1x1 GIF.</summary>
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    public static RouteGroupBuilder MapCollectApi(this IEndpointRouteBuilder app, string path, bool rateLimited)
    {
        var group = app.MapGroup(path);
        group.MapPost("", CollectAsync);
        group.MapGet("", PixelAsync);
        group.MapMethods("", [HttpMethods.Options], Preflight);
        if (rateLimited)
        {
            group.RequireRateLimiting(RateLimitPolicy);
        }
        return group;
    }

    public static async Task<Results<Accepted<CollectResponse>, ProblemHttpResult>> CollectAsync(
        HttpContext http, [AsParameters] CollectDependencies deps)
    {
        var started = Stopwatch.GetTimestamp();
        var options = deps.Options.Value;
        var request = http.Request;
        AllowOrigin(http);
        // Rent what the body needs (beacons are ~1 KB), not the 64 KB limit: large rentals end up on the large object heap.
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } declared && declared <= options.MaxBodyBytes ? (int)declared + 1 : 16 * 1024);
        try
        {
            IngestOutcome outcome;
            if (!IsAcceptedContentType(request.ContentType))
            {
                outcome = deps.Pipeline.Refuse(RejectReasons.UnsupportedMediaType, "Send the beacon as JSON with Content-Type text/plain or application/json.", null, 0);
            }
            else if (request.ContentLength > options.MaxBodyBytes)
            {
                outcome = deps.Pipeline.Refuse(RejectReasons.BodyTooLarge, $"The body is {request.ContentLength} bytes; the limit is {options.MaxBodyBytes}.", null, 0);
            }
            else
            {
                (buffer, var length) = await ReadBodyAsync(request.Body, buffer, options.MaxBodyBytes + 1, http.RequestAborted);
                outcome = await deps.Pipeline.IngestAsync(buffer.AsMemory(0, length), RequestOf(http, deps), http.RequestAborted);
            }
            return ToResult(http, outcome, deps);
        }
        catch (BadHttpRequestException ex)
        {
            return ToResult(http, deps.Pipeline.Refuse(RejectReasons.UnreadableBody, "The request body could not be read: " + ex.Message, null, 0), deps);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            deps.Metrics.ObserveLatency(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The pixel: the beacon travels base64url-encoded in <c>d</c>; the answer is always a GIF, its status says what happened.</summary>
    public static async Task<IResult> PixelAsync(HttpContext http, string? d, [AsParameters] CollectDependencies deps)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            IngestOutcome outcome;
            if (string.IsNullOrEmpty(d))
            {
                outcome = deps.Pipeline.Refuse(RejectReasons.EmptyBody, "Pass the beacon base64url-encoded in the 'd' query parameter.", null, 0);
            }
            else if (!TryDecodeBase64Url(d, deps.Options.Value.MaxBodyBytes, out var body))
            {
                outcome = deps.Pipeline.Refuse(RejectReasons.InvalidJson, "'d' is not base64url or decodes to more than the body limit.", null, 0);
            }
            else
            {
                outcome = await deps.Pipeline.IngestAsync(body, RequestOf(http, deps), http.RequestAborted);
            }
            if (outcome.IsStored)
            {
                SetVisitorCookie(http, deps.EdgeOptions.Value, outcome.VisitorId);
            }
            else if (RejectReasons.StatusFor(outcome.Refusal!.Reason) == StatusCodes.Status503ServiceUnavailable)
            {
                SetRetryAfter(http, deps);
            }
            http.Response.Headers.CacheControl = "no-store";
            return outcome.IsStored
                ? TypedResults.File(Pixel, "image/gif")
                : new StatusFileResult(RejectReasons.StatusFor(outcome.Refusal!.Reason), Pixel, outcome.Refusal.Reason);
        }
        finally
        {
            deps.Metrics.ObserveLatency(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Preflight for application/json beacons; the site and origin are checked on the POST itself.</summary>
    public static NoContent Preflight(HttpContext http)
    {
        AllowOrigin(http);
        http.Response.Headers.AccessControlAllowMethods = "POST, GET, OPTIONS";
        http.Response.Headers.AccessControlAllowHeaders = "Content-Type";
        http.Response.Headers.AccessControlMaxAge = "86400";
        return TypedResults.NoContent();
    }

    private static Results<Accepted<CollectResponse>, ProblemHttpResult> ToResult(HttpContext http, IngestOutcome outcome, CollectDependencies deps)
    {
        if (outcome.IsStored)
        {
            SetVisitorCookie(http, deps.EdgeOptions.Value, outcome.VisitorId);
            return TypedResults.Accepted((string?)null, new CollectResponse(outcome.Accepted, outcome.Rejected));
        }
        var refusal = outcome.Refusal!;
        var status = RejectReasons.StatusFor(refusal.Reason);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            SetRetryAfter(http, deps);
        }
        var problem = Problem(status, refusal.Reason, refusal.Detail);
        if (outcome.Rejected.Count > 0)
        {
            problem.ProblemDetails.Extensions["rejected"] = outcome.Rejected;
        }
        return problem;
    }

    private static IngestRequest RequestOf(HttpContext http, CollectDependencies deps)
    {
        var cookieName = deps.EdgeOptions.Value.VisitorCookieName;
        var cookie = string.IsNullOrEmpty(cookieName) ? null : http.Request.Cookies[cookieName];
        return new IngestRequest(
            http.Request.Headers.Origin.ToString(),
            http.Request.Headers.UserAgent.ToString(),
            http.Connection.RemoteIpAddress,
            cookie is { Length: > 0 and <= 128 } ? cookie : null);
    }

    /// <summary>
    /// CORS for the tag: the page's origin is echoed (credentials allowed, so the collector's own
    /// visitor cookie travels); whether that origin may send for the site is checked per beacon.
    /// </summary>
    private static void AllowOrigin(HttpContext http)
    {
        var origin = http.Request.Headers.Origin.ToString();
        var headers = http.Response.Headers;
        if (string.IsNullOrEmpty(origin) || origin == "null")
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

    private static void SetRetryAfter(HttpContext http, CollectDependencies deps) =>
        http.Response.Headers.RetryAfter = deps.BufferOptions.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void SetVisitorCookie(HttpContext http, EdgeOptions edge, string? visitorId)
    {
        if (string.IsNullOrEmpty(edge.VisitorCookieName) || string.IsNullOrEmpty(visitorId))
        {
            return;
        }
        http.Response.Cookies.Append(edge.VisitorCookieName, visitorId, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            MaxAge = TimeSpan.FromDays(edge.VisitorCookieDays),
            Domain = string.IsNullOrEmpty(edge.VisitorCookieDomain) ? null : edge.VisitorCookieDomain,
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

    /// <summary>A GIF with an error status, the reason in a header (images have no body to explain).</summary>
    private sealed class StatusFileResult(int status, byte[] body, string reason) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "image/gif";
            httpContext.Response.Headers["X-Reject-Reason"] = reason;
            await httpContext.Response.Body.WriteAsync(body);
        }
    }
}
