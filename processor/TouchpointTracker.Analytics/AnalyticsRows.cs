using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Analytics;

/// <summary>One staged touchpoint flattened for the store, with its session's traffic source resolved.</summary>
internal sealed class TouchpointRow
{
    public required string Site;
    public required string EventId;
    /// <summary>The event id as a UUID when it is one in canonical form (lowercase, hyphens: what the tag sends), stored in
    /// <c>touchpoints.event_uuid</c> (16 bytes) instead of <c>event_id</c> (<see cref="RowMapper.CanonicalUuid"/>).</summary>
    public Guid? EventUuid;
    public required string Visitor;
    public required string SessionId;
    public required string JourneyId;
    /// <summary>The 64-bit keys of <see cref="Visitor"/>, <see cref="SessionId"/>, <see cref="JourneyId"/> and <see cref="PersonId"/>
    /// (<see cref="RowMapper.Key"/>), computed once when the row is built.</summary>
    public ulong Vkey, Skey, Jkey;
    public ulong? Pkey;
    public DateTime Ts;
    public DateOnly Day;
    public string? Type, Name, PageHost, PagePath, LandingPage, ReferrerHost, SessionReferrerHost;
    public string? Source, Medium, Term, UtmSource, UtmMedium, UtmCampaign, UtmTerm, UtmContent, ClickPlatform;
    public string? Channel, Browser, Os, Device, Country, Stage, PreviousStage;
    /// <summary>The rule ids (a copy of the journey's list; shared empty list when none: never modified).</summary>
    public required List<string> Reasons;
    /// <summary>The person of the touch (journey.person_id), and the hashed user id an identify carries.</summary>
    public string? PersonId, UserIdSha256;
    public double Score;
    public int TouchIndex, SessionIndex, Rank, Entered;
    /// <summary>The conversion the touch produced, written to the conversions table with it.</summary>
    public ConversionInfo? Conversion;
}

internal sealed class TransitionRow
{
    public required StageTransition T;
    /// <summary>The event id as a UUID when it is one in canonical form (<c>stage_transitions.event_uuid</c>).</summary>
    public Guid? EventUuid;
    public ulong Vkey, Jkey;
    public ulong? Skey;
    public DateTime Ts;
    public int ToRank;
    public required List<string> Reasons;
}

/// <summary>
/// The traffic source of a session, taken from the first of its touches the writer saw, with the session's key and the
/// last visitor and journey ids seen in it and their keys (a session belongs to one visitor and nearly always to one
/// journey: their keys are computed once per session, not once per touch).
/// </summary>
internal sealed record SessionSource(string Source, string Medium, string? Term, string? ReferrerHost, string? LandingPage)
{
    public ulong Skey;
    public string? Visitor, JourneyId, PersonId;
    public ulong Vkey, Jkey, Pkey;
}

internal static class RowMapper
{
    /// <summary>The 64-bit key of an id: the low half of its MD5, as DuckDB's md5_number_lower computes it (queries look
    /// rows up by md5_number_lower of an id, so the key format is part of the schema); computed by <see cref="Md5Key"/>.</summary>
    public static ulong Key(string id) => Md5Key.Lower64(id);

    /// <summary>
    /// The UUID an id spells in canonical form (36 characters, lowercase hexadecimal, hyphens after the 8th, 12th, 16th and
    /// 20th digit), which DuckDB's UUID type gives back as the same text; null for any other id (kept as text).
    /// </summary>
    public static Guid? CanonicalUuid(string id) =>
        id.Length == 36 && !id.AsSpan().ContainsAnyInRange('A', 'Z') && Guid.TryParseExact(id, "D", out var g) ? g : null;

    private static readonly List<string> NoReasons = [];

    /// <summary>A copy of the rule ids (the row outlives the caller's object), or the shared empty list.</summary>
    public static List<string> CopyReasons(List<string>? reasons) => reasons is null || reasons.Count == 0 ? NoReasons : [.. reasons];

    public static TouchpointRow Map(Touchpoint tp, TimeZoneInfo zone, Func<(string, string), SessionSource?> cached, Action<(string, string), SessionSource> remember)
    {
        var j = tp.Journey ?? throw new ArgumentException($"Touchpoint {tp.EventId} is not staged (journey missing).", nameof(tp));
        var ts = tp.DerivedTs.UtcDateTime;
        var sessionId = string.IsNullOrEmpty(j.SessionId) ? tp.SessionId : j.SessionId;
        var sessionKey = (tp.SiteId, sessionId);
        var src = cached(sessionKey);
        if (src is null)
        {
            src = Resolve(tp);
            src.Skey = Key(sessionId);
            remember(sessionKey, src);
        }
        if (!string.Equals(src.Visitor, tp.VisitorId, StringComparison.Ordinal))
        {
            src.Vkey = Key(tp.VisitorId);
            src.Visitor = tp.VisitorId;
        }
        if (!string.Equals(src.JourneyId, j.Id, StringComparison.Ordinal))
        {
            src.Jkey = Key(j.Id);
            src.JourneyId = j.Id;
        }
        if (j.PersonId is { } person && !string.Equals(src.PersonId, person, StringComparison.Ordinal))
        {
            src.Pkey = Key(person);
            src.PersonId = person;
        }
        var rank = JourneyStages.Rank(j.Stage);
        return new TouchpointRow
        {
            Site = tp.SiteId,
            EventId = tp.EventId,
            EventUuid = CanonicalUuid(tp.EventId),
            Visitor = tp.VisitorId,
            SessionId = sessionId,
            JourneyId = j.Id,
            Vkey = src.Vkey,
            Skey = src.Skey,
            Jkey = src.Jkey,
            PersonId = j.PersonId,
            Pkey = j.PersonId is null ? null : src.Pkey,
            UserIdSha256 = tp.Type == "identify" && tp.Props is { } props && props.TryGetValue("user_id_sha256", out var uid) && uid.ValueKind == System.Text.Json.JsonValueKind.String ? uid.GetString() : null,
            Ts = ts,
            Day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(ts, zone)),
            Type = tp.Type,
            Name = tp.Name,
            PageHost = tp.Page.Host,
            PagePath = tp.Page.Path,
            LandingPage = src.LandingPage,
            ReferrerHost = tp.Referrer.Host,
            SessionReferrerHost = src.ReferrerHost,
            Source = src.Source,
            Medium = src.Medium,
            Term = src.Term,
            UtmSource = tp.Campaign.Source,
            UtmMedium = tp.Campaign.Medium,
            UtmCampaign = tp.Campaign.Name,
            UtmTerm = tp.Campaign.Term,
            UtmContent = tp.Campaign.Content,
            ClickPlatform = tp.Campaign.ClickPlatform,
            Channel = tp.Channel,
            Browser = tp.Device?.Browser,
            Os = tp.Device?.Os,
            Device = tp.Device?.Family,
            Country = tp.Geo?.Country,
            Stage = j.Stage,
            PreviousStage = j.PreviousStage,
            Reasons = CopyReasons(j.Reasons),
            Score = j.Score,
            TouchIndex = j.TouchIndex,
            SessionIndex = j.SessionIndex ?? tp.SessionIndex ?? 0,
            Rank = rank,
            Entered = rank > 0 && !string.Equals(j.Stage, j.PreviousStage, StringComparison.Ordinal) ? 1 << rank : 0,
            Conversion = j.Conversion is { ConversionId.Length: > 0, Type.Length: > 0 } c ? c : null,
        };
    }

    /// <summary>
    /// GA-style source / medium / term of the touch's session: UTM fields first (the processor copies the
    /// session's landing campaign onto every touch), then the external referrer (this touch's, or the
    /// session's landing referrer when this touch came from an internal page), else (direct) / (none).
    /// </summary>
    internal static SessionSource Resolve(Touchpoint tp)
    {
        var r = tp.Referrer;
        var external = !string.IsNullOrEmpty(r.Host) && !string.Equals(r.Medium, "internal", StringComparison.Ordinal);
        var refHost = external ? r.Host : HostOf(tp.Landing?.Referrer);
        var source = tp.Campaign.Source ?? (external ? r.Source ?? r.Host : refHost) ?? "(direct)";
        var medium = tp.Campaign.Medium ?? (external ? r.Medium ?? "referral" : refHost is not null ? "referral" : "(none)");
        var term = tp.Campaign.Term ?? (external ? r.Term : null);
        var landing = PathOf(tp.Landing?.Url) ?? tp.Page.Path;
        return new SessionSource(source, medium, term, refHost, landing);
    }

    private static string? HostOf(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Host.Length > 0 ? u.Host : null;

    private static string? PathOf(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.AbsolutePath : null;

    public static TransitionRow Map(StageTransition t) => new()
    {
        T = t,
        EventUuid = CanonicalUuid(t.EventId),
        Vkey = Key(t.VisitorId),
        Jkey = Key(t.JourneyId),
        Skey = t.SessionId is null ? null : Key(t.SessionId),
        Ts = t.Ts.UtcDateTime,
        ToRank = JourneyStages.Rank(t.ToStage),
        Reasons = CopyReasons(t.Reasons),
    };
}
