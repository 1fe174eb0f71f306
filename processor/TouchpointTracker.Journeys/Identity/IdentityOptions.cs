using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// Identity (section <c>Identity</c>), read by the collector (junk user ids, hashing on arrival) and by whatever
/// stages touches (the processor, the collector's embedded mode).
/// </summary>
public sealed class IdentityOptions
{
    public const string Section = "Identity";

    /// <summary>Junk user ids (trimmed, any case) that identify nobody; empty or absent for the default list. Replaces the default when given.</summary>
    public string[]? Blocklist { get; set; }

    /// <summary>Visitor ids one person may have (devices, browsers); further ones are refused and counted.</summary>
    [Range(1, 1000, ErrorMessage = "Identity:MaxVisitorsPerPerson must be between 1 and 1000.")]
    public int MaxVisitorsPerPerson { get; set; } = 20;

    /// <summary>Hashed e-mails and, separately, hashed phones remembered per person (the latest).</summary>
    [Range(1, 100, ErrorMessage = "Identity:MaxIdentifiersPerPerson must be between 1 and 100.")]
    public int MaxIdentifiersPerPerson { get; set; } = 5;

    /// <summary>Unmatched offline events kept per site (the oldest go first).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Identity:MaxUnmatchedPerSite must be between 1 and 1000000.")]
    public int MaxUnmatchedPerSite { get; set; } = 10_000;

    /// <summary>Days an unmatched offline event waits for its identifier to appear (from when it occurred).</summary>
    [Range(1, 3650, ErrorMessage = "Identity:UnmatchedDays must be between 1 and 3650.")]
    public int UnmatchedDays { get; set; } = 90;

    /// <summary>Embedded mode: persons kept in memory (the least recently seen go first).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Identity:MaxPersons must be between 1 and 10000000.")]
    public int MaxPersons { get; set; } = 100_000;

    public IdentitySettings ToSettings() => new()
    {
        Blocklist = Blocklist is { Length: > 0 } ? Blocklist : IdentitySettings.DefaultBlocklist,
        MaxVisitorsPerPerson = MaxVisitorsPerPerson,
        MaxIdentifiersPerPerson = MaxIdentifiersPerPerson,
    };
}
