namespace TouchpointTracker.Journeys.Identity;

/// <summary>The answer to linking a visitor to a person.</summary>
public enum LinkOutcome
{
    /// <summary>The visitor joined the person.</summary>
    Linked,
    /// <summary>The visitor was already one of the person's.</summary>
    AlreadyLinked,
    /// <summary>The person has <see cref="IdentitySettings.MaxVisitorsPerPerson"/> visitors: refused and counted.</summary>
    CapReached,
}

/// <summary>
/// Who is who, as pure functions: the person id of a hashed user id, linking a visitor to a person under the
/// visitor cap, and the bounded lists of hashed e-mails and phones. One user id is one person and a person has
/// one user id, so two different user ids are never merged (the person id is derived from the user id alone).
/// </summary>
public sealed class IdentityResolver
{
    private readonly IdentitySettings _settings;

    public IdentityResolver(IdentitySettings settings)
    {
        var problems = settings.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException("identity settings: " + string.Join("; ", problems), nameof(settings));
        }
        _settings = settings;
        Policy = new UserIdPolicy(settings.Blocklist);
    }

    public static readonly IdentityResolver Default = new(IdentitySettings.Default);

    public IdentitySettings Settings => _settings;
    public UserIdPolicy Policy { get; }

    /// <summary>
    /// The person id of a user of a site: <c>p_</c> and the first 32 hex digits of SHA-256(site, LF, user id hash).
    /// Deterministic, so every instance and every replay names the person the same, and sites never share persons.
    /// </summary>
    public static string PersonIdFor(string site, string userIdSha256) =>
        "p_" + IdentityHashing.Sha256Hex(site + "\n" + userIdSha256.ToLowerInvariant())[..32];

    /// <summary>A new person for a (usable) hashed user id.</summary>
    public static PersonState NewPerson(string site, string userIdSha256) => new()
    {
        PersonId = PersonIdFor(site, userIdSha256),
        UserIdSha256 = userIdSha256.ToLowerInvariant(),
    };

    /// <summary>Links <paramref name="visitorId"/> to <paramref name="person"/> unless the visitor cap is reached (counted on the person).</summary>
    public LinkOutcome Link(PersonState person, string visitorId)
    {
        if (person.Visitors.Contains(visitorId, StringComparer.Ordinal))
        {
            return LinkOutcome.AlreadyLinked;
        }
        if (person.Visitors.Count >= _settings.MaxVisitorsPerPerson)
        {
            person.RefusedVisitors++;
            return LinkOutcome.CapReached;
        }
        person.Visitors.Add(StateLimits.Bound(visitorId, StateLimits.MaxIdLength)!);
        return LinkOutcome.Linked;
    }

    /// <summary>Remembers a hashed e-mail or phone in a bounded list (latest last; a known one moves to the end).</summary>
    public void Remember(ref List<string>? list, string hash)
    {
        if (!IdentityHashing.IsSha256Hex(hash))
        {
            return;
        }
        hash = hash.ToLowerInvariant();
        list ??= [];
        list.Remove(hash);
        list.Add(hash);
        while (list.Count > _settings.MaxIdentifiersPerPerson)
        {
            list.RemoveAt(0);
        }
    }
}
