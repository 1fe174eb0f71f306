using System.Text.Json;
using TouchpointTracker.Journeys;
using TouchpointTracker.Processor.State;

namespace TouchpointTracker.Processor.Benchmarks;

/// <summary>The former state format, for comparison: states as JSON, the same claim/save semantics.</summary>
public sealed class JsonInMemoryStore : IJourneyStateStore
{
    private readonly Dictionary<(int, string), byte[]> _states = [];
    private readonly Dictionary<int, long> _epochs = [];

    public int Count => _states.Count;
    public long Bytes => _states.Values.Sum(v => (long)v.Length);

    public Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct)
    {
        _epochs[partition] = _epochs.GetValueOrDefault(partition) + 1;
        return Task.FromResult(new PartitionClaim(partition, _epochs[partition], null));
    }

    public Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct)
    {
        foreach (var key in keys)
        {
            into[key] = _states.TryGetValue((claim.Partition, key), out var bytes) ? JsonSerializer.Deserialize(bytes, JourneysJsonContext.Default.JourneyState) : null;
        }
        return Task.CompletedTask;
    }

    public Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct)
    {
        if (_epochs.GetValueOrDefault(claim.Partition) != claim.Epoch)
        {
            return Task.FromResult(false);
        }
        foreach (var (key, state) in states)
        {
            _states[(claim.Partition, key)] = JsonSerializer.SerializeToUtf8Bytes(state, JourneysJsonContext.Default.JourneyState);
        }
        return Task.FromResult(true);
    }
}
