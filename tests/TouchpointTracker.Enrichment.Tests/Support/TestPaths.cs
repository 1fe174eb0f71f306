namespace TouchpointTracker.Enrichment.Tests.Support;

/// <summary>Where the optional conformance data lives (never required by the unit tests).</summary>
internal static class TestPaths
{
    /// <summary>uap-core data: $UAP_CORE_DIR, else Debian's /usr/share/uap-core.</summary>
    public static string UapCoreDirectory => Environment.GetEnvironmentVariable("UAP_CORE_DIR") is { Length: > 0 } dir ? dir : "/usr/share/uap-core";

    /// <summary>MaxMind test databases: ../shared/testdata/geoip relative to the repository root, if present.</summary>
    public static string? SharedGeoIpDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
                {
                    var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "testdata", "geoip"));
                    return Directory.Exists(candidate) ? candidate : null;
                }
            }

            return null;
        }
    }
}
