namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>Settings of the user agent parser.</summary>
public sealed class UserAgentParserOptions
{
    /// <summary>Path of uap-core's regexes.yaml (Debian package uap-core: /usr/share/uap-core/regexes.yaml).</summary>
    public string? RegexesPath { get; set; }

    /// <summary>Entries kept in the LRU parse cache (0 disables the cache). Default 10,000.</summary>
    public int CacheCapacity { get; set; } = 10_000;

    /// <summary>
    /// Compile the regexes to IL (RegexOptions.Compiled): slower start-up (a few seconds for the full
    /// uap-core file), several times faster parsing. Default true.
    /// </summary>
    public bool CompileRegexes { get; set; } = true;

    /// <summary>
    /// Skip a rule without running its regex when a literal every match must contain is absent from the
    /// user agent. Same results, several times faster. Default true.
    /// </summary>
    public bool UseLiteralPrefilter { get; set; } = true;

    /// <summary>
    /// Time limit of one regex match (a guard against pathological backtracking; uap-core's patterns are
    /// bounded). A timed-out match is retried once, then counts as "no match". Default 200 ms.
    /// </summary>
    public TimeSpan MatchTimeout { get; set; } = TimeSpan.FromMilliseconds(200);
}
