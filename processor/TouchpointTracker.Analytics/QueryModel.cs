using TouchpointTracker.Contracts;

namespace TouchpointTracker.Analytics;

/// <summary>Site and date range of a query: dates are days in the site's time zone, both included.</summary>
public sealed record AnalyticsRange(string Site, DateOnly From, DateOnly To, TimeZoneInfo Zone)
{
    /// <summary>The first instant of <see cref="From"/> in the site's time zone, as UTC.</summary>
    public DateTime FromUtc => LocalMidnightUtc(From);

    /// <summary>The first instant after <see cref="To"/> in the site's time zone, as UTC.</summary>
    public DateTime ToUtcExclusive => LocalMidnightUtc(To.AddDays(1));

    private DateTime LocalMidnightUtc(DateOnly d)
    {
        var local = d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (Zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30); // a DST gap at midnight: the day starts when the clock resumes
        }
        return TimeZoneInfo.ConvertTimeToUtc(local, Zone);
    }
}

/// <summary>Filters every query accepts; null means no filter. Values compare exactly.</summary>
public sealed record AnalyticsFilters(
    string? Channel = null, string? Source = null, string? Medium = null, string? Campaign = null, string? Term = null,
    string? LandingPage = null, string? Device = null, string? Country = null, string? Stage = null)
{
    public static AnalyticsFilters None { get; } = new();
}

public sealed record AnalyticsRequest(AnalyticsRange Range, AnalyticsFilters Filters);

/// <summary>The stages, in funnel order, and the breakdown dimensions the API accepts.</summary>
public static class AnalyticsVocabulary
{
    public static IReadOnlyList<string> Stages { get; } =
        [JourneyStages.Awareness, JourneyStages.Consideration, JourneyStages.Decision, JourneyStages.Retention, JourneyStages.Advocacy];

    /// <summary>Dimension name (as in <c>?by=</c>) to its column in the sessions table. A fixed whitelist.</summary>
    internal static IReadOnlyDictionary<string, string> DimensionColumns { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["channel"] = "channel",
        ["source"] = "source",
        ["medium"] = "medium",
        ["campaign"] = "campaign",
        ["term"] = "term",
        ["content"] = "content",
        ["click_platform"] = "click_platform",
        ["landing_page"] = "landing_page",
        ["referrer_host"] = "referrer_host",
        ["device"] = "device",
        ["browser"] = "browser",
        ["os"] = "os",
        ["country"] = "country",
    };

    public static IReadOnlyCollection<string> Dimensions => (IReadOnlyCollection<string>)DimensionColumns.Keys;
}

public sealed record StageCount(string Stage, long Visitors);

public sealed record OverviewDay(DateOnly Day, long Visitors, long Sessions, long Touchpoints,
    Dictionary<string, long> Reached, Dictionary<string, long> Entered);

public sealed record OverviewResult(string Site, DateOnly From, DateOnly To, string TimeZone,
    long Visitors, long Sessions, long Touchpoints, Dictionary<string, long> Reached, Dictionary<string, long> Entered,
    List<OverviewDay> Days)
{
    /// <summary>Conversions in the range (refunds and retracted conversions left out).</summary>
    public long Conversions { get; init; }
    /// <summary>Net revenue in the range in <see cref="ReportingCurrency"/>: conversion values minus refunds.</summary>
    public double Revenue { get; init; }
    public string? ReportingCurrency { get; init; }
}

/// <summary>Conversions of one type in the range.</summary>
public sealed record ConversionTypeTotal(string Type, long Conversions, long Retracted, double Value, long UnknownCurrency);

/// <summary>One conversion row.</summary>
public sealed record ConversionItem(string ConversionId, DateTime Ts, string Type, string? Goal, string? VisitorId, string EventId,
    string? OrderId, double? Value, string? Currency, double? ReportingValue, bool Retracted, string? Channel, string? Source, string? Medium);

/// <summary>
/// Conversions of a site in the range: totals by type (refunds are their own type, with negative values), the count of
/// conversions (refunds and retracted ones left out), net revenue in the reporting currency, and the latest conversions.
/// </summary>
public sealed record ConversionsResult(string Site, DateOnly From, DateOnly To, string? Type, string ReportingCurrency,
    long Conversions, double Revenue, long Refunds, double Refunded, long UnknownCurrency, List<ConversionTypeTotal> ByType,
    List<ConversionItem> Items);

public sealed record BreakdownRow(string Value, long Visitors, long Sessions, long Touchpoints,
    Dictionary<string, long> Reached, Dictionary<string, double?> Conversion);

public sealed record BreakdownResult(string Site, DateOnly From, DateOnly To, string By, List<BreakdownRow> Rows);

public sealed record FunnelStage(string Stage, long Visitors, double? ConversionFromPrevious, long DropOff, double? DropOffRate,
    long TimedJourneys, double? MedianSecondsFromPrevious, double? P75SecondsFromPrevious);

public sealed record FunnelGroup(string Value, List<FunnelStage> Stages);

public sealed record FunnelResult(string Site, DateOnly From, DateOnly To, string? By, List<FunnelStage> Stages, List<FunnelGroup>? Groups);

public sealed record JourneyTouch(DateTime Ts, string EventId, string? Type, string? Name, string? PageHost, string? PagePath,
    string? ReferrerHost, string? Source, string? Medium, string? Term, string? Campaign, string? Channel,
    string? StageBefore, string? StageAfter, List<string> Reasons, double Score, int TouchIndex);

public sealed record JourneySession(int SessionIndex, string? JourneyId, DateTime Start, DateTime End,
    string? Channel, string? Source, string? Medium, string? Campaign, string? LandingPage, List<JourneyTouch> Touches);

public sealed record PersonVisitor(string VisitorId, DateTime LinkedAt);

/// <summary>A touch of a person's journey: which of the person's visitor ids made it, and the session index in that visitor's journey when staged.</summary>
public sealed record PersonTouch(string VisitorId, int SessionIndex, JourneyTouch Touch);

/// <summary>An identified person: the hashed user id, the visitor ids linked to the person, and every touch of all of them in time order.</summary>
public sealed record PersonResult(string Site, string PersonId, string? UserIdSha256, DateTime FirstSeen, DateTime LastSeen, string? CurrentStage,
    int TouchCount, List<PersonVisitor> Visitors, List<PersonTouch> Touches);

/// <summary>One visitor's journey; <see cref="PersonId"/> and <see cref="PersonVisitors"/> when the visitor was identified (docs/identity.md).</summary>
public sealed record JourneyResult(string Site, string VisitorId, DateTime FirstSeen, string? CurrentStage, int Touches, List<JourneySession> Sessions,
    string? PersonId = null, List<string>? PersonVisitors = null);

public sealed record JourneySearchHit(string VisitorId, DateTime FirstSeen, DateTime LastSeen, long Sessions, long Touchpoints, string? Stage);

public sealed record JourneySearchResult(string Site, string Search, List<JourneySearchHit> Visitors);

public sealed record RealtimeVisitor(string VisitorId, string? Stage, DateTime LastSeen, string? Page, string? Channel, long Touches);

public sealed record RealtimeResult(string Site, DateTime Since, long Visitors, Dictionary<string, long> ByStage, List<RealtimeVisitor> Recent);
