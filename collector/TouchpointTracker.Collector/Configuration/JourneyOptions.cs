using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>Journey staging (section <c>Journeys</c>), used by the embedded processor.</summary>
public sealed class JourneyOptions
{
    public const string Section = "Journeys";

    /// <summary>A rules file replacing the default rules; empty for the defaults.</summary>
    public string? RulesPath { get; set; }
    /// <summary>Days without a touch after which a visitor's journey ends and the next touch starts a new one.</summary>
    [Range(1, 3650)] public int InactivityDays { get; set; } = 30;
    /// <summary>Staged touchpoints kept for the inspection API.</summary>
    [Range(1, 1_000_000)] public int InspectCapacity { get; set; } = 10_000;
    /// <summary>Visitors whose journey state the embedded processor keeps in memory.</summary>
    [Range(1, 10_000_000)] public int MaxVisitors { get; set; } = 100_000;
}
