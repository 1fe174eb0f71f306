namespace TouchpointTracker.Enrichment.Urls;

/// <summary>
/// A URL split into its parts. <see cref="Host"/> is lower-cased, without port, user info or trailing
/// dot; <see cref="Path"/> and <see cref="Query"/> are views into the (bounded) original string so
/// that reading parameters allocates nothing. The default value means "no URL".
/// </summary>
public readonly struct ParsedUrl
{
    private readonly int _pathStart;
    private readonly int _pathLength;
    private readonly int _queryStart;
    private readonly int _queryLength;

    internal ParsedUrl(string url, string? host, int pathStart, int pathLength, int queryStart, int queryLength)
    {
        Url = url;
        Host = host;
        _pathStart = pathStart;
        _pathLength = pathLength;
        _queryStart = queryStart;
        _queryLength = queryLength;
    }

    /// <summary>The URL as parsed (trimmed, cut to <see cref="EnrichmentLimits.MaxUrlLength"/>), or null.</summary>
    public string? Url { get; }

    /// <summary>Lower-case host name (IPv6 literals keep their brackets), or null when absent or invalid.</summary>
    public string? Host { get; }

    /// <summary>True when a URL was given at all.</summary>
    public bool HasValue => Url is not null;

    /// <summary>The path ("/" when a host is present and the path is empty).</summary>
    public ReadOnlySpan<char> PathSpan => Url is null ? default : (_pathLength == 0 && Host is not null ? "/" : Url.AsSpan(_pathStart, _pathLength));

    /// <summary>The raw (still encoded) query string, without '?' and fragment.</summary>
    public ReadOnlySpan<char> QuerySpan => Url is null ? default : Url.AsSpan(_queryStart, _queryLength);

    /// <summary>The path as a string, or null.</summary>
    public string? Path => Url is null ? null
        : _pathLength == 0 ? (Host is null ? null : "/")
        : Url.Substring(_pathStart, _pathLength);

    /// <summary>The raw query as a string, or null when empty.</summary>
    public string? Query => _queryLength == 0 || Url is null ? null : Url.Substring(_queryStart, _queryLength);

    /// <summary>Enumerates the query parameters without allocating.</summary>
    public QueryParameters Parameters => new(QuerySpan);
}
