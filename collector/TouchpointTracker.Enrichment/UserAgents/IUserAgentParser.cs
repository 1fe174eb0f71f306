namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>Parses user agent strings. Implementations are thread-safe and never throw on input.</summary>
public interface IUserAgentParser
{
    /// <summary>Parses <paramref name="userAgent"/>; null or blank gives <see cref="UserAgentInfo.Unknown"/>.</summary>
    UserAgentInfo Parse(string? userAgent);
}
