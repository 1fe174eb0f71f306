using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// Identity state held in memory (the embedded mode, and the reference model of the tests): persons, the
/// identifier index and the unmatched offline touches, each bounded. Past <paramref name="maxPersons"/> the tenth
/// of persons seen least recently is forgotten; past <paramref name="maxIndexEntries"/> the index is cleared of its
/// oldest tenth; at most <paramref name="maxUnmatchedPerSite"/> unmatched touches per site (the oldest go first),
/// each kept <paramref name="unmatchedRetention"/> after it occurred. Visitors' journey states come from
/// <paramref name="visitors"/>. Used by one loop only.
/// </summary>
public sealed class InMemoryIdentityState(IJourneyStateLookup visitors, int maxPersons = 100_000, int maxIndexEntries = 400_000,
    int maxUnmatchedPerSite = 10_000, TimeSpan? unmatchedRetention = null) : IIdentityLookup
{
    private readonly Dictionary<(string Site, string Person), PersonState> _persons = [];
    private readonly Dictionary<(string Site, string Key), (string Target, long Order)> _index = [];
    private readonly Dictionary<string, List<UnmatchedTouch>> _unmatched = new(StringComparer.Ordinal);
    private readonly HashSet<(string Site, string Person)> _changed = [];
    private readonly TimeSpan _retention = unmatchedRetention ?? TimeSpan.FromDays(90);
    private long _order;

    public JourneyState GetOrCreate(Touchpoint touchpoint) => visitors.GetOrCreate(touchpoint);

    public PersonState? FindPerson(string site, string personId) => _persons.GetValueOrDefault((site, personId));

    public void PersonChanged(string site, PersonState person)
    {
        var key = (site, person.PersonId);
        if (!_persons.ContainsKey(key) && _persons.Count >= maxPersons)
        {
            foreach (var old in _persons.OrderBy(kv => kv.Value.Journey.LastSeen).Take(Math.Max(1, maxPersons / 10)).Select(kv => kv.Key).ToList())
            {
                _persons.Remove(old);
                _changed.Remove(old);
            }
        }
        _persons[key] = person;
        _changed.Add(key);
        Changed = true;
    }

    public string? FindTarget(string site, string identifierKey) =>
        _index.TryGetValue((site, identifierKey), out var t) ? t.Target : null;

    public void Learn(string site, string identifierKey, string target)
    {
        if (!_index.ContainsKey((site, identifierKey)) && _index.Count >= maxIndexEntries)
        {
            foreach (var old in _index.OrderBy(kv => kv.Value.Order).Take(Math.Max(1, maxIndexEntries / 10)).Select(kv => kv.Key).ToList())
            {
                _index.Remove(old);
            }
        }
        _index[(site, identifierKey)] = (target, ++_order);
        Changed = true;
    }

    public IReadOnlyList<Touchpoint> TakeUnmatched(string site, string identifierKey)
    {
        if (!_unmatched.TryGetValue(site, out var list))
        {
            return [];
        }
        var taken = list.Where(u => u.Keys.Contains(identifierKey)).ToList();
        if (taken.Count == 0)
        {
            return [];
        }
        list.RemoveAll(u => u.Keys.Contains(identifierKey));
        Changed = true;
        return taken.Select(u => u.Touchpoint).ToList();
    }

    public void KeepUnmatched(Touchpoint touchpoint, IReadOnlyList<string> identifierKeys)
    {
        if (!_unmatched.TryGetValue(touchpoint.SiteId, out var list))
        {
            _unmatched[touchpoint.SiteId] = list = [];
        }
        if (list.Any(u => u.Touchpoint.EventId == touchpoint.EventId))
        {
            return; // the same event sent again
        }
        var horizon = touchpoint.ReceivedTs - _retention;
        list.RemoveAll(u => u.Touchpoint.DerivedTs < horizon);
        while (list.Count >= maxUnmatchedPerSite)
        {
            list.RemoveAt(0);
        }
        list.Add(new UnmatchedTouch(touchpoint, [.. identifierKeys]));
        Changed = true;
    }

    /// <summary>True once anything changed since <see cref="Changed"/> was last reset by the host.</summary>
    public bool Changed { get; set; }

    /// <summary>The unmatched touches of a site, oldest first.</summary>
    public IReadOnlyList<UnmatchedTouch> Unmatched(string site) => _unmatched.TryGetValue(site, out var l) ? l : [];

    public int UnmatchedCount => _unmatched.Values.Sum(l => l.Count);
    public int PersonCount => _persons.Count;

    /// <summary>Everything, for the host's state file.</summary>
    public IdentitySnapshot Snapshot() => new()
    {
        Persons = _persons.Select(kv => new SnapshotPerson { Site = kv.Key.Site, Person = kv.Value }).ToList(),
        Index = _index.OrderBy(kv => kv.Value.Order).Select(kv => new SnapshotIndexEntry { Site = kv.Key.Site, Key = kv.Key.Key, Target = kv.Value.Target }).ToList(),
        Unmatched = _unmatched.Values.SelectMany(l => l).Select(u => new SnapshotUnmatched { Touchpoint = u.Touchpoint, Keys = [.. u.Keys] }).ToList(),
    };

    public void Restore(IdentitySnapshot snapshot)
    {
        foreach (var p in snapshot.Persons.OrderByDescending(p => p.Person.Journey.LastSeen).Take(maxPersons))
        {
            _persons[(p.Site, p.Person.PersonId)] = p.Person;
        }
        foreach (var e in snapshot.Index.TakeLast(maxIndexEntries))
        {
            _index[(e.Site, e.Key)] = (e.Target, ++_order);
        }
        foreach (var u in snapshot.Unmatched)
        {
            if (!_unmatched.TryGetValue(u.Touchpoint.SiteId, out var list))
            {
                _unmatched[u.Touchpoint.SiteId] = list = [];
            }
            if (list.Count < maxUnmatchedPerSite)
            {
                list.Add(new UnmatchedTouch(u.Touchpoint, [.. u.Keys]));
            }
        }
    }
}

/// <summary>An offline touch that matched nobody yet, and the identifier keys that can match it.</summary>
public sealed record UnmatchedTouch(Touchpoint Touchpoint, IReadOnlyList<string> Keys);

public sealed class IdentitySnapshot
{
    [System.Text.Json.Serialization.JsonPropertyName("persons")] public List<SnapshotPerson> Persons { get; set; } = [];
    [System.Text.Json.Serialization.JsonPropertyName("index")] public List<SnapshotIndexEntry> Index { get; set; } = [];
    [System.Text.Json.Serialization.JsonPropertyName("unmatched")] public List<SnapshotUnmatched> Unmatched { get; set; } = [];
}

public sealed class SnapshotPerson
{
    [System.Text.Json.Serialization.JsonPropertyName("s")] public string Site { get; set; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("p")] public PersonState Person { get; set; } = new();
}

public sealed class SnapshotIndexEntry
{
    [System.Text.Json.Serialization.JsonPropertyName("s")] public string Site { get; set; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("k")] public string Key { get; set; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("t")] public string Target { get; set; } = "";
}

public sealed class SnapshotUnmatched
{
    [System.Text.Json.Serialization.JsonPropertyName("tp")] public Touchpoint Touchpoint { get; set; } = new();
    [System.Text.Json.Serialization.JsonPropertyName("k")] public List<string> Keys { get; set; } = [];
}
