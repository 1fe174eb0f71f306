using System.Text.Json;
using System.Text.Json.Serialization;

namespace TouchpointTracker.Contracts;

/// <summary>
/// One enriched event, as the collector buffers it and forwards it to Kafka.
/// With <see cref="Journey"/> set it is a staged touchpoint, as the processor publishes it.
/// Field names are the analysts' contract (snake_case on the wire, see docs/schemas).
/// </summary>
public sealed class Touchpoint
{
    /// <summary>Schema of an enriched touchpoint (collector output).</summary>
    public const string EnrichedSchema = "touchpoint/1";
    /// <summary>Schema of a staged touchpoint (processor output): the same fields plus <see cref="Journey"/>.</summary>
    public const string StagedSchema = "staged_touchpoint/1";

    [JsonPropertyName("schema")] public string Schema { get; set; } = EnrichedSchema;
    [JsonPropertyName("event_id")] public string EventId { get; set; } = "";
    [JsonPropertyName("site_id")] public string SiteId { get; set; } = "";
    [JsonPropertyName("visitor_id")] public string VisitorId { get; set; } = "";
    [JsonPropertyName("session_id")] public string SessionId { get; set; } = "";
    [JsonPropertyName("session_index")] public int? SessionIndex { get; set; }
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>Client clock when the event happened (as sent by the tag).</summary>
    [JsonPropertyName("client_ts")] public DateTimeOffset? ClientTs { get; set; }
    /// <summary>Client clock when the batch was sent.</summary>
    [JsonPropertyName("sent_ts")] public DateTimeOffset? SentTs { get; set; }
    /// <summary>Collector clock when the batch arrived.</summary>
    [JsonPropertyName("received_ts")] public DateTimeOffset ReceivedTs { get; set; }
    /// <summary>Best estimate of the event time on the collector's clock: received - (sent - client).</summary>
    [JsonPropertyName("derived_ts")] public DateTimeOffset DerivedTs { get; set; }
    [JsonPropertyName("page")] public PageInfo Page { get; set; } = new();
    [JsonPropertyName("referrer")] public ReferrerInfo Referrer { get; set; } = new();
    [JsonPropertyName("landing")] public LandingInfo? Landing { get; set; }
    [JsonPropertyName("campaign")] public CampaignInfo Campaign { get; set; } = new();
    [JsonPropertyName("channel")] public string Channel { get; set; } = "Unassigned";
    [JsonPropertyName("device")] public DeviceInfo? Device { get; set; }
    [JsonPropertyName("geo")] public GeoInfo? Geo { get; set; }
    [JsonPropertyName("context")] public ContextInfo? Context { get; set; }
    [JsonPropertyName("props")] public Dictionary<string, JsonElement>? Props { get; set; }
    /// <summary>Set by the processor only.</summary>
    [JsonPropertyName("journey")] public JourneyInfo? Journey { get; set; }
}

public sealed class PageInfo
{
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("host")] public string? Host { get; set; }
    [JsonPropertyName("path")] public string? Path { get; set; }
    [JsonPropertyName("query")] public string? Query { get; set; }
    [JsonPropertyName("title")] public string? Title { get; set; }
}

public sealed class ReferrerInfo
{
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("host")] public string? Host { get; set; }
    /// <summary>internal, search, social, email, video, shopping, referral, ai, paid (ad-serving host), spam (referrer-spam list), or null when there is no referrer.</summary>
    [JsonPropertyName("medium")] public string? Medium { get; set; }
    [JsonPropertyName("source")] public string? Source { get; set; }
    /// <summary>Search keyword, where the engine passes one.</summary>
    [JsonPropertyName("term")] public string? Term { get; set; }
}

/// <summary>Where the session began: its first page and its external referrer.</summary>
public sealed class LandingInfo
{
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("referrer")] public string? Referrer { get; set; }
}

public sealed class CampaignInfo
{
    [JsonPropertyName("source")] public string? Source { get; set; }
    [JsonPropertyName("medium")] public string? Medium { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("term")] public string? Term { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("click_id")] public string? ClickId { get; set; }
    [JsonPropertyName("click_platform")] public string? ClickPlatform { get; set; }
}

public sealed class DeviceInfo
{
    [JsonPropertyName("browser")] public string? Browser { get; set; }
    [JsonPropertyName("browser_version")] public string? BrowserVersion { get; set; }
    [JsonPropertyName("os")] public string? Os { get; set; }
    [JsonPropertyName("os_version")] public string? OsVersion { get; set; }
    [JsonPropertyName("family")] public string? Family { get; set; }
    [JsonPropertyName("is_bot")] public bool IsBot { get; set; }
}

public sealed class GeoInfo
{
    [JsonPropertyName("country")] public string? Country { get; set; }
    [JsonPropertyName("region")] public string? Region { get; set; }
    [JsonPropertyName("city")] public string? City { get; set; }
    /// <summary>The client IP cut to /24 (IPv4) or /48 (IPv6), only when the collector is configured to keep it.</summary>
    [JsonPropertyName("ip_truncated")] public string? IpTruncated { get; set; }
    /// <summary>
    /// The IANA time zone of the location (City databases only). Not on the wire: the collector copies it to
    /// <see cref="ContextInfo.TimeZone"/> when the browser did not say.
    /// </summary>
    [JsonIgnore] public string? TimeZone { get; set; }
}

public sealed class ContextInfo
{
    [JsonPropertyName("screen")] public string? Screen { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
    [JsonPropertyName("timezone")] public string? TimeZone { get; set; }
    /// <summary><c>gpc</c> or <c>none</c> when the tag stored no identifier (ids last one page load); null otherwise.</summary>
    [JsonPropertyName("storage")] public string? Storage { get; set; }
}
