namespace TouchpointTracker.Enrichment.Urls;

/// <summary>
/// Splits URLs into host, path and query without <see cref="Uri"/> (which allocates heavily and
/// rejects much of what browsers send). Lenient on input, strict on the host it returns; never throws.
/// </summary>
public static class UrlParser
{
    /// <summary>Parses <paramref name="url"/>. Null, empty or whitespace input gives the default (no URL).</summary>
    public static ParsedUrl Parse(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return default;
        }

        var span = url.AsSpan().Trim();
        if (span.Length > EnrichmentLimits.MaxUrlLength)
        {
            span = span[..EnrichmentLimits.MaxUrlLength];
        }

        var text = span.Length == url.Length ? url : new string(span);
        return ParseTrimmed(text);
    }

    private static ParsedUrl ParseTrimmed(string text)
    {
        var s = text.AsSpan();
        var authorityStart = -1;

        var colon = s.IndexOf(':');
        if (colon > 0 && IsScheme(s[..colon]))
        {
            if (s[(colon + 1)..].StartsWith("//"))
            {
                authorityStart = colon + 3;
            }
            else if (s[..colon].Contains('.'))
            {
                authorityStart = 0; // "www.example.com:8080/x": a host with a port, no scheme
            }
            else
            {
                // Opaque URL (about:blank, javascript:..., mailto:...): no host, no query of interest.
                return new ParsedUrl(text, null, 0, 0, 0, 0);
            }
        }
        else if (s.StartsWith("//"))
        {
            authorityStart = 2;
        }
        else if (!s.StartsWith("/"))
        {
            authorityStart = 0; // lenient: "www.example.com/path"
        }

        string? host = null;
        var pathStart = 0;
        if (authorityStart >= 0)
        {
            var rest = s[authorityStart..];
            var end = rest.IndexOfAny("/?#\\");
            var authority = end < 0 ? rest : rest[..end];
            host = NormalizeHost(authority);
            pathStart = authorityStart + authority.Length;
        }

        var afterPath = s[pathStart..];
        var pathEnd = afterPath.IndexOfAny('?', '#');
        var pathLength = pathEnd < 0 ? afterPath.Length : pathEnd;

        var queryStart = pathStart + pathLength;
        var queryLength = 0;
        if (queryStart < s.Length && s[queryStart] == '?')
        {
            queryStart++;
            var q = s[queryStart..];
            var hash = q.IndexOf('#');
            queryLength = hash < 0 ? q.Length : hash;
        }

        return new ParsedUrl(text, host, pathStart, pathLength, queryStart, queryLength);
    }

    private static bool IsScheme(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty || !char.IsAsciiLetter(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '-' && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Extracts and validates the host from an authority (user info and port removed).</summary>
    internal static string? NormalizeHost(ReadOnlySpan<char> authority)
    {
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        ReadOnlySpan<char> host;
        if (authority.StartsWith("["))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                return null;
            }

            host = authority[..(close + 1)];
            foreach (var c in host[1..^1])
            {
                if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
                {
                    return null;
                }
            }

            return host.Length > 2 ? ToLower(host) : null;
        }

        var portColon = authority.IndexOf(':');
        host = portColon < 0 ? authority : authority[..portColon];
        host = host.TrimEnd('.');
        if (host.IsEmpty || host.Length > EnrichmentLimits.MaxHostLength || host[0] == '.' || host[0] == '-')
        {
            return null;
        }

        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.' && c != '_')
            {
                return null;
            }
        }

        return host.Contains("..", StringComparison.Ordinal) ? null : ToLower(host);
    }

    private static string ToLower(ReadOnlySpan<char> host)
    {
        foreach (var c in host)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                return string.Create(host.Length, host, static (dest, src) => src.ToLowerInvariant(dest));
            }
        }

        return new string(host);
    }
}
