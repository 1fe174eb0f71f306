using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TouchpointTracker.Collector.Offline;

/// <summary>One event as sent: its fields as text (JSON numbers and booleans by their literal), or why it is unreadable.</summary>
public sealed record OfflineRow(Dictionary<string, string> Fields, string? Unreadable = null)
{
    /// <summary>
    /// Set by call tracking for a call to a pool number that nobody held at the time: kept as an unmatched touch
    /// even without any identifier (the caller's phone, when sent, can still match it later).
    /// </summary>
    public bool KeepWithoutIdentity { get; set; }
}

/// <summary>A request body read into rows, or the reason it is refused whole.</summary>
public sealed record OfflineBatch(string? Site, List<OfflineRow> Rows, string? Reason = null, string? Detail = null)
{
    public static OfflineBatch Refused(string reason, string detail) => new(null, [], reason, detail);
}

/// <summary>
/// Reads offline events from JSON (<c>{"site":"...","events":[{...}]}</c>) or CSV (a header row naming the same
/// columns). Pure: never throws on any input; a malformed body is a batch refusal, a malformed item a row refusal.
/// </summary>
public static class OfflineBodyReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static OfflineBatch ReadJson(ReadOnlyMemory<byte> body, int maxEvents)
    {
        if (body.IsEmpty)
        {
            return OfflineBatch.Refused(OfflineReasons.EmptyBody, "The body is empty.");
        }
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return OfflineBatch.Refused(OfflineReasons.InvalidJson, "The body must be a JSON object {\"site\":...,\"events\":[...]}.");
            }
            string? site = null;
            if (root.TryGetProperty("site", out var siteElement) && siteElement.ValueKind != JsonValueKind.Null)
            {
                if (siteElement.ValueKind != JsonValueKind.String)
                {
                    return OfflineBatch.Refused(OfflineReasons.MissingSite, "\"site\" must be a string.");
                }
                site = siteElement.GetString();
            }
            if (!root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array || events.GetArrayLength() == 0)
            {
                return OfflineBatch.Refused(OfflineReasons.NoEvents, "\"events\" must be a non-empty array.");
            }
            if (events.GetArrayLength() > maxEvents)
            {
                return OfflineBatch.Refused(OfflineReasons.TooManyEvents, $"A request holds at most {maxEvents} events; this one has {events.GetArrayLength()}.");
            }
            var rows = new List<OfflineRow>(events.GetArrayLength());
            foreach (var item in events.EnumerateArray())
            {
                rows.Add(RowOf(item));
            }
            return new OfflineBatch(site, rows);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return OfflineBatch.Refused(OfflineReasons.InvalidJson, "The body is not valid JSON (UTF-8).");
        }
    }

    private static OfflineRow RowOf(JsonElement item)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (item.ValueKind != JsonValueKind.Object)
        {
            return new OfflineRow(fields, "An event must be a JSON object.");
        }
        foreach (var property in item.EnumerateObject())
        {
            var value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.String:
                    // An unpaired surrogate escape cannot become a string: the field is refused, not the request.
                    try
                    {
                        fields[property.Name] = value.GetString()!;
                    }
                    catch (InvalidOperationException)
                    {
                        return new OfflineRow(fields, $"\"{Shorten(property.Name)}\" is not valid text.");
                    }
                    break;
                case JsonValueKind.Number:
                case JsonValueKind.True:
                case JsonValueKind.False:
                    fields[property.Name] = value.GetRawText();
                    break;
                default:
                    return new OfflineRow(fields, $"\"{Shorten(property.Name)}\" must be a string, number or boolean.");
            }
        }
        return new OfflineRow(fields);
    }

    /// <summary>
    /// RFC 4180 CSV: comma-separated, fields in double quotes may hold commas, quotes ("") and line breaks; CRLF or LF;
    /// a UTF-8 byte order mark is skipped; empty lines are skipped; an empty cell is an absent field.
    /// </summary>
    public static OfflineBatch ReadCsv(ReadOnlyMemory<byte> body, string? site, int maxRows)
    {
        if (body.IsEmpty)
        {
            return OfflineBatch.Refused(OfflineReasons.EmptyBody, "The body is empty.");
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            return OfflineBatch.Refused(OfflineReasons.InvalidCsv, "The CSV is not UTF-8.");
        }
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }
        var records = new List<List<string>>();
        if (!TryParseCsv(text, records, maxRows + 1, out var error))
        {
            return OfflineBatch.Refused(error == OfflineReasons.TooManyEvents ? OfflineReasons.TooManyEvents : OfflineReasons.InvalidCsv,
                error == OfflineReasons.TooManyEvents ? $"A CSV upload holds at most {maxRows} rows." : error);
        }
        if (records.Count == 0)
        {
            return OfflineBatch.Refused(OfflineReasons.InvalidCsv, "The CSV has no header row.");
        }
        var header = records[0].Select(h => h.Trim()).ToList();
        if (header.Count == 0 || header.Any(h => h.Length == 0) || header.Distinct(StringComparer.Ordinal).Count() != header.Count)
        {
            return OfflineBatch.Refused(OfflineReasons.InvalidCsv, "The header row must name each column once (event_id, type, occurred_at, visitor_id, ...).");
        }
        if (records.Count == 1)
        {
            return OfflineBatch.Refused(OfflineReasons.NoEvents, "The CSV has a header row but no events.");
        }
        var rows = new List<OfflineRow>(records.Count - 1);
        foreach (var record in records.Skip(1))
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            if (record.Count > header.Count)
            {
                rows.Add(new OfflineRow(fields, $"The row has {record.Count} cells; the header names {header.Count}."));
                continue;
            }
            for (var i = 0; i < record.Count; i++)
            {
                if (record[i].Length > 0)
                {
                    fields[header[i]] = record[i];
                }
            }
            rows.Add(new OfflineRow(fields));
        }
        return new OfflineBatch(site, rows);
    }

    private static bool TryParseCsv(string text, List<List<string>> records, int maxRecords, out string error)
    {
        error = "";
        var record = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        var cellStarted = false;
        var i = 0;
        void EndCell()
        {
            record.Add(cell.ToString());
            cell.Clear();
            cellStarted = false;
        }
        bool EndRecord()
        {
            EndCell();
            if (!(record.Count == 1 && record[0].Length == 0))
            {
                records.Add(record);
            }
            record = [];
            return records.Count <= maxRecords;
        }
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        cell.Append('"');
                        i += 2;
                        continue;
                    }
                    quoted = false;
                    i++;
                    if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        error = string.Create(CultureInfo.InvariantCulture, $"A quoted cell of record {records.Count + 1} is followed by text.");
                        return false;
                    }
                    continue;
                }
                cell.Append(c);
                i++;
                continue;
            }
            switch (c)
            {
                case '"' when !cellStarted:
                    quoted = true;
                    cellStarted = true;
                    break;
                case ',':
                    EndCell();
                    break;
                case '\r' or '\n':
                    if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                    {
                        i++;
                    }
                    if (!EndRecord())
                    {
                        error = OfflineReasons.TooManyEvents;
                        return false;
                    }
                    break;
                default:
                    cell.Append(c);
                    cellStarted = true;
                    break;
            }
            i++;
        }
        if (quoted)
        {
            error = "A quoted cell is not closed.";
            return false;
        }
        if (cell.Length > 0 || record.Count > 0)
        {
            if (!EndRecord())
            {
                error = OfflineReasons.TooManyEvents;
                return false;
            }
        }
        return true;
    }

    internal static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
