namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// The guard rails of identity resolution (configuration <c>Identity:*</c>, read by the collector and the processor).
/// </summary>
public sealed record IdentitySettings
{
    /// <summary>User ids that name nobody in particular: a site that sends one of them for every visitor must not merge them all.</summary>
    public static readonly IReadOnlyList<string> DefaultBlocklist =
        ["", "null", "undefined", "0", "anonymous", "guest", "distinct_id", "[object Object]", "none", "nil", "-1", "false", "true", "NaN", "user", "id"];

    public static readonly IdentitySettings Default = new();

    /// <summary>Junk user ids, compared trimmed and case-insensitively.</summary>
    public IReadOnlyList<string> Blocklist { get; init; } = DefaultBlocklist;

    /// <summary>At most this many visitor ids (devices, browsers) per person; further ones are refused and counted.</summary>
    public int MaxVisitorsPerPerson { get; init; } = 20;

    /// <summary>At most this many e-mail and this many phone hashes remembered per person (the latest).</summary>
    public int MaxIdentifiersPerPerson { get; init; } = 5;

    public IEnumerable<string> Problems()
    {
        if (MaxVisitorsPerPerson is < 1 or > 1000)
        {
            yield return "Identity:MaxVisitorsPerPerson must be between 1 and 1000";
        }
        if (MaxIdentifiersPerPerson is < 1 or > 100)
        {
            yield return "Identity:MaxIdentifiersPerPerson must be between 1 and 100";
        }
    }
}
