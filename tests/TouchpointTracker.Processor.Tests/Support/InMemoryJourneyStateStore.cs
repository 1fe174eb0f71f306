using System.Collections.Concurrent;
using TouchpointTracker.Journeys;
using TouchpointTracker.Processor.State;

namespace TouchpointTracker.Processor.Tests.Support;

/// <summary>
/// Journey state in process memory, with the same claim/save semantics as Redis. Not durable: for unit
/// tests and the benchmarks (engine cost without the network; tests/TouchpointTracker.Processor.Benchmarks
/// compiles this file too). States are stored encoded (JourneyStateCodec), as in Redis, so a loaded state is never
/// shared with the caller.
/// </summary>
public sealed class InMemoryJourneyStateStore : IJourneyStateStore
{
    private readonly ConcurrentDictionary<(int, string), byte[]> _states = new();
    private readonly ConcurrentDictionary<int, (long Epoch, long? Applied)> _partitions = new();

    public int Count => _states.Count;

    /// <summary>Bytes of serialised state, all visitors together.</summary>
    public long Bytes => _states.Values.Sum(v => (long)v.Length);

    /// <summary>Each visitor's stored bytes.</summary>
    public IEnumerable<byte[]> Values => _states.Values;

    public Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct)
    {
        var entry = _partitions.AddOrUpdate(partition, _ => (1, null), (_, e) => (e.Epoch + 1, e.Applied));
        return Task.FromResult(new PartitionClaim(partition, entry.Epoch, entry.Applied));
    }

    public Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct)
    {
        foreach (var key in keys)
        {
            into[key] = _states.TryGetValue((claim.Partition, key), out var bytes)
                ? JourneyStateCodec.Decode(bytes)
                : null;
        }
        return Task.CompletedTask;
    }

    public Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct)
    {
        lock (_partitions)
        {
            if (!_partitions.TryGetValue(claim.Partition, out var entry) || entry.Epoch != claim.Epoch)
            {
                return Task.FromResult(false);
            }
            foreach (var (key, state) in states)
            {
                _states[(claim.Partition, key)] = JourneyStateCodec.Encode(state);
            }
            _partitions[claim.Partition] = (entry.Epoch, appliedOffset);
            return Task.FromResult(true);
        }
    }
}
