using Microsoft.Extensions.Options;

namespace TouchpointTracker.Analytics;

/// <summary>Settings of the analytics store and its API, section <c>Analytics</c>.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>The DuckDB file; its folder is created on first run.</summary>
    public string Path { get; set; } = "./tt-data/analytics.duckdb";

    /// <summary>Rows older than this many days are deleted by <see cref="AnalyticsWriter.EnforceRetentionAsync"/>.</summary>
    public int RetentionDays { get; set; } = 400;

    /// <summary>The writer commits what it holds at least this often (the most a SIGKILL can lose).</summary>
    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>The writer also commits as soon as it holds this many rows.</summary>
    public int FlushRows { get; set; } = 50_000;

    /// <summary>
    /// DuckDB folds its write-ahead log into the file (a checkpoint, which compresses the new rows) once the log
    /// reaches this many MiB. DuckDB's own 16 MiB made nearly every 50,000-row commit a checkpoint.
    /// </summary>
    public int CheckpointWalMb { get; set; } = 256;

    /// <summary>Rows held in memory before <see cref="AnalyticsWriter.AddAsync(Contracts.Touchpoint, CancellationToken)"/> waits (back-pressure).</summary>
    public int MaxBufferedRows { get; set; } = 200_000;

    /// <summary>Read-only API keys per site: <c>Analytics:ApiKeys:&lt;site&gt;:0=...</c>.</summary>
    public Dictionary<string, List<string>> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Sites whose API needs no key (embedded mode opens <c>demo</c>).</summary>
    public List<string> OpenSites { get; set; } = [];

    /// <summary>Per-site settings: <c>Analytics:Sites:&lt;site&gt;:TimeZone</c> (IANA id, default UTC).</summary>
    public Dictionary<string, AnalyticsSiteOptions> Sites { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The site's time zone (UTC when not configured).</summary>
    public TimeZoneInfo TimeZoneOf(string site) =>
        Sites.TryGetValue(site, out var s) && !string.IsNullOrWhiteSpace(s.TimeZone)
            ? TimeZoneInfo.FindSystemTimeZoneById(s.TimeZone)
            : TimeZoneInfo.Utc;
}

public sealed class AnalyticsSiteOptions
{
    public string? TimeZone { get; set; }
}

/// <summary>Validates <see cref="AnalyticsOptions"/> at start-up; every message names the setting.</summary>
public sealed class AnalyticsOptionsValidator : IValidateOptions<AnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, AnalyticsOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Check(AnalyticsOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Path))
        {
            errors.Add("Analytics:Path must name the DuckDB file (default ./tt-data/analytics.duckdb).");
        }
        if (o.RetentionDays is < 1 or > 36_500)
        {
            errors.Add($"Analytics:RetentionDays must be between 1 and 36500 (got {o.RetentionDays}).");
        }
        if (o.FlushIntervalMs is < 10 or > 600_000)
        {
            errors.Add($"Analytics:FlushIntervalMs must be between 10 and 600000 (got {o.FlushIntervalMs}).");
        }
        if (o.FlushRows is < 1 or > 10_000_000)
        {
            errors.Add($"Analytics:FlushRows must be between 1 and 10000000 (got {o.FlushRows}).");
        }
        if (o.CheckpointWalMb is < 1 or > 65_536)
        {
            errors.Add($"Analytics:CheckpointWalMb must be between 1 and 65536 (got {o.CheckpointWalMb}).");
        }
        if (o.MaxBufferedRows < o.FlushRows)
        {
            errors.Add($"Analytics:MaxBufferedRows ({o.MaxBufferedRows}) must be at least Analytics:FlushRows ({o.FlushRows}).");
        }
        foreach (var (site, keys) in o.ApiKeys)
        {
            for (var i = 0; i < keys.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(keys[i]) || keys[i].Length < 16)
                {
                    errors.Add($"Analytics:ApiKeys:{site}:{i} must be at least 16 characters (a random secret).");
                }
            }
        }
        foreach (var (site, s) in o.Sites)
        {
            if (string.IsNullOrWhiteSpace(s.TimeZone))
            {
                continue;
            }
            try
            {
                TimeZoneInfo.FindSystemTimeZoneById(s.TimeZone);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                errors.Add($"Analytics:Sites:{site}:TimeZone '{s.TimeZone}' is not a known time zone (use an IANA id such as Europe/Paris).");
            }
        }
        return errors;
    }
}
