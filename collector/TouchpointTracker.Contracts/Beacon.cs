using System.Text.Json;
using System.Text.Json.Serialization;

namespace TouchpointTracker.Contracts;

/// <summary>A batch of events as the tag sends it to the collector (beacon contract v1).</summary>
public sealed class Beacon
{
    [JsonPropertyName("v")] public int Version { get; set; }
    [JsonPropertyName("site")] public string? Site { get; set; }
    [JsonPropertyName("vid")] public string? VisitorId { get; set; }
    [JsonPropertyName("sid")] public string? SessionId { get; set; }
    [JsonPropertyName("sn")] public int? SessionIndex { get; set; }
    [JsonPropertyName("land")] public BeaconLanding? Landing { get; set; }
    [JsonPropertyName("ctx")] public BeaconContext? Context { get; set; }
    [JsonPropertyName("events")] public List<BeaconEvent>? Events { get; set; }
    [JsonPropertyName("sent")] public long? Sent { get; set; }
}

/// <summary>The landing page and external referrer of the beacon's session.</summary>
public sealed class BeaconLanding
{
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("ref")] public string? Referrer { get; set; }
}

public sealed class BeaconContext
{
    [JsonPropertyName("sw")] public int? ScreenWidth { get; set; }
    [JsonPropertyName("sh")] public int? ScreenHeight { get; set; }
    [JsonPropertyName("lang")] public string? Language { get; set; }
    [JsonPropertyName("tz")] public string? TimeZone { get; set; }
    /// <summary>Why the tag stored no identifier: <c>gpc</c> (Global Privacy Control honoured) or <c>none</c> (storage blocked); null when it stores them.</summary>
    [JsonPropertyName("storage")] public string? Storage { get; set; }
}

public sealed class BeaconEvent
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("ts")] public long? Timestamp { get; set; }
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("ref")] public string? Referrer { get; set; }
    [JsonPropertyName("title")] public string? Title { get; set; }
    [JsonPropertyName("props")] public Dictionary<string, JsonElement>? Props { get; set; }
}
