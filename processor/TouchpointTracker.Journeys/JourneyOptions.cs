using System.ComponentModel.DataAnnotations;
using TouchpointTracker.Journeys.Rules;

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

    /// <summary>Embedded mode: staged touchpoints kept for the inspection API.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Journeys:InspectCapacity must be between 1 and 1000000.")]
    public int InspectCapacity { get; set; } = 10_000;
    /// <summary>Embedded mode: visitors whose journey state is kept in memory (the least recently seen go first).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Journeys:MaxVisitors must be between 1 and 10000000.")]
    public int MaxVisitors { get; set; } = 100_000;

    public JourneySettings ToSettings() => new(
        TimeSpan.FromDays(InactivityDays), TimeSpan.FromMinutes(SessionTimeoutMinutes), TimeSpan.FromMinutes(LateEventWindowMinutes));

    /// <summary>The rules of <see cref="RulesPath"/> (or the defaults) with these settings, reloaded on change.</summary>
    public StageRulesSource CreateRulesSource() =>
        new(RulesPath, ToSettings(), TimeSpan.FromSeconds(ReloadIntervalSeconds));

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
