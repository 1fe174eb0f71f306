using TouchpointTracker.Journeys;

namespace TouchpointTracker.Processor.State;

/// <summary>
/// This instance's hold on one input partition's journey state: an owner epoch (a fencing token, bumped by
/// every new claim) and the offset of the last input message whose effects the stored state includes.
/// </summary>
public sealed record PartitionClaim(int Partition, long Epoch, long? AppliedOffset);

/// <summary>
/// Where journey state lives, partitioned like the input topic: Redis in production, memory in
/// benchmarks and unit tests. A save is atomic per partition and refused once another instance claimed
/// the partition (a newer epoch), so a paused instance that lost its partitions cannot overwrite state.
/// </summary>
public interface IJourneyStateStore
{
    /// <summary>Takes the partition over (new epoch) and tells how far its stored state goes.</summary>
    Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct);

    /// <summary>Loads the state of each key (site:visitor); a key without state gets null.</summary>
    Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct);

    /// <summary>
    /// Saves the states and the applied offset in one atomic step. Returns false, saving nothing, when the
    /// claim is no longer current (another instance took the partition).
    /// </summary>
    Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct);

    /// <summary>The partition was revoked, lost or given up: forget anything held in process for it.</summary>
    void Release(int partition)
    {
    }
}
