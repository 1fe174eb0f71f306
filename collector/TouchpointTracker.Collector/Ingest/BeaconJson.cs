using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>
/// Reads a beacon (contract v1 or v2) straight off its UTF-8 bytes with <see cref="Utf8JsonReader"/>: one pass, no
/// intermediate document, the event types and other closed values shared instead of allocated per event.
/// Same rules as the contract's JSON schema and the serializer it replaces: names are case-sensitive, unknown
/// properties are skipped, a repeated property keeps its last value, numbers must be JSON numbers.
/// A malformed body, a value of the wrong JSON type, or a string that is not valid Unicode (invalid UTF-8 bytes,
/// an unpaired surrogate escape such as <c>"\ud83d"</c>) throws <see cref="JsonException"/> with its JSON path:
/// nothing else escapes, so no input can turn into a 500.
/// The one difference between the versions here: an event's <c>props</c> that is not an object (nor null) fails a
/// v1 beacon, and is dropped from a v2 beacon (the v2 tag sends props as the page gave them; the collector cleans
/// them), counted in <c>droppedProps</c>.
/// </summary>
public static class BeaconJson
{
    private static readonly JsonReaderOptions Options = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

    /// <summary>The beacon, or null when the body is the JSON literal <c>null</c>.</summary>
    public static Beacon? Parse(ReadOnlySpan<byte> utf8) => Parse(utf8, out _);

    /// <summary>As <see cref="Parse(ReadOnlySpan{byte})"/>; <paramref name="droppedProps"/>: how many events of a v2 beacon had props that were not an object (dropped).</summary>
    public static Beacon? Parse(ReadOnlySpan<byte> utf8, out int droppedProps)
    {
        droppedProps = 0;
        try
        {
            List<int>? notObjects = null;
            var beacon = ParseBeacon(utf8, ref notObjects);
            if (notObjects is { Count: > 0 })
            {
                if (beacon?.Version != 2)
                {
                    throw Fail($"$.events[{notObjects[0]}].props", "must be an object");
                }
                droppedProps = notObjects.Count;
            }
            return beacon;
        }
        catch (InvalidOperationException ex)
        {
            // Comparing an escaped property name (ValueTextEquals) unescapes it, and throws on an unpaired
            // surrogate: the same bad text as in a value, where Text() already names the path.
            throw new JsonException("A property name " + NotUnicode + ".", "$", null, null, ex);
        }
    }

    private static Beacon? ParseBeacon(ReadOnlySpan<byte> utf8, ref List<int>? notObjects)
    {
        var reader = new Utf8JsonReader(utf8, Options);
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject, "$", "a beacon object");
        var beacon = new Beacon();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("v"u8))
            {
                reader.Read();
                beacon.Version = Int32(ref reader, "$.v") ?? throw Fail("$.v", "must be 1, not null");
            }
            else if (reader.ValueTextEquals("site"u8))
            {
                reader.Read();
                beacon.Site = String(ref reader, "$.site");
            }
            else if (reader.ValueTextEquals("vid"u8))
            {
                reader.Read();
                beacon.VisitorId = String(ref reader, "$.vid");
            }
            else if (reader.ValueTextEquals("sid"u8))
            {
                reader.Read();
                beacon.SessionId = String(ref reader, "$.sid");
            }
            else if (reader.ValueTextEquals("sn"u8))
            {
                reader.Read();
                beacon.SessionIndex = Int32(ref reader, "$.sn");
            }
            else if (reader.ValueTextEquals("sent"u8))
            {
                reader.Read();
                beacon.Sent = Int64(ref reader, "$.sent");
            }
            else if (reader.ValueTextEquals("land"u8))
            {
                reader.Read();
                beacon.Landing = Landing(ref reader);
            }
            else if (reader.ValueTextEquals("ctx"u8))
            {
                reader.Read();
                beacon.Context = Context(ref reader);
            }
            else if (reader.ValueTextEquals("events"u8))
            {
                reader.Read();
                beacon.Events = Events(ref reader, ref notObjects);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Anything but whitespace after the object makes the reader throw.
        if (reader.Read())
        {
            throw Fail("$", "the body holds more than one JSON value");
        }
        return beacon;
    }

    private static BeaconLanding? Landing(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject, "$.land", "an object");
        var landing = new BeaconLanding();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("url"u8))
            {
                reader.Read();
                landing.Url = String(ref reader, "$.land.url");
            }
            else if (reader.ValueTextEquals("ref"u8))
            {
                reader.Read();
                landing.Referrer = String(ref reader, "$.land.ref");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return landing;
    }

    private static BeaconContext? Context(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject, "$.ctx", "an object");
        var context = new BeaconContext();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("sw"u8))
            {
                reader.Read();
                context.ScreenWidth = Int32(ref reader, "$.ctx.sw");
            }
            else if (reader.ValueTextEquals("sh"u8))
            {
                reader.Read();
                context.ScreenHeight = Int32(ref reader, "$.ctx.sh");
            }
            else if (reader.ValueTextEquals("lang"u8))
            {
                reader.Read();
                context.Language = String(ref reader, "$.ctx.lang");
            }
            else if (reader.ValueTextEquals("tz"u8))
            {
                reader.Read();
                context.TimeZone = String(ref reader, "$.ctx.tz");
            }
            else if (reader.ValueTextEquals("storage"u8))
            {
                reader.Read();
                context.Storage = String(ref reader, "$.ctx.storage");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return context;
    }

    private static List<BeaconEvent>? Events(ref Utf8JsonReader reader, ref List<int>? notObjects)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartArray, "$.events", "an array");
        var events = new List<BeaconEvent>(4);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // A null element is kept: validation refuses it alone, as an event that is not an object.
            events.Add(reader.TokenType == JsonTokenType.Null ? null! : Event(ref reader, events.Count, ref notObjects));
        }
        return events;
    }

    private static BeaconEvent Event(ref Utf8JsonReader reader, int index, ref List<int>? notObjects)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Fail($"$.events[{index}]", "must be an object");
        }
        var e = new BeaconEvent();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                e.Id = String(ref reader, index, "id");
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                e.Type = EventType(ref reader, index);
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                e.Name = String(ref reader, index, "name");
            }
            else if (reader.ValueTextEquals("ts"u8))
            {
                reader.Read();
                e.Timestamp = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var ts) ? ts
                    : reader.TokenType == JsonTokenType.Null ? null
                    : throw Fail($"$.events[{index}].ts", "must be an integer (epoch milliseconds)");
            }
            else if (reader.ValueTextEquals("url"u8))
            {
                reader.Read();
                e.Url = String(ref reader, index, "url");
            }
            else if (reader.ValueTextEquals("ref"u8))
            {
                reader.Read();
                e.Referrer = String(ref reader, index, "ref");
            }
            else if (reader.ValueTextEquals("title"u8))
            {
                reader.Read();
                e.Title = String(ref reader, index, "title");
            }
            else if (reader.ValueTextEquals("props"u8))
            {
                reader.Read();
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.Null)
                {
                    e.Props = Props(ref reader, index);
                }
                else
                {
                    // Decided once the version is known (it may come after the events): v1 fails, v2 drops them.
                    e.Props = null;
                    reader.Skip();
                    (notObjects ??= []).Add(index);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return e;
    }

    /// <summary>Props keep their JSON values as they came; validation bounds them afterwards.</summary>
    private static Dictionary<string, JsonElement>? Props(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Fail($"$.events[{index}].props", "must be an object");
        }
        var props = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            var name = Text(ref reader, index, "props");
            reader.Read();
            props[name] = JsonElement.ParseValue(ref reader);
        }
        return props;
    }

    /// <summary>The four event types of the contract come back as shared strings; anything else is read as sent and refused by validation.</summary>
    private static string? EventType(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
        {
            if (reader.ValueTextEquals("pageview"u8))
            {
                return "pageview";
            }
            if (reader.ValueTextEquals("event"u8))
            {
                return "event";
            }
            if (reader.ValueTextEquals("engagement"u8))
            {
                return "engagement";
            }
            if (reader.ValueTextEquals("identify"u8))
            {
                return "identify";
            }
        }
        return String(ref reader, index, "type");
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string path, string what)
    {
        if (reader.TokenType != type)
        {
            throw Fail(path, "must be " + what);
        }
    }

    private static string? String(ref Utf8JsonReader reader, string path) => reader.TokenType switch
    {
        JsonTokenType.String => Text(ref reader, path),
        JsonTokenType.Null => null,
        _ => throw Fail(path, "must be a string"),
    };

    private static string? String(ref Utf8JsonReader reader, int index, string property) => reader.TokenType switch
    {
        JsonTokenType.String => Text(ref reader, index, property),
        JsonTokenType.Null => null,
        _ => throw Fail($"$.events[{index}].{property}", "must be a string"),
    };

    /// <summary>
    /// The current string token as UTF-16. <see cref="Utf8JsonReader.GetString"/> throws InvalidOperationException
    /// on invalid UTF-8 or an unpaired surrogate escape; that becomes a JsonException like any other bad value.
    /// </summary>
    private static string Text(ref Utf8JsonReader reader, string path)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Fail(path, NotUnicode);
        }
    }

    /// <summary>As above; the path of an event's property is formatted only on failure.</summary>
    private static string Text(ref Utf8JsonReader reader, int index, string property)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Fail($"$.events[{index}].{property}", NotUnicode);
        }
    }

    private const string NotUnicode = "is not valid Unicode text (invalid UTF-8 bytes or an unpaired surrogate escape)";

    private static int? Int32(ref Utf8JsonReader reader, string path) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value
        : reader.TokenType == JsonTokenType.Null ? null
        : throw Fail(path, "must be an integer");

    private static long? Int64(ref Utf8JsonReader reader, string path) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value
        : reader.TokenType == JsonTokenType.Null ? null
        : throw Fail(path, "must be an integer (epoch milliseconds)");

    private static JsonException Fail(string path, string problem) => new($"The value {problem}.", path, null, null);
}
