using System.ComponentModel.DataAnnotations;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Signals;

namespace TouchpointTracker.Journeys;

/// <summary>
/// Journey staging (section <c>Journeys</c>), read the same way by the processor and by the collector's
/// embedded mode, so both stage the same input identically.
/// </summary>
public sealed class JourneyOptions : IValidatableObject
{
    public const string Section = "Journeys";

    /// <summary>The stage rules file (YAML or JSON); empty for the rules that ship with the product. Reloaded on change.</summary>
    public string? RulesPath { get; set; }
    /// <summary>Days without a touch after which a journey ends; the next touch starts a new one.</summary>
    [Range(1, 3650, ErrorMessage = "Journeys:InactivityDays must be between 1 and 3650.")]
    public int InactivityDays { get; set; } = 30;
    /// <summary>Minutes without a touch after which a session ends.</summary>
    [Range(1, 1440, ErrorMessage = "Journeys:SessionTimeoutMinutes must be between 1 and 1440.")]
    public int SessionTimeoutMinutes { get; set; } = 30;
    /// <summary>How much older than a journey's latest touch an event may be and still be placed in the session it belongs to.</summary>
    [Range(0, 60 * 24 * 90, ErrorMessage = "Journeys:LateEventWindowMinutes must be between 0 and 129600.")]
    public int LateEventWindowMinutes { get; set; } = 1440;
    /// <summary>How often the rules file is checked for changes; 0 to never reload.</summary>
    [Range(0, 3600, ErrorMessage = "Journeys:ReloadIntervalSeconds must be between 0 and 3600.")]
    public int ReloadIntervalSeconds { get; set; } = 1;

    /// <summary>Session landings kept per visitor for conversion records and attribution (the first one always kept).</summary>
    [Range(50, 1000, ErrorMessage = "Journeys:LandingHistory must be between 50 and 1000.")]
    public int LandingHistory { get; set; } = LandingLog.DefaultMaxLandings;
    /// <summary>Hard cap in bytes on one visitor's encoded landings; past it the oldest go first (the first one stays).</summary>
    [Range(2048, 65536, ErrorMessage = "Journeys:LandingBytes must be between 2048 and 65536.")]
    public int LandingBytes { get; set; } = LandingLog.DefaultMaxBytes;

    /// <summary>Embedded mode: staged touchpoints kept for the inspection API.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Journeys:InspectCapacity must be between 1 and 1000000.")]
    public int InspectCapacity { get; set; } = 10_000;
    /// <summary>Embedded mode: visitors whose journey state is kept in memory (the least recently seen go first).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Journeys:MaxVisitors must be between 1 and 10000000.")]
    public int MaxVisitors { get; set; } = 100_000;

    /// <summary>Per site (<c>Journeys:Sites:&lt;site&gt;:BrandTerms</c>): the words that name its brand.</summary>
    public Dictionary<string, JourneySiteOptions> Sites { get; set; } = new(StringComparer.Ordinal);

    public JourneySettings ToSettings() => new(
        TimeSpan.FromDays(InactivityDays), TimeSpan.FromMinutes(SessionTimeoutMinutes), TimeSpan.FromMinutes(LateEventWindowMinutes))
    {
        LandingHistory = LandingHistory,
        LandingBytes = LandingBytes,
    };

    /// <summary>The rules of <see cref="RulesPath"/> (or the defaults) with these settings, reloaded on change.</summary>
    public StageRulesSource CreateRulesSource() =>
        new(RulesPath, ToSettings(), TimeSpan.FromSeconds(ReloadIntervalSeconds));

    /// <summary>
    /// As <see cref="CreateRulesSource()"/>, with the reporting currencies and rates of the <c>Conversions</c> section
    /// (docs/conversions.md; a bad one throws, naming its key) and each site's brand terms: <see cref="Sites"/>, else derived from
    /// <c>Collector:Sites:&lt;site&gt;:Domains</c> read from the host's flattened <paramref name="configuration"/>
    /// (<c>IConfiguration.AsEnumerable()</c>). <paramref name="warn"/> hears of each site left without terms.
    /// </summary>
    public StageRulesSource CreateRulesSource(IEnumerable<KeyValuePair<string, string?>> configuration, Action<string> warn)
    {
        var flat = configuration as IReadOnlyCollection<KeyValuePair<string, string?>> ?? [.. configuration];
        var brands = BuildBrandTerms(flat, out var warnings);
        warnings.ForEach(warn);
        var currencies = Conversions.ReportingCurrencies.FromConfiguration(flat, out var errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Conversions settings: " + string.Join(" ", errors));
        }
        return new(RulesPath, ToSettings() with { BrandTerms = brands, Currencies = currencies }, TimeSpan.FromSeconds(ReloadIntervalSeconds));
    }

    /// <summary>Each site's brand terms from <see cref="Sites"/> and, where absent, the collector's site domains.</summary>
    public BrandTerms BuildBrandTerms(IEnumerable<KeyValuePair<string, string?>> configuration, out List<string> warnings)
    {
        // Collector:Sites:<site>:Domains:<i> = domain (the flattened form of the collector's site list).
        var domains = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration)
        {
            var parts = key.Split(':');
            if (parts.Length == 5 && parts[0].Equals("Collector", StringComparison.OrdinalIgnoreCase) && parts[1].Equals("Sites", StringComparison.OrdinalIgnoreCase) &&
                parts[3].Equals("Domains", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(value))
            {
                (domains.TryGetValue(parts[2], out var list) ? list : domains[parts[2]] = []).Add(value);
            }
        }
        return BrandTerms.Build(
            Sites.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.BrandTerms, StringComparer.Ordinal),
            domains.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal),
            out warnings);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LateEventWindowMinutes >= InactivityDays * 1440)
        {
            yield return new ValidationResult($"{Section}:LateEventWindowMinutes ({LateEventWindowMinutes}) must be shorter than {Section}:InactivityDays ({InactivityDays} days)", [nameof(LateEventWindowMinutes)]);
        }
        if (!string.IsNullOrWhiteSpace(RulesPath) && !File.Exists(RulesPath))
        {
            yield return new ValidationResult($"{Section}:RulesPath: no rules file at '{Path.GetFullPath(RulesPath)}'", [nameof(RulesPath)]);
        }
    }
}

/// <summary>One site's journey settings (<c>Journeys:Sites:&lt;site&gt;</c>).</summary>
public sealed class JourneySiteOptions
{
    /// <summary>Words naming the site's brand ("acme", "acme corp"); when empty, derived from <c>Collector:Sites:&lt;site&gt;:Domains</c>.</summary>
    public List<string> BrandTerms { get; set; } = [];
}
