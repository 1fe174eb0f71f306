using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// Where a host keeps identity state, as the staging step sees it: visitors' journey states (the base
/// interface), persons, the identifier index and the unmatched offline touches. Synchronous and in memory:
/// the embedded mode holds everything in memory, the Kafka processor loads what a batch needs before staging it
/// and saves what changed after (<see cref="IdentityStager.KeysOf"/> tells what to load).
/// </summary>
public interface IIdentityLookup : IJourneyStateLookup
{
    /// <summary>The person, or null when unknown (or not loaded: the host loads the persons a batch names).</summary>
    PersonState? FindPerson(string site, string personId);

    /// <summary>Keeps a new or changed person (saved with the batch).</summary>
    void PersonChanged(string site, PersonState person);

    /// <summary>What an identifier key (<c>e:&lt;sha256&gt;</c>...) points to: <c>p:&lt;person&gt;</c> or <c>v:&lt;visitor&gt;</c>; null when unknown.</summary>
    string? FindTarget(string site, string identifierKey);

    void Learn(string site, string identifierKey, string target);

    /// <summary>Takes (removes) the unmatched touches waiting for an identifier key.</summary>
    IReadOnlyList<Touchpoint> TakeUnmatched(string site, string identifierKey);

    /// <summary>Keeps a touch that matched nobody, findable by each of its identifier keys.</summary>
    void KeepUnmatched(Touchpoint touchpoint, IReadOnlyList<string> identifierKeys);
}
