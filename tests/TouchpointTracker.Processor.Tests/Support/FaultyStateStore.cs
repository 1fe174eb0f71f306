using TouchpointTracker.Journeys;
using TouchpointTracker.Processor.State;

namespace TouchpointTracker.Processor.Tests.Support;

/// <summary>
/// A state store that fails on chosen saves, after the batch's outputs and offsets are committed to Kafka
/// and before its state reaches Redis: the widest crash window of the design.
/// </summary>
public sealed class FaultyStateStore(IJourneyStateStore inner, params int[] failingSaves) : IJourneyStateStore
{
    private int _saves;
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct) => inner.ClaimAsync(partition, ct);

    public Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct) =>
        inner.LoadAsync(claim, keys, into, ct);

    public Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct)
    {
        var n = Interlocked.Increment(ref _saves);
        if (failingSaves.Contains(n))
        {
            Interlocked.Increment(ref _failed);
            throw new IOException($"injected failure on save {n} (partition {claim.Partition}, up to offset {appliedOffset})");
        }
        return inner.SaveAsync(claim, appliedOffset, states, ct);
    }
}
