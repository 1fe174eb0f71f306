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
        byte[]? site = null;
        byte[]? visitor = null;
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
                    var value = Unescaped(ref reader);
                    if (isSite)
                    {
                        site = value;
                    }
                    else
                    {
                        visitor = value;
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
        if (site is not { Length: > 0 } || visitor is not { Length: > 0 })
        {
            reason = MissingKey;
            detail = site is not { Length: > 0 } ? "site_id is missing or empty" : "visitor_id is missing or empty";
            return null;
        }
        var key = new byte[site.Length + 1 + visitor.Length];
        site.CopyTo(key, 0);
        key[site.Length] = (byte)':';
        visitor.CopyTo(key, site.Length + 1);
        return key;
    }

    public static string ToText(byte[] key) => Encoding.UTF8.GetString(key);

    private static byte[] Unescaped(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped || reader.HasValueSequence ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan.ToArray();
}
