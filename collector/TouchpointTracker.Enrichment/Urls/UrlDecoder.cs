using System.Buffers;
using System.Text;

namespace TouchpointTracker.Enrichment.Urls;

/// <summary>
/// Decodes application/x-www-form-urlencoded values ('+' as space, %XX as UTF-8 bytes) into bounded,
/// trimmed strings. Malformed escapes are kept literally, invalid UTF-8 becomes U+FFFD; never throws.
/// </summary>
public static class UrlDecoder
{
    private const int StackLimit = 512;

    /// <summary>
    /// Decodes <paramref name="raw"/>, strips control characters, trims, and cuts the result to
    /// <paramref name="maxLength"/> characters. Returns null when nothing is left.
    /// </summary>
    public static string? DecodeValue(ReadOnlySpan<char> raw, int maxLength = EnrichmentLimits.MaxValueLength)
    {
        if (maxLength <= 0)
        {
            return null;
        }

        // An escaped character takes at most 3 input chars per UTF-8 byte and 4 bytes per char: no
        // need to look further than this into an over-long value.
        var inputLimit = (int)Math.Min((long)maxLength * 12, int.MaxValue);
        if (raw.Length > inputLimit)
        {
            raw = raw[..inputLimit];
        }

        if (raw.IndexOfAny('%', '+') < 0)
        {
            return Finish(raw, maxLength);
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(raw.Length);
        byte[]? rented = null;
        var bytes = maxBytes <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var count = Encoding.UTF8.GetBytes(raw, bytes);
            count = PercentDecodeInPlace(bytes[..count]);
            var decoded = bytes[..count];

            var maxChars = Encoding.UTF8.GetMaxCharCount(count);
            char[]? rentedChars = null;
            var chars = maxChars <= StackLimit ? stackalloc char[StackLimit] : (rentedChars = ArrayPool<char>.Shared.Rent(maxChars));
            try
            {
                var charCount = Encoding.UTF8.GetChars(decoded, chars);
                return Finish(chars[..charCount], maxLength);
            }
            finally
            {
                if (rentedChars is not null)
                {
                    ArrayPool<char>.Shared.Return(rentedChars);
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Decodes a parameter name (ASCII escapes only) into <paramref name="destination"/>.
    /// Returns the decoded length, or -1 when it does not fit.
    /// </summary>
    internal static int DecodeName(ReadOnlySpan<char> raw, Span<char> destination)
    {
        var written = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (written == destination.Length)
            {
                return -1;
            }

            var c = raw[i];
            if (c == '+')
            {
                c = ' ';
            }
            else if (c == '%' && i + 2 < raw.Length && TryHex(raw[i + 1], raw[i + 2], out var b) && b < 0x80)
            {
                c = (char)b;
                i += 2;
            }

            destination[written++] = c;
        }

        return written;
    }

    private static int PercentDecodeInPlace(Span<byte> bytes)
    {
        var w = 0;
        for (var r = 0; r < bytes.Length; r++)
        {
            var b = bytes[r];
            if (b == (byte)'+')
            {
                b = (byte)' ';
            }
            else if (b == (byte)'%' && r + 2 < bytes.Length && TryHex((char)bytes[r + 1], (char)bytes[r + 2], out var decoded))
            {
                b = decoded;
                r += 2;
            }

            bytes[w++] = b;
        }

        return w;
    }

    private static bool TryHex(char high, char low, out byte value)
    {
        var h = HexValue(high);
        var l = HexValue(low);
        if (h < 0 || l < 0)
        {
            value = 0;
            return false;
        }

        value = (byte)((h << 4) | l);
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Strips control characters, trims, bounds. Allocates only the returned string.</summary>
    internal static string? Finish(ReadOnlySpan<char> value, int maxLength)
    {
        value = value.Trim();
        if (value.IsEmpty)
        {
            return null;
        }

        if (!ContainsControl(value))
        {
            return new string(Bound(value, maxLength).TrimEnd());
        }

        Span<char> buffer = value.Length <= StackLimit ? stackalloc char[value.Length] : new char[value.Length];
        var n = 0;
        foreach (var c in value)
        {
            if (!char.IsControl(c))
            {
                buffer[n++] = c;
            }
        }

        var cleaned = Bound(buffer[..n].Trim(), maxLength).TrimEnd();
        return cleaned.IsEmpty ? null : new string(cleaned);
    }

    private static bool ContainsControl(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Cuts to <paramref name="maxLength"/> chars without splitting a surrogate pair.</summary>
    internal static ReadOnlySpan<char> Bound(ReadOnlySpan<char> value, int maxLength)
    {
        if (value.Length <= maxLength)
        {
            return value;
        }

        var cut = maxLength;
        if (cut > 0 && char.IsHighSurrogate(value[cut - 1]))
        {
            cut--;
        }

        return value[..cut];
    }
}
