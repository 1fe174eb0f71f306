namespace TouchpointTracker.Journeys;

/// <summary>
/// Bounds on every string the processor copies from a touchpoint into journey state. The collector already
/// enforces them on what it accepts; the processor applies them again because its state outlives any one
/// touchpoint (and Redis holds it for every visitor), so one oversized input must not grow it.
/// </summary>
public static class StateLimits
{
    /// <summary>Landing URL and referrer (the collector's default <c>Collector:MaxUrlLength</c>).</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Campaign values, search terms, channel names.</summary>
    public const int MaxValueLength = 256;

    /// <summary>Visitor, session and event ids (the collector refuses longer ones).</summary>
    public const int MaxIdLength = 128;

    /// <summary>The first <paramref name="max"/> UTF-16 units, never ending inside a surrogate pair; null stays null.</summary>
    public static string? Bound(string? s, int max) =>
        s is null || s.Length <= max ? s : s[..(char.IsHighSurrogate(s[max - 1]) ? max - 1 : max)];
}
