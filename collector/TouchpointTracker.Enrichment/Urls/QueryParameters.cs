namespace TouchpointTracker.Enrichment.Urls;

/// <summary>One raw (still encoded) query parameter.</summary>
public readonly ref struct QueryParameter
{
    internal QueryParameter(ReadOnlySpan<char> name, ReadOnlySpan<char> value)
    {
        RawName = name;
        RawValue = value;
    }

    /// <summary>The encoded name.</summary>
    public ReadOnlySpan<char> RawName { get; }

    /// <summary>The encoded value (empty when the parameter has no '=').</summary>
    public ReadOnlySpan<char> RawValue { get; }

    /// <summary>The decoded, trimmed, bounded value, or null when empty.</summary>
    public string? DecodeValue(int maxLength = EnrichmentLimits.MaxValueLength) => UrlDecoder.DecodeValue(RawValue, maxLength);
}

/// <summary>Allocation-free enumeration of "a=1&amp;b=2" pairs; empty segments are skipped.</summary>
public ref struct QueryParameters
{
    private ReadOnlySpan<char> _remaining;

    /// <summary>Starts enumerating <paramref name="query"/> (without the leading '?').</summary>
    public QueryParameters(ReadOnlySpan<char> query)
    {
        _remaining = query;
        Current = default;
    }

    /// <summary>The current parameter.</summary>
    public QueryParameter Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly QueryParameters GetEnumerator() => this;

    /// <summary>Moves to the next non-empty parameter.</summary>
    public bool MoveNext()
    {
        while (!_remaining.IsEmpty)
        {
            var amp = _remaining.IndexOf('&');
            var pair = amp < 0 ? _remaining : _remaining[..amp];
            _remaining = amp < 0 ? default : _remaining[(amp + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var eq = pair.IndexOf('=');
            var name = eq < 0 ? pair : pair[..eq];
            if (name.IsEmpty)
            {
                continue;
            }

            Current = new QueryParameter(name, eq < 0 ? default : pair[(eq + 1)..]);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Decodes a parameter name for comparison (escapes like "utm%5Fsource" are rare but legal).
    /// Returns the name span itself when nothing needs decoding; empty when it is too long to matter.
    /// </summary>
    internal static ReadOnlySpan<char> NormalizeName(ReadOnlySpan<char> raw, Span<char> buffer)
    {
        if (raw.IndexOfAny('%', '+') < 0)
        {
            return raw.Trim();
        }

        var n = UrlDecoder.DecodeName(raw, buffer);
        return n < 0 ? default : buffer[..n].Trim();
    }
}
