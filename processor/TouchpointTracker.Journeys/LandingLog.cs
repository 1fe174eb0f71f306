using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>
/// The visitor's latest session landings, compact, for what attribution and conversion records need: when, channel,
/// source, medium, campaign, term, content, landing page, referrer host, click id and platform. Kept across journeys.
/// <para>
/// Storage: each distinct string once in a table (<c>s</c>); each landing a run of variable-length integers (time in
/// seconds, then an index into the table per field, 0 for none), all landings one base64 string (<c>e</c>).
/// A typical visitor with one to three sessions takes a few hundred bytes.
/// </para>
/// <para>
/// Bounds, applied in this order: (1) each value is cut (landing page 256 characters, the others 100); (2) past
/// <c>maxLandings</c> (setting <c>Journeys:LandingHistory</c>, default 50) the oldest landing goes, except the very
/// first one, kept as the first touch; (3) while the encoded size is over <c>maxBytes</c> (<c>Journeys:LandingBytes</c>,
/// default 8 KB) the same rule drops more; strings no landing uses any more leave the table.
/// </para>
/// </summary>
public sealed class LandingLog
{
    public const int DefaultMaxLandings = 50;
    public const int DefaultMaxBytes = 8 * 1024;
    public const int MaxPageLength = 256;
    public const int MaxValueLength = 100;

    /// <summary>The string table (interned values).</summary>
    [JsonPropertyName("s")] public List<string> Strings { get; set; } = [];

    /// <summary>The landings, oldest first.</summary>
    [JsonPropertyName("e")]
    [JsonConverter(typeof(LandingEntriesConverter))]
    public List<LandingEntry> Entries { get; set; } = [];

    [JsonIgnore] public int Count => Entries.Count;

    /// <summary>Adds a landing in time order, then applies the bounds.</summary>
    public void Add(LandingSummary landing, int maxLandings = DefaultMaxLandings, int maxBytes = DefaultMaxBytes)
    {
        var entry = new LandingEntry
        {
            AtSeconds = landing.At.ToUnixTimeSeconds(),
            Values =
            [
                Intern(landing.Channel, MaxValueLength), Intern(landing.Source, MaxValueLength), Intern(landing.Medium, MaxValueLength),
                Intern(landing.Campaign, MaxValueLength), Intern(landing.Term, MaxValueLength), Intern(landing.Content, MaxValueLength),
                Intern(landing.LandingPage, MaxPageLength), Intern(landing.ReferrerHost, MaxValueLength), Intern(landing.ClickId, MaxValueLength),
                Intern(landing.ClickPlatform, MaxValueLength),
            ],
        };
        var position = Entries.Count;
        while (position > 0 && Entries[position - 1].AtSeconds > entry.AtSeconds)
        {
            position--;
        }
        Entries.Insert(position, entry);
        var dropped = false;
        while (Entries.Count > Math.Max(2, maxLandings))
        {
            Entries.RemoveAt(1);
            dropped = true;
        }
        if (dropped)
        {
            CollectStrings();
        }
        while (Entries.Count > 2 && EncodedBytes() > maxBytes)
        {
            Entries.RemoveAt(1);
            CollectStrings();
        }
    }

    /// <summary>The landings as summaries, oldest first.</summary>
    public IEnumerable<LandingSummary> All()
    {
        foreach (var e in Entries)
        {
            yield return Summary(e);
        }
    }

    public LandingSummary Summary(LandingEntry e) => new()
    {
        At = DateTimeOffset.FromUnixTimeSeconds(e.AtSeconds),
        Channel = Lookup(e.Values[0]), Source = Lookup(e.Values[1]), Medium = Lookup(e.Values[2]), Campaign = Lookup(e.Values[3]),
        Term = Lookup(e.Values[4]), Content = Lookup(e.Values[5]), LandingPage = Lookup(e.Values[6]), ReferrerHost = Lookup(e.Values[7]),
        ClickId = Lookup(e.Values[8]), ClickPlatform = Lookup(e.Values[9]),
    };

    /// <summary>About the bytes this log takes as JSON: the strings with their quotes and commas, the entries as base64.</summary>
    public int EncodedBytes()
    {
        var n = 16;
        foreach (var s in Strings)
        {
            n += Encoding.UTF8.GetByteCount(s) + 3;
        }
        var raw = 0;
        foreach (var e in Entries)
        {
            raw += LandingEntriesConverter.Size(e);
        }
        return n + (raw + 2) / 3 * 4;
    }

    private string? Lookup(int index) => index <= 0 || index > Strings.Count ? null : Strings[index - 1];

    private int Intern(string? value, int max)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }
        value = StateLimits.Bound(value, max)!;
        var i = Strings.IndexOf(value);
        if (i >= 0)
        {
            return i + 1;
        }
        Strings.Add(value);
        return Strings.Count;
    }

    /// <summary>Rebuilds the table with the strings still used, in first-use order.</summary>
    private void CollectStrings()
    {
        var table = new List<string>();
        var map = new Dictionary<int, int>();
        foreach (var e in Entries)
        {
            for (var f = 0; f < e.Values.Length; f++)
            {
                var old = e.Values[f];
                if (old == 0)
                {
                    continue;
                }
                if (!map.TryGetValue(old, out var now))
                {
                    table.Add(Strings[old - 1]);
                    now = table.Count;
                    map[old] = now;
                }
                e.Values[f] = now;
            }
        }
        Strings = table;
    }

    /// <summary>The landing of a new session, read from the touch that opened it.</summary>
    public static LandingSummary FromSession(Touchpoint tp, SessionState session)
    {
        var c = session.Campaign;
        var r = tp.Referrer;
        var external = !string.IsNullOrEmpty(r.Host) && r.Medium != "internal";
        var refHost = external ? r.Host : HostOf(session.LandingReferrer);
        return new LandingSummary
        {
            At = session.Start,
            Channel = session.Channel,
            Source = NullIfEmpty(c?.Source) ?? (external ? NullIfEmpty(r.Source) ?? r.Host : refHost) ?? (tp.Type == "offline" ? null : "(direct)"),
            Medium = NullIfEmpty(c?.Medium) ?? (external ? NullIfEmpty(r.Medium) ?? "referral" : refHost is not null ? "referral" : tp.Type == "offline" ? "offline" : "(none)"),
            Campaign = NullIfEmpty(c?.Name),
            Term = session.Term,
            Content = NullIfEmpty(c?.Content),
            LandingPage = PathOf(session.LandingUrl) ?? NullIfEmpty(tp.Page.Path),
            ReferrerHost = refHost,
            ClickId = NullIfEmpty(c?.ClickId),
            ClickPlatform = NullIfEmpty(c?.ClickPlatform),
        };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // Host and path by hand: the collector already parsed these URLs, and System.Uri costs microseconds a session.
    private static string? HostOf(string? url)
    {
        var (start, end) = Authority(url);
        if (start < 0)
        {
            return null;
        }
        var span = url.AsSpan(start, end - start);
        var at = span.LastIndexOf('@');
        if (at >= 0)
        {
            span = span[(at + 1)..];
        }
        var colon = span.StartsWith("[") ? span.IndexOf(']') + 1 : span.LastIndexOf(':');
        if (colon > 0 && colon < span.Length && span[colon] == ':')
        {
            span = span[..colon];
        }
        return span.Length == 0 ? null : span.ToString().ToLowerInvariant();
    }

    private static string? PathOf(string? url)
    {
        var (start, end) = Authority(url);
        if (start < 0)
        {
            return null;
        }
        var rest = url.AsSpan(end);
        var stop = rest.IndexOfAny('?', '#');
        var path = stop >= 0 ? rest[..stop] : rest;
        return path.Length == 0 ? "/" : path.ToString();
    }

    /// <summary>Where the authority (host and port) of an absolute URL starts and ends; (-1, -1) when it is not one.</summary>
    private static (int Start, int End) Authority(string? url)
    {
        if (url is null)
        {
            return (-1, -1);
        }
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return (-1, -1);
        }
        var start = scheme + 3;
        var end = url.AsSpan(start).IndexOfAny('/', '?', '#');
        return (start, end < 0 ? url.Length : start + end);
    }
}

/// <summary>One landing as stored: its time in seconds and a string-table index per field (0: none).</summary>
public sealed class LandingEntry
{
    public long AtSeconds { get; set; }
    public int[] Values { get; set; } = new int[10];
}

/// <summary>One session landing, readable.</summary>
public class LandingSummary
{
    [JsonPropertyName("at")] public DateTimeOffset At { get; set; }
    [JsonPropertyName("channel")] public string? Channel { get; set; }
    [JsonPropertyName("source")] public string? Source { get; set; }
    [JsonPropertyName("medium")] public string? Medium { get; set; }
    [JsonPropertyName("campaign")] public string? Campaign { get; set; }
    [JsonPropertyName("term")] public string? Term { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("landing_page")] public string? LandingPage { get; set; }
    [JsonPropertyName("referrer_host")] public string? ReferrerHost { get; set; }
    [JsonPropertyName("click_id")] public string? ClickId { get; set; }
    [JsonPropertyName("click_platform")] public string? ClickPlatform { get; set; }
}

/// <summary>Writes the landings as one base64 string of unsigned LEB128 integers: seconds, then the 10 indexes, per landing.</summary>
public sealed class LandingEntriesConverter : JsonConverter<List<LandingEntry>>
{
    internal static int Size(LandingEntry e)
    {
        var n = VarSize((ulong)Math.Max(0, e.AtSeconds));
        foreach (var v in e.Values)
        {
            n += VarSize((ulong)v);
        }
        return n;
    }

    private static int VarSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }
        return n;
    }

    public override List<LandingEntry> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var list = new List<LandingEntry>();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return list;
        }
        var bytes = reader.GetBytesFromBase64();
        var i = 0;
        while (i < bytes.Length)
        {
            var e = new LandingEntry { AtSeconds = (long)ReadVar(bytes, ref i) };
            for (var f = 0; f < e.Values.Length; f++)
            {
                e.Values[f] = (int)Math.Min(ReadVar(bytes, ref i), int.MaxValue);
            }
            list.Add(e);
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<LandingEntry> value, JsonSerializerOptions options)
    {
        var buffer = new List<byte>(value.Count * 16);
        foreach (var e in value)
        {
            WriteVar(buffer, (ulong)Math.Max(0, e.AtSeconds));
            foreach (var v in e.Values)
            {
                WriteVar(buffer, (ulong)Math.Max(0, v));
            }
        }
        writer.WriteBase64StringValue(buffer.ToArray());
    }

    private static void WriteVar(List<byte> buffer, ulong v)
    {
        while (v >= 0x80)
        {
            buffer.Add((byte)(v | 0x80));
            v >>= 7;
        }
        buffer.Add((byte)v);
    }

    private static ulong ReadVar(byte[] bytes, ref int i)
    {
        ulong v = 0;
        var shift = 0;
        while (i < bytes.Length)
        {
            var b = bytes[i++];
            v |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0 || shift >= 63)
            {
                break;
            }
            shift += 7;
        }
        return v;
    }
}
