using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// Which shard stream a visitor's touchpoints go to, and the Redis keys of each shard. Every key of a
/// shard carries the hash tag <c>{sN}</c>, so under Redis Cluster a shard's stream, dead letters and
/// lease live in one slot (multi-key transactions work) while shards spread over the cluster.
/// </summary>
public sealed class RedisShardMap
{
    /// <summary>The one field of a buffered entry: the touchpoint as JSON.</summary>
    public const string PayloadField = "tp";

    private readonly RedisKey[] _streams;
    private readonly RedisKey[][] _streamKeyArrays;
    private readonly RedisKey[] _deadLetters;
    private readonly RedisKey[] _leases;

    public RedisShardMap(IOptions<RedisOptions> options) : this(options.Value.KeyPrefix, options.Value.Shards)
    {
    }

    public RedisShardMap(string prefix, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        Prefix = prefix;
        Count = shards;
        _streams = new RedisKey[shards];
        _streamKeyArrays = new RedisKey[shards][];
        _deadLetters = new RedisKey[shards];
        _leases = new RedisKey[shards];
        for (var i = 0; i < shards; i++)
        {
            _streams[i] = StreamKey(prefix, i);
            _streamKeyArrays[i] = [_streams[i]];
            _deadLetters[i] = $"{prefix}:{{s{i}}}:dead";
            _leases[i] = $"{prefix}:{{s{i}}}:lease";
        }
        Members = $"{prefix}:forwarders";
    }

    public string Prefix { get; }
    public int Count { get; }

    /// <summary>Sorted set of live forwarders (score: last heartbeat, Unix ms), used to share shards fairly.</summary>
    public RedisKey Members { get; }

    public RedisKey Stream(int shard) => _streams[shard];
    /// <summary>A cached one-element key array for scripts (never modified).</summary>
    internal RedisKey[] StreamKeys(int shard) => _streamKeyArrays[shard];
    public RedisKey DeadLetter(int shard) => _deadLetters[shard];
    public RedisKey Lease(int shard) => _leases[shard];

    public static string StreamKey(string prefix, int shard) => $"{prefix}:{{s{shard}}}:events";

    /// <summary>
    /// The shard of a visitor: FNV-1a over the UTF-16 code units of <c>site:visitor</c>, modulo the
    /// shard count. Stable across processes, machines and restarts (unlike <see cref="string.GetHashCode()"/>).
    /// </summary>
    public static int ShardOf(string site, string visitor, int shards)
    {
        const uint offset = 2166136261;
        const uint prime = 16777619;
        var h = offset;
        foreach (var c in site)
        {
            h = (h ^ c) * prime;
        }
        h = (h ^ ':') * prime;
        foreach (var c in visitor)
        {
            h = (h ^ c) * prime;
        }
        return (int)(h % (uint)shards);
    }

    public int ShardOf(string site, string visitor) => ShardOf(site, visitor, Count);
}
