using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using TouchpointTracker.Attribution;

namespace TouchpointTracker.Analytics;

/// <summary>Query-string parameters shared by the analytics endpoints (all optional at binding; validated by the handlers).</summary>
public sealed class AnalyticsParameters
{
    [FromQuery(Name = "site")] public string? Site { get; init; }
    [FromQuery(Name = "from")] public string? From { get; init; }
    [FromQuery(Name = "to")] public string? To { get; init; }
    [FromQuery(Name = "channel")] public string? Channel { get; init; }
    [FromQuery(Name = "source")] public string? Source { get; init; }
    [FromQuery(Name = "medium")] public string? Medium { get; init; }
    [FromQuery(Name = "campaign")] public string? Campaign { get; init; }
    [FromQuery(Name = "term")] public string? Term { get; init; }
    [FromQuery(Name = "landing_page")] public string? LandingPage { get; init; }
    [FromQuery(Name = "device")] public string? Device { get; init; }
    [FromQuery(Name = "country")] public string? Country { get; init; }
    [FromQuery(Name = "stage")] public string? Stage { get; init; }
    [FromQuery(Name = "by")] public string? By { get; init; }
    [FromQuery(Name = "limit")] public string? Limit { get; init; }
    [FromQuery(Name = "key")] public string? Key { get; init; }
}

/// <summary>Query-string parameters of the attribution view (validated by the handler).</summary>
public sealed class AttributionParameters
{
    [FromQuery(Name = "models")] public string? Models { get; init; }
    [FromQuery(Name = "conversion_type")] public string? ConversionType { get; init; }
    [FromQuery(Name = "lookback_days")] public string? LookbackDays { get; init; }
    [FromQuery(Name = "half_life_days")] public string? HalfLifeDays { get; init; }
    [FromQuery(Name = "paths")] public string? Paths { get; init; }
}

/// <summary>What the handlers need besides the query string.</summary>
public sealed record AnalyticsServices(HttpContext Http, AnalyticsQueries Queries, IOptions<AnalyticsOptions> Options, TimeProvider Time);

/// <summary>The analytics JSON API under <c>/api/v1/</c>.</summary>
public static partial class AnalyticsApi
{
    public const int MaxRangeDays = 400;
    private const int MaxFilterLength = 500;

    /// <summary>Maps overview, breakdown, funnel, journeys, realtime and export under <c>/api/v1</c>.</summary>
    public static RouteGroupBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1").WithTags("analytics");
        g.MapGet("/overview", GetOverview).WithName("analytics-overview")
            .WithSummary("Visitors, sessions, touchpoints and visitors per stage, per day (site time zone)").Produces<OverviewResult>();
        g.MapGet("/breakdown", GetBreakdown).WithName("analytics-breakdown")
            .WithSummary("Visitors and sessions per value of a dimension, per stage reached, with stage conversion rates").Produces<BreakdownResult>();
        g.MapGet("/funnel", GetFunnel).WithName("analytics-funnel")
            .WithSummary("Visitors entering each stage, conversion, drop-off, median and p75 time between stages").Produces<FunnelResult>();
        g.MapGet("/journeys/{id}", GetJourney).WithName("analytics-journey")
            .WithSummary("One visitor's touches in time order, grouped by session").Produces<JourneyResult>();
        g.MapGet("/persons/{id}", GetPerson).WithName("analytics-person")
            .WithSummary("One identified person's whole journey: every touch of all their visitor ids, in time order").Produces<PersonResult>();
        g.MapGet("/persons", FindPerson).WithName("analytics-person-search")
            .WithSummary("The person of ?user_id= (hashed on the server before the lookup) or ?user_id_sha256=").Produces<PersonResult>();
        g.MapGet("/unmatched", GetUnmatched).WithName("analytics-unmatched")
            .WithSummary("Offline events that matched nobody yet (newest first); each is placed in a journey when its identifier appears").Produces<UnmatchedResult>();
        g.MapGet("/journeys", SearchJourneys).WithName("analytics-journey-search")
            .WithSummary("Visitors whose id starts with ?search=").Produces<JourneySearchResult>();
        g.MapGet("/attribution", GetAttribution).WithName("analytics-attribution")
            .WithSummary("Conversions and revenue credited to each value of a dimension under each attribution model, with path statistics and the top converting paths")
            .Produces<AttributionReport>();
        g.MapGet("/realtime", GetRealtime).WithName("analytics-realtime")
            .WithSummary("Visitors in the last 5 minutes and their current stage").Produces<RealtimeResult>();
        g.MapGet("/conversions", GetConversions).WithName("analytics-conversions")
            .WithSummary("Conversions by type, their count, net revenue in the site's reporting currency, and the latest conversions (?type=, ?limit=)")
            .Produces<ConversionsResult>();
        g.MapGet("/export", Export).WithName("analytics-export")
            .WithSummary("Any view as CSV: ?view=overview|breakdown|funnel|journey|journeys|realtime|attribution&format=csv").Produces<string>(200, "text/csv");
        return g;
    }

    /// <summary>The OpenAPI document at <c>/api/openapi/analytics.json</c> and the Scalar UI at <c>/api/docs</c>
    /// (needs <see cref="AnalyticsServiceCollectionExtensions.AddTouchpointAnalytics"/>, which registers the document).</summary>
    public static IEndpointRouteBuilder MapAnalyticsApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/api/openapi/{documentName}.json");
        app.MapScalarApiReference("/api/docs", o => o
            .WithTitle("TouchpointTracker analytics API")
            .WithOpenApiRoutePattern("/api/openapi/{documentName}.json")
            .AddDocument(AnalyticsServiceCollectionExtensions.OpenApiDocument));
        return app;
    }

    public static Results<JsonHttpResult<OverviewResult>, ValidationProblem, ProblemHttpResult> GetOverview(
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        return TypedResults.Json(s.Queries.Overview(request), AnalyticsJsonContext.Default.OverviewResult);
    }

    public static Results<JsonHttpResult<BreakdownResult>, ValidationProblem, ProblemHttpResult> GetBreakdown(
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        if (!TryBy(p, required: true, out var by, out problem) || !TryLimit(p, 100, out var limit, out problem)) return problem;
        return TypedResults.Json(s.Queries.Breakdown(request, by!, limit), AnalyticsJsonContext.Default.BreakdownResult);
    }

    public static Results<JsonHttpResult<FunnelResult>, ValidationProblem, ProblemHttpResult> GetFunnel(
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        if (!TryBy(p, required: false, out var by, out problem) || !TryLimit(p, 20, out var limit, out problem)) return problem;
        return TypedResults.Json(s.Queries.Funnel(request, by, limit), AnalyticsJsonContext.Default.FunnelResult);
    }

    public static Results<JsonHttpResult<JourneyResult>, ValidationProblem, ProblemHttpResult> GetJourney(
        string id, [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem, defaultDays: MaxRangeDays)) return problem;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 200) return Invalid("id", "The visitor id must have 1 to 200 characters.");
        var journey = s.Queries.Journey(request, id);
        return journey is null
            ? TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No visitor '{id}' on site '{request.Range.Site}'.")
            : TypedResults.Json(journey, AnalyticsJsonContext.Default.JourneyResult);
    }

    public static Results<JsonHttpResult<PersonResult>, ValidationProblem, ProblemHttpResult> GetPerson(
        string id, [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem, defaultDays: MaxRangeDays)) return problem;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64) return Invalid("id", "The person id must have 1 to 64 characters (p_ and 32 hex digits).");
        var person = s.Queries.Person(request, id);
        return person is null
            ? TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No person '{id}' on site '{request.Range.Site}'.")
            : TypedResults.Json(person, AnalyticsJsonContext.Default.PersonResult);
    }

    /// <summary>A person by user id: the clear id is hashed here (SHA-256 of the trimmed value) and never stored or logged.</summary>
    public static Results<JsonHttpResult<PersonResult>, ValidationProblem, ProblemHttpResult> FindPerson(
        [FromQuery(Name = "user_id")] string? userId, [FromQuery(Name = "user_id_sha256")] string? userIdSha256,
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem, defaultDays: MaxRangeDays)) return problem;
        string hash;
        if (!string.IsNullOrWhiteSpace(userId) && userId.Length <= 256)
        {
            hash = Journeys.Identity.IdentityHashing.UserId(userId);
        }
        else if (Journeys.Identity.IdentityHashing.IsSha256Hex(userIdSha256))
        {
            hash = userIdSha256!.ToLowerInvariant();
        }
        else
        {
            return Invalid("user_id", "Give user_id (1 to 256 characters) or user_id_sha256 (64 hex digits).");
        }
        var personId = s.Queries.PersonByUser(request.Range.Site, hash) ?? Journeys.Identity.IdentityResolver.PersonIdFor(request.Range.Site, hash);
        var person = s.Queries.Person(request, personId);
        return person is null
            ? TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No person with that user id on site '{request.Range.Site}'.")
            : TypedResults.Json(person, AnalyticsJsonContext.Default.PersonResult);
    }

    public static async Task<Results<JsonHttpResult<UnmatchedResult>, ValidationProblem, ProblemHttpResult>> GetUnmatched(
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s, CancellationToken ct)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem, defaultDays: MaxRangeDays)) return problem;
        if (!TryLimit(p, 100, out var limit, out problem)) return problem;
        if (s.Http.RequestServices.GetService(typeof(IUnmatchedEvents)) is not IUnmatchedEvents unmatched)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not available",
                detail: "This instance does not see the unmatched events (in the distributed mode, give the analytics instance Redis:Configuration).");
        }
        return TypedResults.Json(await unmatched.ListAsync(request.Range.Site, limit, ct), AnalyticsJsonContext.Default.UnmatchedResult);
    }

    public static Results<JsonHttpResult<JourneySearchResult>, ValidationProblem, ProblemHttpResult> SearchJourneys(
        [FromQuery(Name = "search")] string? search, [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem, defaultDays: MaxRangeDays)) return problem;
        if (string.IsNullOrEmpty(search) || search.Length > 200) return Invalid("search", "search must have 1 to 200 characters (the start of a visitor id).");
        if (!TryLimit(p, 50, out var limit, out problem)) return problem;
        return TypedResults.Json(s.Queries.SearchJourneys(request, search, limit), AnalyticsJsonContext.Default.JourneySearchResult);
    }

    public static Results<JsonHttpResult<RealtimeResult>, ValidationProblem, ProblemHttpResult> GetRealtime(
        [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        if (!TryLimit(p, 100, out var limit, out problem)) return problem;
        return TypedResults.Json(s.Queries.Realtime(request.Range.Site, request.Filters, s.Time.GetUtcNow(), limit: limit),
            AnalyticsJsonContext.Default.RealtimeResult);
    }

    public static Results<JsonHttpResult<AttributionReport>, ValidationProblem, ProblemHttpResult> GetAttribution(
        [AsParameters] AnalyticsParameters p, [AsParameters] AttributionParameters a, [AsParameters] AnalyticsServices s,
        [FromServices] AttributionQueries attribution)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        if (!TryAttribution(request, p, a, out var ar, out problem)) return problem;
        return TypedResults.Json(attribution.Attribution(ar), AnalyticsJsonContext.Default.AttributionReport);
    }

    public static Results<JsonHttpResult<ConversionsResult>, ValidationProblem, ProblemHttpResult> GetConversions(
        [FromQuery(Name = "type")] string? type, [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (!TryParse(p, s, out var request, out var problem)) return problem;
        if (type is not null && !ConversionType().IsMatch(type)) return Invalid("type", $"type must be a conversion type: lower-case letters, digits and '_' (got '{Cut(type)}').");
        if (!TryLimit(p, 100, out var limit, out problem)) return problem;
        return TypedResults.Json(s.Queries.Conversions(request.Range, type, limit), AnalyticsJsonContext.Default.ConversionsResult);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ConversionType();

    private static string Cut(string s) => s.Length > 80 ? s[..80] : s;

    public static Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult> Export(
        [FromQuery(Name = "view")] string? view, [FromQuery(Name = "format")] string? format, [FromQuery(Name = "id")] string? id,
        [FromQuery(Name = "search")] string? search, [AsParameters] AnalyticsParameters p, [AsParameters] AnalyticsServices s,
        [AsParameters] AttributionParameters a, [FromServices] AttributionQueries attribution)
    {
        if (Authorize(p, s) is { } denied) return denied;
        if (format is not (null or "csv")) return Invalid("format", "format must be csv.");
        var wide = view is "journey" or "journeys";
        if (!TryParse(p, s, out var request, out var problem, defaultDays: wide ? MaxRangeDays : 30)) return problem;
        string csv;
        switch (view)
        {
            case "overview":
                csv = Csv.Overview(s.Queries.Overview(request));
                break;
            case "breakdown":
                if (!TryBy(p, required: true, out var by, out problem) || !TryLimit(p, 1000, out var bl, out problem)) return problem;
                csv = Csv.Breakdown(s.Queries.Breakdown(request, by!, bl));
                break;
            case "funnel":
                if (!TryBy(p, required: false, out var fby, out problem) || !TryLimit(p, 100, out var fl, out problem)) return problem;
                csv = Csv.Funnel(s.Queries.Funnel(request, fby, fl));
                break;
            case "journey":
                if (string.IsNullOrWhiteSpace(id) || id.Length > 200) return Invalid("id", "view=journey needs id (a visitor id).");
                var j = s.Queries.Journey(request, id);
                if (j is null) return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No visitor '{id}' on site '{request.Range.Site}'.");
                csv = Csv.Journey(j);
                break;
            case "journeys":
                if (string.IsNullOrEmpty(search) || search.Length > 200) return Invalid("search", "view=journeys needs search (the start of a visitor id).");
                if (!TryLimit(p, 1000, out var sl, out problem)) return problem;
                csv = Csv.Search(s.Queries.SearchJourneys(request, search, sl));
                break;
            case "attribution":
                if (!TryAttribution(request, p, a, out var ar, out problem)) return problem;
                csv = Csv.Attribution(attribution.Attribution(ar));
                break;
            case "realtime":
                csv = Csv.Realtime(s.Queries.Realtime(request.Range.Site, request.Filters, s.Time.GetUtcNow(), limit: 1000));
                break;
            default:
                return Invalid("view", "view must be one of overview, breakdown, funnel, journey, journeys, realtime, attribution.");
        }
        var name = $"{request.Range.Site}-{view}-{request.Range.From:yyyy-MM-dd}-{request.Range.To:yyyy-MM-dd}.csv";
        return TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", name);
    }

    /// <summary>
    /// 401 without a key (or with a key nobody has), 403 with a key of another site, null when allowed: a site in
    /// <see cref="AnalyticsOptions.OpenSites"/>, or a key of <see cref="AnalyticsOptions.ApiKeys"/> for that site, sent as
    /// <c>Authorization: Bearer &lt;key&gt;</c> or <c>?key=</c>. Keys compare in constant time.
    /// </summary>
    internal static ProblemHttpResult? Authorize(AnalyticsParameters p, AnalyticsServices s)
    {
        var site = p.Site;
        var o = s.Options.Value;
        if (string.IsNullOrWhiteSpace(site) || o.OpenSites.Contains(site, StringComparer.Ordinal))
        {
            return null; // no site: the parameter check answers 400 before anything is read
        }
        var key = p.Key;
        var header = s.Http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = header["Bearer ".Length..].Trim();
        }
        if (string.IsNullOrEmpty(key))
        {
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: $"Site '{site}' needs an API key: send 'Authorization: Bearer <key>' or '?key=<key>'.");
        }
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        bool mine = false, other = false;
        foreach (var (keySite, keys) in o.ApiKeys)
        {
            foreach (var k in keys)
            {
                var match = CryptographicOperations.FixedTimeEquals(given, SHA256.HashData(Encoding.UTF8.GetBytes(k)));
                if (string.Equals(keySite, site, StringComparison.Ordinal))
                {
                    mine |= match;
                }
                else
                {
                    other |= match;
                }
            }
        }
        if (mine)
        {
            return null;
        }
        return other
            ? TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"This key does not give access to site '{site}'.")
            : TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "Unknown API key.");
    }

    internal static bool TryParse(AnalyticsParameters p, AnalyticsServices s, out AnalyticsRequest request, out ValidationProblem problem, int defaultDays = 30)
    {
        request = null!;
        problem = null!;
        if (string.IsNullOrWhiteSpace(p.Site) || p.Site.Length > 100)
        {
            problem = Invalid("site", "site is required (the site key, at most 100 characters).");
            return false;
        }
        var zone = s.Options.Value.TimeZoneOf(p.Site);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(s.Time.GetUtcNow(), zone).DateTime);
        DateOnly to = today, from;
        if (p.To is not null && !DateOnly.TryParseExact(p.To, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out to))
        {
            problem = Invalid("to", $"to must be a date as yyyy-MM-dd (got '{p.To}').");
            return false;
        }
        from = to.AddDays(-(defaultDays - 1));
        if (p.From is not null && !DateOnly.TryParseExact(p.From, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out from))
        {
            problem = Invalid("from", $"from must be a date as yyyy-MM-dd (got '{p.From}').");
            return false;
        }
        if (from > to)
        {
            problem = Invalid("from", $"from ({from:yyyy-MM-dd}) is after to ({to:yyyy-MM-dd}).");
            return false;
        }
        if (to.DayNumber - from.DayNumber + 1 > MaxRangeDays)
        {
            problem = Invalid("from", $"The range from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} is longer than {MaxRangeDays} days.");
            return false;
        }
        foreach (var (name, value) in new[]
                 {
                     ("channel", p.Channel), ("source", p.Source), ("medium", p.Medium), ("campaign", p.Campaign), ("term", p.Term),
                     ("landing_page", p.LandingPage), ("device", p.Device), ("country", p.Country), ("stage", p.Stage),
                 })
        {
            if (value is { Length: > MaxFilterLength })
            {
                problem = Invalid(name, $"{name} is longer than {MaxFilterLength} characters.");
                return false;
            }
        }
        if (p.Stage is not null && !AnalyticsVocabulary.Stages.Contains(p.Stage))
        {
            problem = Invalid("stage", $"stage must be one of {string.Join(", ", AnalyticsVocabulary.Stages)} (got '{p.Stage}').");
            return false;
        }
        request = new AnalyticsRequest(new AnalyticsRange(p.Site, from, to, zone),
            new AnalyticsFilters(p.Channel, p.Source, p.Medium, p.Campaign, p.Term, p.LandingPage, p.Device, p.Country, p.Stage));
        return true;
    }

    internal static bool TryAttribution(AnalyticsRequest request, AnalyticsParameters p, AttributionParameters a, out AttributionRequest result, out ValidationProblem problem)
    {
        result = null!;
        problem = null!;
        var by = p.By ?? "channel";
        if (!AttributionQueries.Dimensions.ContainsKey(by))
        {
            problem = Invalid("by", $"by must be one of {string.Join(", ", AttributionQueries.Dimensions.Keys)} (got '{by}').");
            return false;
        }
        var models = new List<AttributionModel>();
        if (a.Models is null)
        {
            models.AddRange(AttributionModels.All);
        }
        else
        {
            foreach (var name in a.Models.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!AttributionModels.TryParse(name, out var m))
                {
                    problem = Invalid("models", $"models must be a comma-separated list of {string.Join(", ", AttributionModels.All.Select(x => x.Name()))} (got '{Clip(name)}').");
                    return false;
                }
                if (!models.Contains(m))
                {
                    models.Add(m);
                }
            }
            if (models.Count == 0)
            {
                problem = Invalid("models", "models must name at least one model.");
                return false;
            }
        }
        if (a.ConversionType is { Length: 0 or > 100 })
        {
            problem = Invalid("conversion_type", "conversion_type must have 1 to 100 characters.");
            return false;
        }
        var lookback = 30;
        if (a.LookbackDays is not null && (!int.TryParse(a.LookbackDays, NumberStyles.None, CultureInfo.InvariantCulture, out lookback) || lookback is < 1 or > 365))
        {
            problem = Invalid("lookback_days", $"lookback_days must be a whole number from 1 to 365 (got '{Clip(a.LookbackDays)}').");
            return false;
        }
        var halfLife = 7.0;
        if (a.HalfLifeDays is not null && (!double.TryParse(a.HalfLifeDays, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out halfLife)
                                           || halfLife is < 0.1 or > 365))
        {
            problem = Invalid("half_life_days", $"half_life_days must be a number from 0.1 to 365 (got '{Clip(a.HalfLifeDays)}').");
            return false;
        }
        var paths = 20;
        if (a.Paths is not null && (!int.TryParse(a.Paths, NumberStyles.None, CultureInfo.InvariantCulture, out paths) || paths > 100))
        {
            problem = Invalid("paths", $"paths must be a whole number from 0 to 100 (got '{Clip(a.Paths)}').");
            return false;
        }
        if (!TryLimit(p, 1000, out var limit, out problem))
        {
            return false;
        }
        result = new AttributionRequest(request.Range, by, models, a.ConversionType, lookback, halfLife, limit, paths);
        return true;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private static bool TryBy(AnalyticsParameters p, bool required, out string? by, out ValidationProblem problem)
    {
        by = p.By;
        problem = null!;
        if (by is null ? required : !AnalyticsVocabulary.DimensionColumns.ContainsKey(by))
        {
            problem = Invalid("by", $"by must be one of {string.Join(", ", AnalyticsVocabulary.Dimensions)}" + (by is null ? "." : $" (got '{by}')."));
            return false;
        }
        return true;
    }

    private static bool TryLimit(AnalyticsParameters p, int @default, out int limit, out ValidationProblem problem)
    {
        limit = @default;
        problem = null!;
        if (p.Limit is null)
        {
            return true;
        }
        if (!int.TryParse(p.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000)
        {
            problem = Invalid("limit", $"limit must be a whole number from 1 to 1000 (got '{p.Limit}').");
            return false;
        }
        return true;
    }

    private static ValidationProblem Invalid(string parameter, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [parameter] = [message] },
            detail: message, title: $"Invalid parameter '{parameter}'");
}
