using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Processor.Staging;

/// <summary>
/// The identity state one batch needs, loaded before staging (<see cref="State.RedisIdentityStore.LoadAsync"/>) and
/// changed in memory while the batch is staged; what changed is saved after the batch's outputs are committed.
/// Visitors' journey states come from the loaded states of the partition being staged (<see cref="Visitors"/>, keyed
/// <c>site:visitor</c>); persons, the index and unmatched events are shared by every partition of the batch, so two
/// visitors of one person staged in one batch see each other's touches.
/// </summary>
public sealed class BatchIdentity : IIdentityLookup
{
    public BatchIdentity(Dictionary<string, JourneyState?>? visitors = null) => Visitors = visitors ?? new(StringComparer.Ordinal);

    /// <summary>The journey states of the partition being staged.</summary>
    public Dictionary<string, JourneyState?> Visitors { get; set; }

    /// <summary>Persons by <c>site:person</c>, with the version they were loaded at (0 when new).</summary>
    public Dictionary<string, (PersonState Person, long Version)> Persons { get; } = new(StringComparer.Ordinal);
    /// <summary>Index entries by <c>site:key</c> (null: looked up and unknown).</summary>
    public Dictionary<string, string?> Targets { get; } = new(StringComparer.Ordinal);
    /// <summary>Unmatched touches waiting for an identifier, by <c>site:key</c>.</summary>
    public Dictionary<string, List<Touchpoint>> Waiting { get; } = new(StringComparer.Ordinal);

    public HashSet<string> ChangedPersons { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (string Site, string Key, string Target)> Learnt { get; } = new(StringComparer.Ordinal);
    public List<(string Site, string Key)> Taken { get; } = [];
    public List<(Touchpoint Touchpoint, IReadOnlyList<string> Keys)> Kept { get; } = [];
    public IdentityTally Tally { get; } = new();

    public JourneyState GetOrCreate(Touchpoint touchpoint)
    {
        var key = BatchStager.StateKey(touchpoint);
        if (!Visitors.TryGetValue(key, out var state) || state is null)
        {
            Visitors[key] = state = new JourneyState();
        }
        return state;
    }

    public PersonState? FindPerson(string site, string personId) =>
        Persons.TryGetValue(site + ":" + personId, out var p) ? p.Person : null;

    public void PersonChanged(string site, PersonState person)
    {
        var key = site + ":" + person.PersonId;
        if (!Persons.TryGetValue(key, out var known) || !ReferenceEquals(known.Person, person))
        {
            Persons[key] = (person, known.Version);
        }
        ChangedPersons.Add(key);
    }

    public string? FindTarget(string site, string identifierKey)
    {
        var key = site + ":" + identifierKey;
        return Learnt.TryGetValue(key, out var l) ? l.Target : Targets.GetValueOrDefault(key);
    }

    public void Learn(string site, string identifierKey, string target) =>
        Learnt[site + ":" + identifierKey] = (site, identifierKey, target);

    public IReadOnlyList<Touchpoint> TakeUnmatched(string site, string identifierKey)
    {
        var key = site + ":" + identifierKey;
        var found = new List<Touchpoint>();
        if (Waiting.Remove(key, out var loaded))
        {
            found.AddRange(loaded);
            Taken.Add((site, identifierKey));
        }
        // Kept earlier in this same batch.
        for (var i = Kept.Count - 1; i >= 0; i--)
        {
            if (Kept[i].Touchpoint.SiteId == site && Kept[i].Keys.Contains(identifierKey))
            {
                found.Add(Kept[i].Touchpoint);
                Kept.RemoveAt(i);
            }
        }
        // A touch waiting under several keys comes back once.
        return found.DistinctBy(t => t.EventId).ToList();
    }

    public void KeepUnmatched(Touchpoint touchpoint, IReadOnlyList<string> identifierKeys) => Kept.Add((touchpoint, identifierKeys));
}
