using System.Text.Json;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>The outcome of reading one beacon: either a batch-level rejection, or the events that pass and those that do not.</summary>
public sealed class BeaconReadResult
{
    public Beacon? Beacon { get; init; }
    public Rejection? BatchRejection { get; init; }
    public List<BeaconEvent> Accepted { get; } = [];
    public List<Rejection> Rejected { get; } = [];

    /// <summary>Values cut or dropped instead of refusing their event, by reason (<see cref="CutReasons"/>); null when none.</summary>
    public Dictionary<string, int>? Cuts { get; private set; }

    internal void Cut(string reason, int count = 1)
    {
        if (count > 0)
        {
            (Cuts ??= new(StringComparer.Ordinal))[reason] = Cuts.GetValueOrDefault(reason) + count;
        }
    }
}

/// <summary>
/// Why the collector cut or dropped a value instead of refusing its event: the <c>reason</c> label of
/// <c>tt_cut_values_total</c>. Beacon v2 leaves these bounds to the collector; titles are cut in every version.
/// </summary>
public static class CutReasons
{
    /// <summary>An event's or the landing's url or ref longer than Collector:MaxUrlLength, cut to it (v2).</summary>
    public const string Url = "url";
    /// <summary>A title longer than 1,024 characters, cut to it (every version).</summary>
    public const string Title = "title";
    /// <summary>An event name longer than 128 characters, cut to it (v2).</summary>
    public const string Name = "name";
    /// <summary>Props that are not an object (a string, an array...), dropped (v2).</summary>
    public const string PropsNotObject = "props_not_object";
    /// <summary>A prop beyond Collector:MaxProps, or with an empty name, dropped (v2).</summary>
    public const string PropOverLimit = "prop_over_limit";
    /// <summary>A prop whose value is not a string, finite number or boolean (null, an array, an object other than identify traits), dropped (v2).</summary>
    public const string PropType = "prop_type";
    /// <summary>A prop name longer than Collector:MaxPropKeyLength, cut to it (v2).</summary>
    public const string PropName = "prop_name";
    /// <summary>A prop string longer than Collector:MaxPropValueLength, or not valid Unicode text, cut or dropped (v2).</summary>
    public const string PropValue = "prop_value";
}

/// <summary>
/// Parses and validates beacons against the contract and the configured limits. Pure: no I/O; the clock is
/// injected (the send time is bounded by the server's clock).
/// A bad batch is refused whole; a bad event inside a good batch is refused alone, so one bad event
/// never costs the others.
/// Version 2 of the beacon moves bounds from the tag to here: its over-long URLs, referrers and event names are
/// cut (v1: refused), and its props are cleaned (v1: an event with a bad prop is refused): props that are not
/// an object are dropped; at most Collector:MaxProps of them are kept, in order; names are cut to
/// MaxPropKeyLength, strings to MaxPropValueLength; finite numbers and booleans are kept; in an identify event an
/// object (its traits) is cleaned the same way one level down; anything else (null, arrays, objects elsewhere) is
/// dropped, as the v1 tag dropped it.
/// Every cut is counted by reason in <see cref="BeaconReadResult.Cuts"/>.
/// </summary>
public sealed class BeaconReader(CollectorOptions options, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly long _maxSkewMs = options.MaxClockSkewHours * 3_600_000L;

    private static readonly HashSet<string> EventTypes = new(StringComparer.Ordinal) { "pageview", "event", "identify", "engagement" };
    private const int MaxIdLength = 128;
    private const int MaxTitleLength = 1024;
    private const int MaxNameLength = 128;

    public BeaconReadResult Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Refuse(RejectReasons.EmptyBody, "The request body is empty; send a beacon as JSON.");
        }
        if (body.Length > options.MaxBodyBytes)
        {
            return Refuse(RejectReasons.BodyTooLarge, $"The body is {body.Length} bytes; the limit is {options.MaxBodyBytes}.");
        }
        Beacon? beacon;
        int droppedProps;
        try
        {
            beacon = BeaconJson.Parse(body, out droppedProps);
        }
        catch (JsonException ex)
        {
            var where = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" at {ex.Path}";
            return Refuse(RejectReasons.InvalidJson, $"The body is not a valid beacon{where}: {FirstSentence(ex.Message)}");
        }
        if (beacon is null)
        {
            return Refuse(RejectReasons.InvalidJson, "The body is JSON null; send a beacon object.");
        }
        if (beacon.Version is not (1 or 2))
        {
            return Refuse(RejectReasons.UnsupportedVersion, $"Beacon version {beacon.Version} is not supported; send \"v\":1 or \"v\":2.");
        }
        if (string.IsNullOrWhiteSpace(beacon.Site) || beacon.Site.Length > 64)
        {
            return Refuse(RejectReasons.MissingSite, "\"site\" must be a site key of 1 to 64 characters.");
        }
        if (!IsValidId(beacon.VisitorId))
        {
            return Refuse(RejectReasons.InvalidVisitor, $"\"vid\" must be a visitor id of 1 to {MaxIdLength} printable characters.");
        }
        if (!IsValidId(beacon.SessionId))
        {
            return Refuse(RejectReasons.InvalidSession, $"\"sid\" must be a session id of 1 to {MaxIdLength} printable characters.");
        }
        if (beacon.Events is not { Count: > 0 })
        {
            return Refuse(RejectReasons.NoEvents, "\"events\" must be a non-empty array.");
        }
        if (beacon.Events.Count > options.MaxEventsPerBatch)
        {
            return Refuse(RejectReasons.TooManyEvents, $"A batch holds at most {options.MaxEventsPerBatch} events; this one has {beacon.Events.Count}.");
        }

        var v2 = beacon.Version == 2;
        var result = new BeaconReadResult { Beacon = beacon };
        result.Cut(CutReasons.PropsNotObject, droppedProps);
        if (v2 && beacon.Landing is { } cutLanding)
        {
            cutLanding.Url = CutUrl(cutLanding.Url, result);
            cutLanding.Referrer = CutUrl(cutLanding.Referrer, result);
        }
        if (beacon.Landing is { } land && CheckLanding(land) is { } landing)
        {
            return Refuse(landing.Reason, landing.Detail);
        }

        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (beacon.Sent is { } sent && Math.Abs(sent - now) > _maxSkewMs)
        {
            return Refuse(RejectReasons.InvalidTimestamp, $"\"sent\" must be epoch milliseconds within {options.MaxClockSkewHours} hours of the collector's clock.");
        }

        var seen = beacon.Events.Count > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < beacon.Events.Count; i++)
        {
            var e = beacon.Events[i];
            var problem = Check(e, beacon.Sent ?? now, v2 ? result : null);
            if (problem is null && seen is not null && !seen.Add(e.Id!))
            {
                problem = (RejectReasons.DuplicateEventId, "The same event id appears twice in the batch.");
            }
            if (problem is { } p)
            {
                result.Rejected.Add(new Rejection(p.Reason, p.Detail, i, e?.Id is { Length: <= MaxIdLength } id ? id : null));
            }
            else
            {
                result.Accepted.Add(e);
            }
        }
        return result;
    }

    /// <summary>
    /// The session's landing page and referrer follow the rules of an event's url and ref: they are copied onto
    /// every touchpoint of the batch and kept in journey state, so an unbounded value would multiply.
    /// </summary>
    private (string Reason, string Detail)? CheckLanding(BeaconLanding land)
    {
        if (land.Url?.Length > options.MaxUrlLength || land.Referrer?.Length > options.MaxUrlLength)
        {
            return (RejectReasons.UrlTooLong, $"\"land.url\" and \"land.ref\" are limited to {options.MaxUrlLength} characters.");
        }
        if (!string.IsNullOrEmpty(land.Url) && !IsHttpUrl(land.Url))
        {
            return (RejectReasons.InvalidUrl, "\"land.url\" must be an absolute http(s) URL or empty.");
        }
        if (!string.IsNullOrEmpty(land.Referrer) && !IsReferrerUrl(land.Referrer))
        {
            return (RejectReasons.InvalidUrl, "\"land.ref\" must be an absolute http(s) or android-app URL, or empty.");
        }
        return null;
    }

    /// <summary>
    /// Checks one event; <paramref name="reference"/> is the batch's send time, or the server's clock without one.
    /// <paramref name="v2"/>: the result of a v2 beacon, whose event is first cut and cleaned (counted there); null for v1.
    /// </summary>
    private (string Reason, string Detail)? Check(BeaconEvent? e, long reference, BeaconReadResult? v2)
    {
        if (e is null)
        {
            return (RejectReasons.InvalidEventType, "An event must be an object.");
        }
        if (v2 is not null)
        {
            e.Url = CutUrl(e.Url, v2);
            e.Referrer = CutUrl(e.Referrer, v2);
            if (e.Name?.Length > MaxNameLength)
            {
                e.Name = CutAtCharacter(e.Name, MaxNameLength);
                v2.Cut(CutReasons.Name);
            }
            if (e.Props is { } raw)
            {
                e.Props = CleanProps(raw, v2, traits: e.Type == "identify");
            }
        }
        if (!IsValidId(e.Id))
        {
            return (RejectReasons.InvalidEventId, $"\"id\" must be 1 to {MaxIdLength} printable characters (a UUID).");
        }
        if (e.Type is null || !EventTypes.Contains(e.Type))
        {
            return (RejectReasons.InvalidEventType, "\"type\" must be one of pageview, event, identify, engagement.");
        }
        if (e.Type == "event" && (string.IsNullOrWhiteSpace(e.Name) || e.Name.Length > MaxNameLength))
        {
            return (RejectReasons.MissingEventName, $"An event of type \"event\" needs a \"name\" of 1 to {MaxNameLength} characters.");
        }
        if (e.Name is { Length: > MaxNameLength })
        {
            return (RejectReasons.MissingEventName, $"\"name\" is longer than {MaxNameLength} characters.");
        }
        if (e.Url is null ? e.Type == "pageview" : !IsHttpUrl(e.Url))
        {
            return (RejectReasons.InvalidUrl, "\"url\" must be an absolute http(s) URL (required for a pageview).");
        }
        if (e.Url?.Length > options.MaxUrlLength || e.Referrer?.Length > options.MaxUrlLength)
        {
            return (RejectReasons.UrlTooLong, $"\"url\" and \"ref\" are limited to {options.MaxUrlLength} characters.");
        }
        if (!string.IsNullOrEmpty(e.Referrer) && !IsReferrerUrl(e.Referrer))
        {
            return (RejectReasons.InvalidUrl, "\"ref\" must be an absolute http(s) or android-app URL, or empty.");
        }
        if (e.Title?.Length > MaxTitleLength)
        {
            e.Title = CutAtCharacter(e.Title, MaxTitleLength);
            v2?.Cut(CutReasons.Title);
        }
        if (e.Timestamp is { } ts)
        {
            if (ts <= 0 || ts > reference + 60_000 || reference - ts > options.MaxEventAgeDays * 86_400_000L)
            {
                return (RejectReasons.InvalidTimestamp, $"\"ts\" must be epoch milliseconds, not after \"sent\" (or the collector's clock without it) and at most {options.MaxEventAgeDays} days before it.");
            }
        }
        if (e.Props is { } props)
        {
            if (props.Count > options.MaxProps)
            {
                return (RejectReasons.InvalidProps, $"At most {options.MaxProps} props per event.");
            }
            foreach (var (key, value) in props)
            {
                if (key.Length == 0 || key.Length > options.MaxPropKeyLength)
                {
                    return (RejectReasons.InvalidProps, $"Prop names must be 1 to {options.MaxPropKeyLength} characters.");
                }
                if (!IsWellFormedPropValue(value))
                {
                    return (RejectReasons.InvalidProps, $"Prop \"{key}\" must be a string (up to {options.MaxPropValueLength} characters), number, boolean or null, or a small object of those.");
                }
            }
        }
        return null;
    }

    /// <summary>
    /// A prop value within the limits whose every string (names included) is valid Unicode: JsonElement
    /// transcodes lazily and throws InvalidOperationException on invalid UTF-8 or an unpaired surrogate escape,
    /// which refuses this event alone instead of escaping as a 500.
    /// </summary>
    private bool IsWellFormedPropValue(JsonElement value)
    {
        try
        {
            return IsPropValue(value, depth: 0);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A v2 URL or referrer cut to Collector:MaxUrlLength (counted); shorter ones as they came.</summary>
    private string? CutUrl(string? url, BeaconReadResult result)
    {
        if (url?.Length > options.MaxUrlLength)
        {
            result.Cut(CutReasons.Url);
            return CutAtCharacter(url, options.MaxUrlLength);
        }
        return url;
    }

    /// <summary>
    /// A v2 event's props as v1 would accept them: at most MaxProps, names cut to MaxPropKeyLength (an empty one
    /// dropped), strings cut to MaxPropValueLength, finite numbers and booleans kept; with <paramref name="traits"/>
    /// (an identify event) an object is cleaned the same way one level down (its traits); anything else is dropped,
    /// as the v1 tag dropped it. Every cut and drop is counted in <paramref name="result"/>.
    /// </summary>
    internal Dictionary<string, JsonElement> CleanProps(Dictionary<string, JsonElement> props, BeaconReadResult result, bool traits)
    {
        var clean = new Dictionary<string, JsonElement>(Math.Min(props.Count, options.MaxProps), StringComparer.Ordinal);
        foreach (var (key, value) in props)
        {
            if (CleanProp(key, value, 0, result) is { } kept)
            {
                clean.TryAdd(kept.Key, kept.Value);
            }
        }
        return clean;

        KeyValuePair<string, JsonElement>? CleanProp(string key, JsonElement value, int depth, BeaconReadResult counts)
        {
            if (key.Length == 0 || clean.Count >= options.MaxProps && depth == 0)
            {
                counts.Cut(CutReasons.PropOverLimit);
                return null;
            }
            if (key.Length > options.MaxPropKeyLength)
            {
                key = CutAtCharacter(key, options.MaxPropKeyLength);
                counts.Cut(CutReasons.PropName);
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.True or JsonValueKind.False:
                    return KeyValuePair.Create(key, value);
                case JsonValueKind.Number when value.TryGetDouble(out var d) && double.IsFinite(d):
                    return KeyValuePair.Create(key, value);
                case JsonValueKind.String:
                    string text;
                    try
                    {
                        text = value.GetString()!;
                    }
                    catch (InvalidOperationException)
                    {
                        // Not valid Unicode text (an unpaired surrogate escape): nothing to keep of it.
                        counts.Cut(CutReasons.PropValue);
                        return null;
                    }
                    if (text.Length <= options.MaxPropValueLength)
                    {
                        return KeyValuePair.Create(key, value);
                    }
                    counts.Cut(CutReasons.PropValue);
                    return KeyValuePair.Create(key, JsonSerializer.SerializeToElement(CutAtCharacter(text, options.MaxPropValueLength), ContractsJsonContext.Default.String));
                case JsonValueKind.Object when depth == 0 && traits:
                    var inner = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                    foreach (var p in value.EnumerateObject())
                    {
                        string name;
                        try
                        {
                            name = p.Name;
                        }
                        catch (InvalidOperationException)
                        {
                            counts.Cut(CutReasons.PropName);
                            continue;
                        }
                        if (inner.Count >= options.MaxProps)
                        {
                            counts.Cut(CutReasons.PropOverLimit);
                            break;
                        }
                        if (CleanProp(name, p.Value, 1, result) is { } kept)
                        {
                            inner.TryAdd(kept.Key, kept.Value);
                        }
                    }
                    return KeyValuePair.Create(key, JsonSerializer.SerializeToElement(inner, ContractsJsonContext.Default.DictionaryStringJsonElement));
                default:
                    counts.Cut(CutReasons.PropType);
                    return null;
            }
        }
    }

    /// <summary>The first <paramref name="max"/> UTF-16 units of <paramref name="s"/>, one fewer when the cut would split a surrogate pair.</summary>
    internal static string CutAtCharacter(string s, int max) =>
        s.Length <= max ? s : s[..(char.IsHighSurrogate(s[max - 1]) ? max - 1 : max)];

    /// <summary>Flat values, plus one level of object (identify traits) and short arrays of flat values.</summary>
    private bool IsPropValue(JsonElement value, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return value.GetString()!.Length <= options.MaxPropValueLength;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                return true;
            case JsonValueKind.Object when depth == 0:
                var count = 0;
                foreach (var p in value.EnumerateObject())
                {
                    if (++count > options.MaxProps || p.Name.Length > options.MaxPropKeyLength || !IsPropValue(p.Value, depth + 1))
                    {
                        return false;
                    }
                }
                return true;
            case JsonValueKind.Array when depth == 0:
                return value.GetArrayLength() <= options.MaxProps && value.EnumerateArray().All(v => IsPropValue(v, depth + 1));
            default:
                return false;
        }
    }

    /// <summary>A visitor, session or event id: 1 to 128 printable ASCII characters (no space, no control, nothing beyond '~').</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (c <= ' ' || c > '~')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>
    /// What a browser puts in document.referrer: http(s), or android-app:// when an Android app opened the page.
    /// javascript:, data: and the like are refused: they are not referrers, and stored as URLs they are a hazard
    /// for whatever later renders them as links.
    /// </summary>
    private static bool IsReferrerUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == "android-app");

    private static BeaconReadResult Refuse(string reason, string detail) => new() { BatchRejection = new Rejection(reason, detail) };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..(cut + 1)] : message;
    }
}
