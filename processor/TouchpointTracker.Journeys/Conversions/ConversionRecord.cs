using System.Text.Json;
using System.Text.Json.Serialization;
using TouchpointTracker.Attribution;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Conversions;

/// <summary>
/// The lead/conversion record published on <c>tt.conversions</c> for each conversion (schema <c>conversion/1</c>,
/// docs/schemas/conversion.schema.json): the conversion and the journey behind it, for a CRM.
/// </summary>
public sealed class ConversionRecord
{
    public const string SchemaName = "conversion/1";

    [JsonPropertyName("schema")] public string Schema { get; set; } = SchemaName;
    [JsonPropertyName("conversion_id")] public string ConversionId { get; set; } = "";
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("goal")] public string? Goal { get; set; }
    [JsonPropertyName("site_id")] public string SiteId { get; set; } = "";
    [JsonPropertyName("visitor_id")] public string VisitorId { get; set; } = "";
    [JsonPropertyName("journey_id")] public string JourneyId { get; set; } = "";
    /// <summary>The touch that produced the conversion.</summary>
    [JsonPropertyName("event_id")] public string EventId { get; set; } = "";
    [JsonPropertyName("occurred_at")] public DateTimeOffset OccurredAt { get; set; }
    [JsonPropertyName("order_id")] public string? OrderId { get; set; }
    [JsonPropertyName("value")] public double? Value { get; set; }
    [JsonPropertyName("currency")] public string? Currency { get; set; }
    [JsonPropertyName("reporting_value")] public double? ReportingValue { get; set; }
    [JsonPropertyName("reporting_currency")] public string ReportingCurrency { get; set; } = "";
    [JsonPropertyName("retracts")] public string? Retracts { get; set; }
    /// <summary>The landing of the journey's first remembered session.</summary>
    [JsonPropertyName("first_touch")] public TouchSummary? FirstTouch { get; set; }
    /// <summary>The touch that produced the conversion, with its session's traffic source.</summary>
    [JsonPropertyName("lead_touch")] public TouchSummary LeadTouch { get; set; } = new();
    /// <summary>The landing of the latest session that started before the converting session (that session's own when none did).</summary>
    [JsonPropertyName("last_touch")] public TouchSummary? LastTouch { get; set; }
    /// <summary>Sessions of the journey up to and including the converting one.</summary>
    [JsonPropertyName("sessions")] public int Sessions { get; set; }
    /// <summary>Touches of the journey before the converting one.</summary>
    [JsonPropertyName("touches_before")] public int TouchesBefore { get; set; }
    /// <summary>Days from the first touch to the conversion (two decimals).</summary>
    [JsonPropertyName("days_from_first_touch")] public double DaysFromFirstTouch { get; set; }
    /// <summary>The journey's stage after the converting touch.</summary>
    [JsonPropertyName("stage")] public string Stage { get; set; } = "";
    [JsonPropertyName("stage_history")] public List<StageEntryRecord> StageHistory { get; set; } = [];
    /// <summary>Identifiers, hashed (SHA-256 hex) except the tag's random visitor id.</summary>
    [JsonPropertyName("identifiers")] public Dictionary<string, string> Identifiers { get; set; } = [];
    /// <summary>The conversion path and each touch's share under the per-path attribution models (docs/attribution.md).</summary>
    [JsonPropertyName("attribution")] public PathAttribution? Attribution { get; set; }

    /// <summary>The lookback of the path published with each record (the API's default).</summary>
    public const int LookbackDays = 30;

    /// <summary>
    /// The record of the conversion <paramref name="staged"/> produced, read from the journey state right after the
    /// touch was applied; null when the touch produced none. Pure: the same state and touch give the same record.
    /// </summary>
    public static ConversionRecord? Build(Touchpoint staged, JourneyState state, ReportingCurrencies currencies)
    {
        if (staged.Journey is not { Conversion: { } c } j)
        {
            return null;
        }
        var at = staged.DerivedTs;
        var landings = state.Landings?.All().ToList() ?? [];
        var session = state.RecentSessions.FirstOrDefault(s => s.Id == j.SessionId);
        var sessionStart = session?.Start ?? at;
        var own = landings.LastOrDefault(l => l.At <= sessionStart.AddSeconds(1) && l.At >= sessionStart.AddSeconds(-1)) ?? landings.LastOrDefault(l => l.At <= at);
        var first = landings.FirstOrDefault(l => l.At >= state.Started.AddSeconds(-1)) ?? landings.FirstOrDefault();
        var before = landings.LastOrDefault(l => l.At < sessionStart.AddSeconds(-1));
        var lead = own is null ? new TouchSummary { Channel = staged.Channel } : TouchSummary.Of(own);
        lead.At = at;
        lead.Page = string.IsNullOrEmpty(staged.Page.Path) ? null : staged.Page.Path;
        var record = new ConversionRecord
        {
            ConversionId = c.ConversionId,
            Type = c.Type,
            Goal = c.Goal,
            SiteId = staged.SiteId,
            VisitorId = staged.VisitorId,
            JourneyId = j.Id,
            EventId = staged.EventId,
            OccurredAt = at,
            OrderId = c.OrderId,
            Value = c.Value,
            Currency = c.Currency,
            ReportingValue = c.ReportingValue,
            ReportingCurrency = currencies.CurrencyOf(staged.SiteId),
            Retracts = c.Retracts,
            FirstTouch = first is null ? null : TouchSummary.Of(first),
            LeadTouch = lead,
            LastTouch = before is not null ? TouchSummary.Of(before) : own is not null ? TouchSummary.Of(own) : null,
            Sessions = j.SessionIndex ?? state.Sessions,
            TouchesBefore = Math.Max(0, j.TouchIndex - 1),
            DaysFromFirstTouch = Math.Round(Math.Max(0, (at - (first?.At ?? state.Started)).TotalDays), 2),
            Stage = j.Stage,
            StageHistory = [.. (state.StageHistory ?? []).Select(h => new StageEntryRecord { Stage = h.Stage, At = h.At })],
        };
        record.Identifiers["visitor_id"] = staged.VisitorId;
        foreach (var (name, value) in staged.Props ?? [])
        {
            if (name.EndsWith("_sha256", StringComparison.Ordinal) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: 64 } hash)
            {
                record.Identifiers[name] = hash;
            }
        }
        if (staged.Type == "identify" && JsonProps.Text(staged.Props, "user_id") is { Length: > 0 } userId)
        {
            record.Identifiers["user_id_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(userId.Trim())));
        }
        record.Attribution = PathAttribution.Of(landings, at);
        return record;
    }
}

/// <summary>One touch of a conversion record: a session's landing, its traffic source and its click id.</summary>
public sealed class TouchSummary : LandingSummary
{
    /// <summary>Lead touch only: the page of the converting touch (absent for an offline event).</summary>
    [JsonPropertyName("page")] public string? Page { get; set; }

    public static TouchSummary Of(LandingSummary l) => new()
    {
        At = l.At, Channel = l.Channel, Source = l.Source, Medium = l.Medium, Campaign = l.Campaign, Term = l.Term, Content = l.Content,
        LandingPage = l.LandingPage, ReferrerHost = l.ReferrerHost, ClickId = l.ClickId, ClickPlatform = l.ClickPlatform,
    };
}

public sealed class StageEntryRecord
{
    [JsonPropertyName("stage")] public string Stage { get; set; } = "";
    [JsonPropertyName("at")] public DateTimeOffset At { get; set; }
}

/// <summary>
/// A conversion's path as attribution sees it: the session landings at or before the conversion and within
/// <see cref="ConversionRecord.LookbackDays"/> days of it, oldest first, keyed by channel, and each touch's share
/// of the conversion under every per-path model (first_touch, last_touch, last_non_direct, linear,
/// position_based, time_decay with a 7-day half-life, shapley). Markov is not here: its credit depends on every
/// path, so it is computed by the attribution API over the analytics store.
/// </summary>
public sealed class PathAttribution
{
    [JsonPropertyName("lookback_days")] public int LookbackDays { get; set; } = ConversionRecord.LookbackDays;
    [JsonPropertyName("touches")] public List<TouchSummary> Touches { get; set; } = [];
    /// <summary>Model name -> one share per touch (in the order of <see cref="Touches"/>), summing to 1.</summary>
    [JsonPropertyName("credits")] public Dictionary<string, double[]> Credits { get; set; } = [];

    public static PathAttribution Of(IReadOnlyList<LandingSummary> landings, DateTimeOffset at)
    {
        var from = at.AddDays(-ConversionRecord.LookbackDays);
        var path = landings.Where(l => l.At <= at.AddSeconds(1) && l.At >= from).ToList();
        var result = new PathAttribution { Touches = [.. path.Select(TouchSummary.Of)] };
        if (path.Count == 0)
        {
            return result;
        }
        var touches = path.Select(l => new PathTouch(l.Channel ?? "Unassigned", l.At.UtcDateTime, string.Equals(l.Channel, "Direct", StringComparison.Ordinal))).ToList();
        foreach (var (model, shares) in PathCredits.Compute(touches, at.UtcDateTime))
        {
            result.Credits[model] = [.. shares.Select(s => Math.Round(s, 6))];
        }
        return result;
    }
}
