using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>What the collect handler needs, as one parameter.</summary>
public sealed record CollectDependencies(
    BeaconReader Reader,
    SiteRegistry Sites,
    TouchpointFactory Factory,
    IEventBuffer Buffer,
    IngestMetrics Metrics,
    TimeProvider Clock,
    IOptions<CollectorOptions> Options,
    IOptions<BufferOptions> BufferOptions);

/// <summary>The answer to a beacon that was stored (fully or in part).</summary>
public sealed record CollectResponse(int Accepted, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string? Id, string Reason, string Detail);

/// <summary>POST /collect: beacons from the tag, as text/plain (no CORS preflight) or application/json.</summary>
public static class CollectApi
{
    public static RouteGroupBuilder MapCollectApi(this IEndpointRouteBuilder app, string path)
    {
        var group = app.MapGroup(path);
        group.MapPost("", CollectAsync);
        group.MapMethods("", [HttpMethods.Options], Preflight);
        return group;
    }

    public static async Task<Results<Accepted<CollectResponse>, ProblemHttpResult>> CollectAsync(
        HttpContext http, [AsParameters] CollectDependencies deps)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await HandleAsync(http, deps);
        }
        finally
        {
            deps.Metrics.ObserveLatency(Stopwatch.GetElapsedTime(started));
        }
    }

    private static async Task<Results<Accepted<CollectResponse>, ProblemHttpResult>> HandleAsync(HttpContext http, CollectDependencies deps)
    {
        var options = deps.Options.Value;
        var request = http.Request;
        var origin = request.Headers.Origin.ToString();
        AllowOrigin(http, origin);

        if (!IsAcceptedContentType(request.ContentType))
        {
            return Refuse(deps, RejectReasons.UnsupportedMediaType, "Send the beacon as JSON with Content-Type text/plain or application/json.", null, 0);
        }
        if (request.ContentLength > options.MaxBodyBytes)
        {
            return Refuse(deps, RejectReasons.BodyTooLarge, $"The body is {request.ContentLength} bytes; the limit is {options.MaxBodyBytes}.", null, 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(options.MaxBodyBytes + 1);
        try
        {
            var length = await ReadBodyAsync(request.Body, buffer, options.MaxBodyBytes + 1, http.RequestAborted);
            var read = deps.Reader.Read(buffer.AsSpan(0, length));
            if (read.BatchRejection is { } refused)
            {
                return Refuse(deps, refused.Reason, refused.Detail, read.Beacon?.Site, read.Beacon?.Events?.Count ?? 0);
            }
            var beacon = read.Beacon!;
            var site = beacon.Site!;
            if (!deps.Sites.TryGet(site, out var siteOptions))
            {
                return Refuse(deps, RejectReasons.UnknownSite, $"Site key '{site}' is not configured on this collector.", null, beacon.Events!.Count);
            }
            var pageOrigin = string.IsNullOrEmpty(origin) ? beacon.Events!.Select(e => e.Url).FirstOrDefault(u => u is not null) : origin;
            if (!SiteRegistry.OriginAllowed(siteOptions, pageOrigin))
            {
                return Refuse(deps, RejectReasons.OriginNotAllowed, $"Pages of '{pageOrigin}' may not send events for site '{site}'.", site, beacon.Events!.Count);
            }
            foreach (var r in read.Rejected)
            {
                deps.Metrics.CountRejectedEvent(r.Reason, site);
            }
            var rejected = read.Rejected.Select(r => new RejectedEvent(r.EventIndex ?? -1, r.EventId, r.Reason, r.Detail)).ToList();
            if (read.Accepted.Count == 0)
            {
                var problem = Problem(RejectReasons.StatusFor(read.Rejected[0].Reason), read.Rejected[0].Reason,
                    $"No event in the batch is valid. First problem: {read.Rejected[0].Detail}");
                problem.ProblemDetails.Extensions["rejected"] = rejected;
                deps.Metrics.RejectedBatches.Inc(ServiceDefaults.MetricsRegistry.Labels(("reason", read.Rejected[0].Reason), ("site", site)));
                return problem;
            }

            var facts = new RequestFacts(deps.Clock.GetUtcNow(), request.Headers.UserAgent.ToString(), http.Connection.RemoteIpAddress);
            var touchpoints = new Touchpoint[read.Accepted.Count];
            for (var i = 0; i < touchpoints.Length; i++)
            {
                touchpoints[i] = deps.Factory.Create(beacon, read.Accepted[i], facts);
            }

            var outcome = await deps.Buffer.AppendAsync(touchpoints, http.RequestAborted);
            if (outcome != AppendOutcome.Stored)
            {
                var reason = outcome == AppendOutcome.Full ? RejectReasons.BufferFull : RejectReasons.BufferUnavailable;
                http.Response.Headers.RetryAfter = deps.BufferOptions.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Refuse(deps, reason, outcome == AppendOutcome.Full
                    ? "The collector's buffer is full; keep the batch and retry after the delay given."
                    : "The collector's buffer is unreachable; keep the batch and retry after the delay given.", site, touchpoints.Length);
            }
            deps.Metrics.CountAccepted(site, touchpoints.Length);
            return TypedResults.Accepted((string?)null, new CollectResponse(touchpoints.Length, rejected));
        }
        catch (BadHttpRequestException ex)
        {
            return Refuse(deps, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? RejectReasons.BodyTooLarge : RejectReasons.InvalidJson,
                "The request body could not be read: " + ex.Message, null, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Preflight for application/json beacons; the site and origin are checked on the POST itself.</summary>
    public static NoContent Preflight(HttpContext http)
    {
        AllowOrigin(http, http.Request.Headers.Origin.ToString());
        http.Response.Headers.AccessControlAllowMethods = "POST, OPTIONS";
        http.Response.Headers.AccessControlAllowHeaders = "Content-Type";
        http.Response.Headers.AccessControlMaxAge = "86400";
        return TypedResults.NoContent();
    }

    private static void AllowOrigin(HttpContext http, string origin)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = string.IsNullOrEmpty(origin) ? "*" : origin;
        headers.AccessControlExposeHeaders = "Retry-After";
        headers.Vary = "Origin";
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

    private static async Task<int> ReadBodyAsync(Stream body, byte[] buffer, int max, CancellationToken ct)
    {
        var total = 0;
        int n;
        while (total < max && (n = await body.ReadAsync(buffer.AsMemory(total, max - total), ct)) > 0)
        {
            total += n;
        }
        return total;
    }

    private static ProblemHttpResult Refuse(CollectDependencies deps, string reason, string detail, string? site, int events)
    {
        deps.Metrics.CountRejectedBatch(reason, site, events);
        return Problem(RejectReasons.StatusFor(reason), reason, detail);
    }

    private static ProblemHttpResult Problem(int status, string reason, string detail)
    {
        var problem = TypedResults.Problem(detail: detail, statusCode: status, title: reason.Replace('_', ' '), type: "urn:touchpointtracker:problem:" + reason);
        problem.ProblemDetails.Extensions["reason"] = reason;
        return problem;
    }
}
