namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// Puts a bounded, thread-safe LRU cache in front of another parser. Real traffic repeats a small set
/// of user agents, so most parses become one dictionary lookup.
/// </summary>
public sealed class CachedUserAgentParser : IUserAgentParser
{
    private readonly LruCache<string, UserAgentInfo> _cache;
    private readonly Func<string, UserAgentInfo> _parse;

    /// <summary>Caches up to <paramref name="capacity"/> results of <paramref name="inner"/>.</summary>
    public CachedUserAgentParser(IUserAgentParser inner, int capacity)
    {
        _cache = new LruCache<string, UserAgentInfo>(capacity, StringComparer.Ordinal);
        _parse = inner.Parse;
    }

    /// <summary>The cache (for hit-rate metrics).</summary>
    public LruCache<string, UserAgentInfo> Cache => _cache;

    /// <inheritdoc />
    public UserAgentInfo Parse(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return UserAgentInfo.Unknown;
        }

        // Cut before keying so an attacker cannot fill the cache with giant keys.
        var key = userAgent.Length > EnrichmentLimits.MaxUserAgentLength ? userAgent[..EnrichmentLimits.MaxUserAgentLength] : userAgent;
        return _cache.GetOrAdd(key, _parse);
    }
}
