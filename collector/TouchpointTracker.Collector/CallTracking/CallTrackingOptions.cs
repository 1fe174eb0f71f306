namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// A site's call tracking (<c>Collector:Sites:&lt;site&gt;:CallTracking</c>): pools of tracking numbers shown to
/// visitors in place of the site's published number, so a call to one of them joins the caller's journey.
/// </summary>
public sealed class CallTrackingOptions
{
    /// <summary>Pools by name (<c>Pools:&lt;name&gt;</c>): letters, digits, '_' or '-', at most 32.</summary>
    public Dictionary<string, PoolOptions> Pools { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One pool of tracking numbers (<c>Collector:Sites:&lt;site&gt;:CallTracking:Pools:&lt;name&gt;</c>).</summary>
public sealed class PoolOptions
{
    /// <summary>The tracking numbers, in international form (E.164; spaces and separators allowed: <c>+33 1 23 45 67 01</c>).</summary>
    public List<string> Numbers { get; set; } = [];

    /// <summary>The site's published number that these numbers replace on the page, in international form.</summary>
    public string? ReplacesNumber { get; set; }

    /// <summary>
    /// The channels whose sessions this pool serves (display names: <c>Paid Search</c>, <c>Paid Social</c>...).
    /// Empty: the default pool, for sessions no other pool of the same published number takes.
    /// </summary>
    public List<string> Channels { get; set; } = [];

    /// <summary>How long a visitor keeps a number after their last activity, in minutes; a call within it is theirs.</summary>
    public int HoldMinutes { get; set; } = 30;

    /// <summary>How long the assignment log is kept, in days: a call older than this is not matched.</summary>
    public int MatchWindowDays { get; set; } = 30;

    /// <summary>
    /// The <c>source</c> given to a call to this pool's numbers that no visitor held (and that came without one).
    /// Unset: the pool's first channel, or <c>Call tracking</c> for a default pool.
    /// </summary>
    public string? Source { get; set; }
}
