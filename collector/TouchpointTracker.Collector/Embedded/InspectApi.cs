using Microsoft.AspNetCore.Http.HttpResults;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// GET /api/events: the latest staged touchpoints, newest last — what a site owner checks after
/// installing the tag, and what tests assert on. Embedded mode only.
/// </summary>
public static class InspectApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static RouteGroupBuilder MapInspectApi(this IEndpointRouteBuilder app, string path, InspectAccess access)
    {
        var group = app.MapGroup(path);
        group.MapGet("", GetEvents);
        return Guard(group, access);
    }

    /// <summary>GET <paramref name="path"/>: the latest conversion records, newest last, with the inspection API's access rule.</summary>
    public static RouteGroupBuilder MapConversionRecordsApi(this IEndpointRouteBuilder app, string path, InspectAccess access)
    {
        var group = app.MapGroup(path);
        group.MapGet("", GetConversionRecords);
        return Guard(group, access);
    }

    public static IResult GetConversionRecords(ConversionRecordLog log, int? limit, string? site, string? visitor)
    {
        var n = limit ?? DefaultLimit;
        if (n < 1 || n > MaxLimit)
        {
            return TypedResults.Problem(detail: $"limit must be between 1 and {MaxLimit}.", statusCode: StatusCodes.Status400BadRequest, title: "invalid limit");
        }
        return TypedResults.Json(log.Latest(n, site, visitor), TouchpointTracker.Journeys.JourneysJsonContext.Default.ListConversionRecord);
    }

    private static RouteGroupBuilder Guard(RouteGroupBuilder group, InspectAccess access)
    {
        group.AddEndpointFilter(async (context, next) =>
            access.Allows(context.HttpContext.Request)
                ? await next(context)
                : TypedResults.Problem(detail: "The inspection API needs its key (header X-Api-Key: Collector:InspectApiKey).", statusCode: StatusCodes.Status401Unauthorized, title: "key required"));
        // Staged touchpoints echo what visitors' browsers sent: never let a browser sniff them into HTML, never cache them.
        group.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-store";
            return await next(context);
        });
        return group;
    }

    public static Results<Ok<List<Touchpoint>>, ProblemHttpResult> GetEvents(StagedEventLog log, int? limit, string? site, string? visitor)
    {
        var n = limit ?? DefaultLimit;
        if (n < 1 || n > MaxLimit)
        {
            return TypedResults.Problem(detail: $"limit must be between 1 and {MaxLimit}.", statusCode: StatusCodes.Status400BadRequest, title: "invalid limit");
        }
        return TypedResults.Ok(log.Latest(n, site, visitor));
    }
}
