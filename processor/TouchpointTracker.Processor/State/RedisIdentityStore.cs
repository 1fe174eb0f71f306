using System.Text.Json;
using StackExchange.Redis;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Processor.Staging;

namespace TouchpointTracker.Processor.State;

/// <summary>
/// Identity state in Redis, beside the journey states, every key holding hashes and ids only (never a clear
/// identifier):
/// <list type="bullet">
/// <item><c>{prefix}:{site}:p:{person}</c>, a hash: <c>state</c> (the PersonState JSON: hashed user id, visitor
/// ids, hashed e-mails/phones, the person's journey) and <c>ver</c> (bumped by every save); TTL as a visitor's
/// journey state, from the person's last touch;</item>
/// <item><c>{prefix}:{site}:i:{kind}:{sha256}</c>, a string: what an identifier points to (<c>p:person</c> or
/// <c>v:visitor</c>), TTL the same retention;</item>
/// <item><c>{prefix}:{site}:u:ev</c> (hash event id → touch JSON), <c>{prefix}:{site}:u:at</c> (sorted set of event
/// ids by time), <c>{prefix}:{site}:u:k:{kind}:{sha256}</c> (set of event ids): the unmatched offline events,
/// at most <c>Identity:MaxUnmatchedPerSite</c> per site (the oldest dropped), each kept <c>Identity:UnmatchedDays</c>.</item>
/// </list>
/// The site is the hash tag (<c>{site}</c>), so on Redis Cluster one site's keys share a slot and the scripts are atomic.
/// Persons are not partitioned like the input (two visitors of one person may sit on two partitions), so a person's
/// save is not fenced by a partition epoch: it is last-writer-wins with a version check, and a save that finds
/// another version than it loaded is counted (<c>tt_identity_conflicts_total</c>). docs/identity.md explains the limit.
/// </summary>
public sealed class RedisIdentityStore : TouchpointTracker.Analytics.IUnmatchedEvents
{
    // KEYS: person  ARGV: expected version, state, ttl ms. Returns 1 when the stored version was the expected one.
    private const string SavePersonScript = """
        local ver = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
        redis.call('HSET', KEYS[1], 'state', ARGV[2], 'ver', ver + 1)
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        if ver == tonumber(ARGV[1]) then return 1 end
        return 0
        """;

    // KEYS: ev, at, key sets...  ARGV: event id, json, score ms, ttl ms, max per site, horizon ms
    private const string KeepScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        for i = 3, #KEYS do
          redis.call('SADD', KEYS[i], ARGV[1])
          redis.call('PEXPIRE', KEYS[i], ARGV[4])
        end
        local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
        local over = redis.call('ZCARD', KEYS[2]) - #old - tonumber(ARGV[5])
        if over > 0 then
          local more = redis.call('ZRANGE', KEYS[2], #old, #old + over - 1)
          for _, id in ipairs(more) do table.insert(old, id) end
        end
        for _, id in ipairs(old) do
          redis.call('HDEL', KEYS[1], id)
          redis.call('ZREM', KEYS[2], id)
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        return #old
        """;

    // KEYS: ev, at, key set  Removes the set's events.
    private const string TakeScript = """
        local ids = redis.call('SMEMBERS', KEYS[3])
        for _, id in ipairs(ids) do
          redis.call('HDEL', KEYS[1], id)
          redis.call('ZREM', KEYS[2], id)
        end
        redis.call('DEL', KEYS[3])
        return #ids
        """;

    private static readonly TimeSpan MinTtl = TimeSpan.FromHours(1);
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _unmatchedRetention;
    private readonly int _maxUnmatched;
    private readonly TimeProvider _clock;

    public RedisIdentityStore(IConnectionMultiplexer redis, string keyPrefix, TimeSpan retention, IdentityOptions options, TimeProvider clock)
    {
        _db = redis.GetDatabase();
        _prefix = keyPrefix;
        _retention = retention;
        _unmatchedRetention = TimeSpan.FromDays(options.UnmatchedDays);
        _maxUnmatched = options.MaxUnmatchedPerSite;
        _clock = clock;
    }

    private string Site(string site) => $"{_prefix}:{{{site}}}";
    public RedisKey PersonKey(string site, string person) => $"{Site(site)}:p:{person}";
    private RedisKey IndexKey(string site, string key) => $"{Site(site)}:i:{key}";
    private RedisKey EventsKey(string site) => $"{Site(site)}:u:ev";
    private RedisKey TimesKey(string site) => $"{Site(site)}:u:at";
    private RedisKey WaitingKey(string site, string key) => $"{Site(site)}:u:k:{key}";

    /// <summary>
    /// Loads what staging <paramref name="records"/> needs: the persons their visitors are linked to or their user ids
    /// name, what their identifiers point to (and those persons), and the unmatched events waiting for them.
    /// </summary>
    public async Task LoadAsync(IReadOnlyList<ParsedRecord> records, Dictionary<string, JourneyState?> visitors, BatchIdentity into, IdentityStager stager)
    {
        var persons = new HashSet<(string Site, string Person)>();
        var keys = new HashSet<(string Site, string Key)>();
        foreach (var r in records)
        {
            if (r.Touchpoint is not { } tp)
            {
                continue;
            }
            if (visitors.GetValueOrDefault(r.Key!) is { PersonId: { } linked })
            {
                persons.Add((tp.SiteId, linked));
            }
            if (stager.PersonNamedBy(tp) is { } named)
            {
                persons.Add((tp.SiteId, named));
            }
            foreach (var key in IdentityStager.KeysOf(tp))
            {
                if (!into.Targets.ContainsKey(tp.SiteId + ":" + key))
                {
                    keys.Add((tp.SiteId, key));
                }
            }
        }
        var targets = keys.Select(k => (k, _db.StringGetAsync(IndexKey(k.Site, k.Key)))).ToList();
        var waiting = keys.Select(k => (k, _db.SetMembersAsync(WaitingKey(k.Site, k.Key)))).ToList();
        foreach (var ((site, key), task) in targets)
        {
            var target = (string?)await task;
            into.Targets[site + ":" + key] = target;
            if (target is not null && target.StartsWith("p:", StringComparison.Ordinal))
            {
                persons.Add((site, target[2..]));
            }
            if (key.StartsWith("u:", StringComparison.Ordinal) && !stager.Resolver.Policy.IsJunkHash(key[2..]))
            {
                persons.Add((site, IdentityResolver.PersonIdFor(site, key[2..])));
            }
        }
        persons.RemoveWhere(p => into.Persons.ContainsKey(p.Site + ":" + p.Person));
        var loads = persons.Select(p => (p, _db.HashGetAsync(PersonKey(p.Site, p.Person), ["state", "ver"]))).ToList();
        var events = new List<((string Site, string Key) K, Task<RedisValue[]> Values)>();
        foreach (var ((site, key), task) in waiting)
        {
            var ids = await task;
            if (ids.Length > 0)
            {
                events.Add(((site, key), _db.HashGetAsync(EventsKey(site), ids)));
            }
        }
        foreach (var ((site, person), task) in loads)
        {
            var values = await task;
            if (!values[0].IsNull && JsonSerializer.Deserialize((byte[])values[0]!, JourneysJsonContext.Default.PersonState) is { } state)
            {
                into.Persons[site + ":" + person] = (state, (long)values[1]);
            }
        }
        foreach (var ((site, key), task) in events)
        {
            var list = new List<Touchpoint>();
            foreach (var value in await task)
            {
                if (!value.IsNull && JsonSerializer.Deserialize((byte[])value!, ContractsJsonContext.Default.Touchpoint) is { } tp)
                {
                    list.Add(tp);
                }
            }
            into.Waiting[site + ":" + key] = list;
        }
    }

    /// <summary>Saves what the batch changed; returns how many persons had been saved by someone else since they were loaded.</summary>
    public async Task<int> SaveAsync(BatchIdentity identity)
    {
        var now = _clock.GetUtcNow();
        var tasks = new List<Task<RedisResult>>();
        foreach (var key in identity.ChangedPersons)
        {
            var (person, version) = identity.Persons[key];
            var site = key[..key.LastIndexOf(":p_", StringComparison.Ordinal)];
            var ttl = person.Journey.LastSeen + _retention - now;
            tasks.Add(_db.ScriptEvaluateAsync(SavePersonScript, [PersonKey(site, person.PersonId)],
                [version, JsonSerializer.SerializeToUtf8Bytes(person, JourneysJsonContext.Default.PersonState), (long)(ttl > MinTtl ? ttl : MinTtl).TotalMilliseconds]));
        }
        var writes = new List<Task>();
        foreach (var (site, key, target) in identity.Learnt.Values)
        {
            writes.Add(_db.StringSetAsync(IndexKey(site, key), target, _retention > MinTtl ? _retention : MinTtl));
        }
        foreach (var (site, key) in identity.Taken)
        {
            writes.Add(_db.ScriptEvaluateAsync(TakeScript, [EventsKey(site), TimesKey(site), WaitingKey(site, key)]));
        }
        foreach (var (tp, keys) in identity.Kept)
        {
            var site = tp.SiteId;
            var redisKeys = new List<RedisKey> { EventsKey(site), TimesKey(site) };
            redisKeys.AddRange(keys.Select(k => WaitingKey(site, k)));
            var horizon = now - _unmatchedRetention;
            writes.Add(_db.ScriptEvaluateAsync(KeepScript, [.. redisKeys],
            [
                tp.EventId, JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint), tp.DerivedTs.ToUnixTimeMilliseconds(),
                (long)_unmatchedRetention.TotalMilliseconds, _maxUnmatched, horizon.ToUnixTimeMilliseconds(),
            ]));
        }
        var conflicts = 0;
        foreach (var t in tasks)
        {
            if ((long)await t == 0)
            {
                conflicts++;
            }
        }
        await Task.WhenAll(writes);
        return conflicts;
    }

    public async Task<TouchpointTracker.Analytics.UnmatchedResult> ListAsync(string site, int limit, CancellationToken ct)
    {
        var (total, events) = await UnmatchedAsync(site, limit);
        return new TouchpointTracker.Analytics.UnmatchedResult(site, total, [.. events.Select(TouchpointTracker.Analytics.UnmatchedEvents.Describe)]);
    }

    /// <summary>The unmatched events of a site, newest first (at most <paramref name="limit"/>), and how many there are.</summary>
    public async Task<(long Total, List<Touchpoint> Events)> UnmatchedAsync(string site, int limit)
    {
        var total = await _db.SortedSetLengthAsync(TimesKey(site));
        var ids = await _db.SortedSetRangeByRankAsync(TimesKey(site), 0, limit - 1, Order.Descending);
        var list = new List<Touchpoint>(ids.Length);
        if (ids.Length > 0)
        {
            foreach (var value in await _db.HashGetAsync(EventsKey(site), ids))
            {
                if (!value.IsNull && JsonSerializer.Deserialize((byte[])value!, ContractsJsonContext.Default.Touchpoint) is { } tp)
                {
                    list.Add(tp);
                }
            }
        }
        return (total, list);
    }
}
