namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>A browser or operating system: family and version parts (uap-core naming).</summary>
/// <param name="Family">Family ("Chrome", "Mac OS X"); "Other" when unknown.</param>
/// <param name="Major">Major version.</param>
/// <param name="Minor">Minor version.</param>
/// <param name="Patch">Patch version.</param>
/// <param name="PatchMinor">Fourth version part.</param>
public sealed record VersionedName(string Family, string? Major = null, string? Minor = null, string? Patch = null, string? PatchMinor = null)
{
    /// <summary>Unknown family, no version.</summary>
    public static VersionedName Other { get; } = new(UserAgentInfo.OtherFamily);

    /// <summary>
    /// The version parts present, joined with '.' ("120.0.6099"); null when there is no major. Joined once, when
    /// the name is built (parsed names are cached and read for every event).
    /// </summary>
    public string? Version { get; } = Join(Major, Minor, Patch, PatchMinor);

    private static string? Join(string? major, string? minor, string? patch, string? patchMinor) => major is null
        ? null
        : minor is null ? major
        : patch is null ? $"{major}.{minor}"
        : patchMinor is null ? $"{major}.{minor}.{patch}"
        : $"{major}.{minor}.{patch}.{patchMinor}";
}

/// <summary>The physical device (uap-core naming).</summary>
/// <param name="Family">Device family ("iPhone", "Samsung SM-G991B", "Spider" for bots); "Other" when unknown.</param>
/// <param name="Brand">Manufacturer ("Apple", "Samsung").</param>
/// <param name="Model">Model ("iPhone", "SM-G991B").</param>
public sealed record DeviceName(string Family, string? Brand = null, string? Model = null)
{
    /// <summary>Unknown device.</summary>
    public static DeviceName Other { get; } = new(UserAgentInfo.OtherFamily);
}

/// <summary>Everything parsed from one user agent string.</summary>
/// <param name="Browser">The user agent (browser, app or bot) family and version.</param>
/// <param name="Os">The operating system.</param>
/// <param name="Device">The device.</param>
/// <param name="IsBot">True for crawlers, monitors, headless browsers and HTTP libraries.</param>
public sealed record UserAgentInfo(VersionedName Browser, VersionedName Os, DeviceName Device, bool IsBot)
{
    /// <summary>The family uap-core reports when no rule matches.</summary>
    public const string OtherFamily = "Other";

    /// <summary>The device family uap-core gives to crawlers.</summary>
    public const string SpiderFamily = "Spider";

    /// <summary>Nothing known.</summary>
    public static UserAgentInfo Unknown { get; } = new(VersionedName.Other, VersionedName.Other, DeviceName.Other, false);
}
