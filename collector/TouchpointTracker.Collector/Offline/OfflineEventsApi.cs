using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Offline;

/// <summary>What the endpoint needs, bound once.</summary>
public sealed record OfflineEventsDependencies(
    ServerKeyRing Keys,
    OfflineEventValidator Validator,
    IIdempotencyStore Idempotency,
    IEventBuffer Buffer,
    IngestMetrics Metrics,
    TimeProvider Clock,
    OfflineOptions Options,
    BufferOptions BufferOptions)
{
    /// <summary>Call tracking: calls to pool numbers are given the visitor who held the number (null: no matching).</summary>
    public CallTracking.CallMatcher? Calls { get; init; }
}

/// <summary>
/// POST /api/v1/offline-events: events that happened off the site (calls, chats, meetings, CRM stages, revenue),
/// sent server to server with a site's server key, as JSON or CSV. The answer is 200 with one result per event
/// (accepted, duplicate or rejected with a stable reason), never all-or-nothing; a request refused whole is an
/// RFC 7807 problem with its reason. Accepted events go to the same buffer as beacons.
/// </summary>
public static class OfflineEventsApi
{
    public static IServiceCollection AddOfflineEvents(this IServiceCollection services)
    {
        services.AddOptions<OfflineOptions>().BindConfiguration(OfflineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ServerKeyRing>();
        services.AddSingleton(sp => new OfflineEventValidator(sp.GetRequiredService<IOptions<OfflineOptions>>().Value, sp.GetRequiredService<TouchpointTracker.Journeys.Identity.IdentityResolver>().Policy));
        services.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<CollectorRuntime>().IsEmbedded
            ? new IdempotencyCache(sp.GetRequiredService<IOptions<OfflineOptions>>().Value, sp.GetRequiredService<TimeProvider>())
            : new RedisIdempotencyStore(sp.GetRequiredService<RedisConnections>(), sp.GetRequiredService<IOptions<TouchpointTracker.Messaging.RedisOptions>>().Value,
                sp.GetRequiredService<IOptions<OfflineOptions>>().Value, sp.GetRequiredService<TouchpointTracker.ServiceDefaults.MetricsRegistry>(),
                sp.GetRequiredService<ILogger<RedisIdempotencyStore>>()));
        services.AddSingleton(sp => new OfflineEventsDependencies(
            sp.GetRequiredService<ServerKeyRing>(), sp.GetRequiredService<OfflineEventValidator>(), sp.GetRequiredService<IIdempotencyStore>(),
            sp.GetRequiredService<IEventBuffer>(), sp.GetRequiredService<IngestMetrics>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<OfflineOptions>>().Value, sp.GetRequiredService<IOptions<BufferOptions>>().Value)
        { Calls = sp.GetService<CallTracking.CallMatcher>() });
        return services;
    }

    public static RouteGroupBuilder MapOfflineEventsApi(this IEndpointRouteBuilder app)
    {
        var path = app.ServiceProvider.GetRequiredService<IOptions<CollectorOptions>>().Value.OfflineEventsPath;
        var group = app.MapGroup(path);
        var deps = app.ServiceProvider.GetRequiredService<OfflineEventsDependencies>();
        group.MapPost("", (Func<HttpContext, Task<IResult>>)(http => PostAsync(http, deps)));
        return group;
    }

    public static async Task<IResult> PostAsync(HttpContext http, OfflineEventsDependencies deps)
    {
        var request = http.Request;
        var key = ServerKeyRing.BearerOf(request.Headers.Authorization.ToString());
        if (key is null)
        {
            return Refuse(deps, OfflineReasons.MissingServerKey, null, "Send the site's server key as Authorization: Bearer <key>.");
        }
        var keySite = deps.Keys.SiteOf(key);
        if (keySite is null)
        {
            return Refuse(deps, OfflineReasons.UnknownServerKey, null, "The server key is not one of any site's Collector:Sites:<site>:ServerKeys.");
        }
        var isCsv = request.ContentType is { } ct && ct.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase);
        if (!isCsv && !(string.IsNullOrEmpty(request.ContentType) || request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)))
        {
            return Refuse(deps, OfflineReasons.UnsupportedMediaType, keySite, "Send application/json or text/csv.");
        }
        var idempotencyKey = request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 0)
        {
            if (!BeaconReader.IsValidId(idempotencyKey))
            {
                return Refuse(deps, OfflineReasons.InvalidIdempotencyKey, keySite, "Idempotency-Key must be 1 to 128 printable characters without spaces.");
            }
            if (await deps.Idempotency.GetAsync(keySite, idempotencyKey, http.RequestAborted) is { } first)
            {
                http.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Bytes(first, "application/json; charset=utf-8");
            }
        }
        var max = deps.Options.MaxBodyBytes;
        if (request.ContentLength > max)
        {
            return Refuse(deps, OfflineReasons.BodyTooLarge, keySite, $"The body is {request.ContentLength} bytes; the limit is {max}.");
        }
        byte[] body;
        try
        {
            body = await ReadBodyAsync(request.Body, max + 1, http.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            return Refuse(deps, OfflineReasons.UnreadableBody, keySite, "The request body could not be read: " + ex.Message);
        }
        if (body.Length > max)
        {
            return Refuse(deps, OfflineReasons.BodyTooLarge, keySite, $"The body is over the limit of {max} bytes.");
        }
        var batch = isCsv
            ? OfflineBodyReader.ReadCsv(body, request.Query["site"].ToString() is { Length: > 0 } s ? s : null, deps.Options.MaxCsvRows)
            : OfflineBodyReader.ReadJson(body, deps.Options.MaxEvents);
        if (batch.Reason is { } reason)
        {
            return Refuse(deps, reason, keySite, batch.Detail!);
        }
        // The site may be left out (the key names it); when given, it must be the key's.
        var site = batch.Site ?? keySite;
        if (!string.Equals(site, keySite, StringComparison.Ordinal))
        {
            return Refuse(deps, OfflineReasons.SiteNotAllowed, keySite, "The server key belongs to another site than the events name.", batch.Rows.Count);
        }

        Dictionary<int, CallTracking.CallMatch>? calls = null;
        if (deps.Calls is { } matcher)
        {
            try
            {
                calls = await matcher.MatchAsync(batch.Rows, site, deps.Clock.GetUtcNow(), http.RequestAborted);
            }
            catch (CallTracking.NumberStoreUnavailableException)
            {
                http.Response.Headers.RetryAfter = deps.BufferOptions.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Refuse(deps, OfflineReasons.BufferUnavailable, site,
                    "The call-tracking assignments cannot be read now; retry after Retry-After seconds (with the same Idempotency-Key).", batch.Rows.Count);
            }
        }
        var (results, accepted) = Judge(batch.Rows, site, deps);
        if (calls is { Count: > 0 })
        {
            CallTracking.CallMatcher.Mark(calls, results, accepted);
        }
        if (accepted.Count > 0)
        {
            var outcome = await deps.Buffer.AppendAsync(accepted, http.RequestAborted);
            if (outcome != AppendOutcome.Stored)
            {
                http.Response.Headers.RetryAfter = deps.BufferOptions.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Refuse(deps, outcome == AppendOutcome.Full ? OfflineReasons.BufferFull : OfflineReasons.BufferUnavailable, site,
                    "The collector's buffer cannot take events now; retry after Retry-After seconds (with the same Idempotency-Key).", accepted.Count);
            }
            deps.Metrics.CountAccepted(site, accepted.Count);
        }
        foreach (var r in results)
        {
            if (r.Reason is { } why)
            {
                deps.Metrics.CountRejectedEvent(why, site);
            }
        }
        if (calls is { Count: > 0 })
        {
            deps.Calls!.Count(calls, results);
        }
        var answer = Answer(results);
        if (idempotencyKey.Length > 0)
        {
            await deps.Idempotency.StoreAsync(site, idempotencyKey, answer, CancellationToken.None);
        }
        return TypedResults.Bytes(answer, "application/json; charset=utf-8");
    }

    /// <summary>One result per row, in order; a second event with an id already seen in the request is a duplicate.</summary>
    public static (List<OfflineResult> Results, List<Touchpoint> Accepted) Judge(List<OfflineRow> rows, string site, OfflineEventsDependencies deps)
    {
        var now = deps.Clock.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var results = new List<OfflineResult>(rows.Count);
        var accepted = new List<Touchpoint>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var verdict = deps.Validator.Validate(rows[i], site, now);
            if (verdict.Touchpoint is { } tp)
            {
                if (!seen.Add(tp.EventId))
                {
                    results.Add(new OfflineResult(i, verdict.EventId, OfflineResult.Duplicate, OfflineReasons.DuplicateEventId, "An earlier event of this request has this event_id."));
                    continue;
                }
                accepted.Add(tp);
                results.Add(new OfflineResult(i, verdict.EventId, OfflineResult.Accepted, null, null));
            }
            else
            {
                results.Add(new OfflineResult(i, verdict.EventId, OfflineResult.Rejected, verdict.Reason, verdict.Detail));
            }
        }
        return (results, accepted);
    }

    private static byte[] Answer(List<OfflineResult> results)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + results.Count * 64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("accepted", results.Count(r => r.Status == OfflineResult.Accepted));
            w.WriteNumber("duplicates", results.Count(r => r.Status == OfflineResult.Duplicate));
            w.WriteNumber("rejected", results.Count(r => r.Status == OfflineResult.Rejected));
            w.WriteStartArray("results");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteNumber("index", r.Index);
                if (r.EventId is null)
                {
                    w.WriteNull("event_id");
                }
                else
                {
                    w.WriteString("event_id", r.EventId);
                }
                w.WriteString("status", r.Status);
                if (r.Reason is not null)
                {
                    w.WriteString("reason", r.Reason);
                    w.WriteString("detail", r.Detail);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static IResult Refuse(OfflineEventsDependencies deps, string reason, string? site, string detail, int events = 0)
    {
        deps.Metrics.CountRejectedBatch(reason, site, events);
        var status = OfflineReasons.StatusFor(reason);
        var problem = TypedResults.Problem(detail: detail, statusCode: status, title: reason.Replace('_', ' '), type: "urn:touchpointtracker:problem:" + reason);
        problem.ProblemDetails.Extensions["reason"] = reason;
        return status == StatusCodes.Status401Unauthorized ? new Unauthorized(problem) : problem;
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c>, as RFC 6750 asks.</summary>
    private sealed class Unauthorized(IResult inner) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => StatusCodes.Status401Unauthorized;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return inner.ExecuteAsync(httpContext);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, int max, CancellationToken ct)
    {
        using var into = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (into.Length < max)
            {
                var n = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, max - into.Length)), ct);
                if (n == 0)
                {
                    break;
                }
                into.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return into.ToArray();
    }
}

/// <summary>The answer for one event of a request.</summary>
public sealed record OfflineResult(int Index, string? EventId, string Status, string? Reason, string? Detail)
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}
