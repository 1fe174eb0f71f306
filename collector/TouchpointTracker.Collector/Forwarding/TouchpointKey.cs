using System.Text;
using System.Text.Json;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Reads the Kafka key (<c>site_id:visitor_id</c>) from a buffered touchpoint's JSON, checking that the
/// whole entry is one well-formed JSON object. No object model is built: one forward pass of a
/// <see cref="Utf8JsonReader"/>, one small array for the key.
/// </summary>
public static class TouchpointKey
{
    /// <summary>Dead-letter reasons of entries that cannot be forwarded.</summary>
    public const string Unparsable = "unparsable";
    public const string MissingKey = "missing_key";

    /// <summary>The key bytes, or null with <paramref name="reason"/> (<see cref="Unparsable"/> or <see cref="MissingKey"/>) and <paramref name="detail"/>.</summary>
    public static byte[]? TryRead(ReadOnlySpan<byte> json, out string? reason, out string? detail)
    {
        reason = null;
        detail = null;
        // Where each value lies in the entry (the usual case: no escapes), or its unescaped copy.
        Range site = default, visitor = default;
        byte[]? siteCopy = null, visitorCopy = null;
        bool hasSite = false, hasVisitor = false;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                reason = Unparsable;
                detail = "the entry is not a JSON object";
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isSite = reader.ValueTextEquals("site_id"u8);
                var isVisitor = !isSite && reader.ValueTextEquals("visitor_id"u8);
                reader.Read();
                if ((isSite || isVisitor) && reader.TokenType == JsonTokenType.String)
                {
                    Range at = default;
                    byte[]? copy = null;
                    if (reader.ValueIsEscaped)
                    {
                        copy = Encoding.UTF8.GetBytes(reader.GetString()!);
                    }
                    else
                    {
                        // The value's bytes follow the opening quote, where the token starts.
                        var start = (int)reader.TokenStartIndex + 1;
                        at = new Range(start, start + reader.ValueSpan.Length);
                    }
                    if (isSite)
                    {
                        (site, siteCopy, hasSite) = (at, copy, true);
                    }
                    else
                    {
                        (visitor, visitorCopy, hasVisitor) = (at, copy, true);
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                reason = Unparsable;
                detail = "unexpected content after the touchpoint object";
                return null;
            }
        }
        catch (JsonException ex)
        {
            reason = Unparsable;
            detail = ex.Message;
            return null;
        }
        var siteBytes = siteCopy is null ? (hasSite ? json[site] : default) : siteCopy.AsSpan();
        var visitorBytes = visitorCopy is null ? (hasVisitor ? json[visitor] : default) : visitorCopy.AsSpan();
        if (siteBytes.IsEmpty || visitorBytes.IsEmpty)
        {
            reason = MissingKey;
            detail = siteBytes.IsEmpty ? "site_id is missing or empty" : "visitor_id is missing or empty";
            return null;
        }
        var key = new byte[siteBytes.Length + 1 + visitorBytes.Length];
        siteBytes.CopyTo(key);
        key[siteBytes.Length] = (byte)':';
        visitorBytes.CopyTo(key.AsSpan(siteBytes.Length + 1));
        return key;
    }

    public static string ToText(byte[] key) => Encoding.UTF8.GetString(key);
}
