using StackExchange.Redis;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Processor.State;

/// <summary>
/// Journey state in Redis: one hash per visitor (<c>state</c> = the encoded JourneyState, <see cref="JourneyStateCodec"/>;
/// a state stored as JSON by an earlier version is read and rewritten encoded at its next save; <c>stage</c> for a
/// quick look with HGETALL) with a TTL of the inactivity window past the visitor's last touch, plus two
/// keys per input partition: <c>owner</c> (the fencing epoch) and <c>applied</c> (last input offset whose
/// effects are stored). Every key of a partition carries the same hash tag
/// (<c>tt:journey:{group|topic|partition}:...</c>), so on Redis Cluster one partition's keys share a slot and
/// its save runs as one atomic script.
/// </summary>
public sealed class RedisJourneyStateStore : IJourneyStateStore
{
    private const string ClaimScript = """
        local epoch = redis.call('INCR', KEYS[1])
        local applied = redis.call('GET', KEYS[2])
        if applied then return {epoch, applied} end
        return {epoch}
        """;

    // KEYS: owner, applied, visitor keys...  ARGV: epoch, applied offset, then state, stage, ttl ms per visitor.
    private const string SaveScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        for i = 3, #KEYS do
          local a = 3 + (i - 3) * 3
          redis.call('HSET', KEYS[i], 'state', ARGV[a], 'stage', ARGV[a + 1])
          redis.call('PEXPIRE', KEYS[i], ARGV[a + 2])
        end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    private static readonly RedisValue StateField = "state";
    private static readonly TimeSpan MinTtl = TimeSpan.FromHours(1);

    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly string _group;
    private readonly string _topic;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _clock;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _prefixes = new();

    /// <param name="retention">How long a visitor's state is kept after their last touch (event time).</param>
    public RedisJourneyStateStore(IConnectionMultiplexer redis, string keyPrefix, string group, string topic, TimeSpan retention, TimeProvider clock)
    {
        _db = redis.GetDatabase();
        _prefix = keyPrefix;
        _group = group;
        _topic = topic;
        _retention = retention;
        _clock = clock;
    }

    /// <summary>The key prefix shared by one partition's keys, hash tag included.</summary>
    public string PartitionPrefix(int partition)
    {
        if (!_prefixes.TryGetValue(partition, out var prefix))
        {
            prefix = $"{_prefix}:{{{_group}|{_topic}|{partition}}}";
            _prefixes[partition] = prefix;
        }
        return prefix;
    }

    public RedisKey VisitorKey(int partition, string visitorKey) => string.Concat(PartitionPrefix(partition), ":v:", visitorKey);

    public async Task<PartitionClaim> ClaimAsync(int partition, CancellationToken ct)
    {
        var p = PartitionPrefix(partition);
        var result = await _db.ScriptEvaluateAsync(ClaimScript, [p + ":owner", p + ":applied"]);
        var parts = (RedisResult[])result!;
        var epoch = (long)parts[0];
        long? applied = parts.Length > 1 ? long.Parse((string)parts[1]!, System.Globalization.CultureInfo.InvariantCulture) : null;
        return new PartitionClaim(partition, epoch, applied);
    }

    public async Task LoadAsync(PartitionClaim claim, IReadOnlyCollection<string> keys, Dictionary<string, JourneyState?> into, CancellationToken ct)
    {
        var pending = new List<(string Key, Task<RedisValue> Value)>(keys.Count);
        foreach (var key in keys)
        {
            pending.Add((key, _db.HashGetAsync(VisitorKey(claim.Partition, key), StateField)));
        }
        foreach (var (key, task) in pending)
        {
            var value = await task;
            into[key] = value.IsNull ? null : JourneyStateCodec.Decode((byte[])value!);
        }
    }

    public async Task<bool> SaveAsync(PartitionClaim claim, long appliedOffset, IReadOnlyDictionary<string, JourneyState> states, CancellationToken ct)
    {
        var p = PartitionPrefix(claim.Partition);
        var keys = new RedisKey[2 + states.Count];
        var args = new RedisValue[2 + states.Count * 3];
        keys[0] = p + ":owner";
        keys[1] = p + ":applied";
        args[0] = claim.Epoch;
        args[1] = appliedOffset;
        var now = _clock.GetUtcNow();
        var i = 0;
        foreach (var (key, state) in states)
        {
            keys[2 + i] = VisitorKey(claim.Partition, key);
            args[2 + i * 3] = JourneyStateCodec.Encode(state);
            args[3 + i * 3] = state.Stage;
            var ttl = state.LastSeen + _retention - now;
            args[4 + i * 3] = (long)(ttl > MinTtl ? ttl : MinTtl).TotalMilliseconds;
            i++;
        }
        var result = await _db.ScriptEvaluateAsync(SaveScript, keys, args);
        return (long)result == 1;
    }
}
