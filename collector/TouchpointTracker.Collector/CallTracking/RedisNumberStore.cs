using System.Globalization;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// The distributed mode's assignments, shared by every collector: per pool, a hash of the current hold of each
/// number (<c>{prefix}:{ct:site:pool}:holds</c>, value <c>visitor\tsession\tfrom\tlast</c>), a hash of each
/// visitor's number (<c>...:visitors</c>), and the log of ended holds, a sorted set scored by the hold's start
/// (<c>...:log</c>, member <c>number\tvisitor\tsession\tfrom\tlast</c>) trimmed to the match window and to
/// <see cref="MaxLogPerPool"/> entries. One script per assignment (atomic, one round trip) follows
/// <see cref="AssignmentPolicy.Decide"/> step for step; the pool's keys share a hash tag, so under Redis Cluster
/// they sit in one slot. Keys expire when a pool goes unused for its match window and a day.
/// </summary>
public sealed class RedisNumberStore(RedisConnections connections, RedisOptions options) : INumberStore
{
    public const int MaxLogPerPool = 50_000;

    /// <summary>Ended holds a match looks at, newest first, before giving up.</summary>
    public const int MatchScanLimit = 10_000;

    private const string AssignScript = """
        local visitor, session = ARGV[1], ARGV[2]
        local now, hold = tonumber(ARGV[3]), tonumber(ARGV[4])
        local function int(x) return string.format('%.0f', x) end
        local numbers = {}
        for i = 8, #ARGV do numbers[#numbers + 1] = ARGV[i] end
        local raw = redis.call('HMGET', KEYS[1], unpack(numbers))
        local holds = {}
        for i = 1, #numbers do
          if raw[i] then
            local v, s, f, l = string.match(raw[i], '^([^\t]*)\t([^\t]*)\t(%d+)\t(%d+)$')
            if v then holds[i] = { v = v, s = s, f = tonumber(f), l = tonumber(l) } end
          end
        end
        local function put(i)
          local h = holds[i]
          redis.call('HSET', KEYS[1], numbers[i], h.v .. '\t' .. h.s .. '\t' .. int(h.f) .. '\t' .. int(h.l))
        end
        local function inuse()
          local n = 0
          for i = 1, #numbers do if holds[i] and holds[i].l + hold >= now then n = n + 1 end end
          return n
        end
        local function touch() for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[7]) end end
        local mine = redis.call('HGET', KEYS[2], visitor)
        for i = 1, #numbers do
          if numbers[i] == mine then
            local h = holds[i]
            if h and h.v == visitor and h.l + hold >= now then
              h.s = session
              if now > h.l then h.l = now end
              put(i)
              touch()
              return { numbers[i], 'kept', inuse() }
            end
            break
          end
        end
        local free, freeSince, oldest, oldestLast = nil, nil, nil, nil
        for i = 1, #numbers do
          local h = holds[i]
          if not h or h.l + hold < now then
            if h and numbers[i] == mine and h.v == visitor then free = i break end
            local since = -1
            if h then since = h.l + hold end
            if not free or since < freeSince then free, freeSince = i, since end
          elseif not oldest or h.l < oldestLast then
            oldest, oldestLast = i, h.l
          end
        end
        local pick, kind = free, 'free'
        if not pick then pick, kind = oldest, 'reused' end
        local ended = holds[pick]
        local from = now
        if ended then
          if ended.f + 1 > from then from = ended.f + 1 end
          redis.call('ZADD', KEYS[3], int(ended.f), numbers[pick] .. '\t' .. ended.v .. '\t' .. ended.s .. '\t' .. int(ended.f) .. '\t' .. int(ended.l))
          if redis.call('HGET', KEYS[2], ended.v) == numbers[pick] then redis.call('HDEL', KEYS[2], ended.v) end
        end
        local last = now
        if from > last then last = from end
        holds[pick] = { v = visitor, s = session, f = from, l = last }
        put(pick)
        redis.call('HSET', KEYS[2], visitor, numbers[pick])
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
        local size = redis.call('ZCARD', KEYS[3])
        local max = tonumber(ARGV[6])
        if size > max then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, size - max - 1) end
        touch()
        return { numbers[pick], kind, inuse() }
        """;

    private const string MatchScript = """
        local at, hold = tonumber(ARGV[2]), tonumber(ARGV[3])
        local h = redis.call('HGET', KEYS[1], ARGV[1])
        if h then
          local v, s, f, l = string.match(h, '^([^\t]*)\t([^\t]*)\t(%d+)\t(%d+)$')
          if v and tonumber(f) <= at and at <= tonumber(l) + hold then return { v, s, f, l } end
        end
        local entries = redis.call('ZREVRANGEBYSCORE', KEYS[2], ARGV[2], '-inf', 'LIMIT', 0, tonumber(ARGV[4]))
        for _, e in ipairs(entries) do
          local n, v, s, f, l = string.match(e, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(%d+)\t(%d+)$')
          if n == ARGV[1] and at <= tonumber(l) + hold then return { v, s, f, l } end
        end
        return false
        """;

    private readonly TimeSpan _timeout = TimeSpan.FromMilliseconds(options.AppendTimeoutMs);

    /// <summary>The pool's keys: <c>{prefix}:{ct:site:pool}:holds</c>, <c>:visitors</c>, <c>:log</c>.</summary>
    public RedisKey[] KeysOf(NumberPool pool)
    {
        var root = $"{options.KeyPrefix}:{{ct:{pool.Site}:{pool.Name}}}:";
        return [root + "holds", root + "visitors", root + "log"];
    }

    public async Task<NumberGiven> AssignAsync(NumberPool pool, string visitor, string session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var holdMs = (long)pool.Hold.TotalMilliseconds;
        var windowMs = (long)pool.MatchWindow.TotalMilliseconds;
        var args = new RedisValue[7 + pool.Numbers.Count];
        args[0] = visitor;
        args[1] = session;
        args[2] = nowMs;
        args[3] = holdMs;
        args[4] = nowMs - windowMs - 86_400_000L; // ended holds that started before this cannot cover a call in the window
        args[5] = MaxLogPerPool;
        args[6] = windowMs + 86_400_000L;
        for (var i = 0; i < pool.Numbers.Count; i++)
        {
            args[7 + i] = pool.Numbers[i];
        }
        var result = (RedisResult[])(await RunAsync(AssignScript, KeysOf(pool), args, cancellationToken))!;
        var kind = (string?)result[1] switch
        {
            "kept" => AssignmentKind.Kept,
            "reused" => AssignmentKind.Reused,
            _ => AssignmentKind.Free,
        };
        return new NumberGiven((string)result[0]!, kind, (int)result[2]);
    }

    public async Task<Hold?> FindHolderAsync(NumberPool pool, string number, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (at < now - pool.MatchWindow)
        {
            return null;
        }
        var keys = KeysOf(pool);
        var result = await RunAsync(MatchScript, [keys[0], keys[2]],
            [number, at.ToUnixTimeMilliseconds(), (long)pool.Hold.TotalMilliseconds, MatchScanLimit], cancellationToken);
        if (result.IsNull || result.Resp2Type != ResultType.Array)
        {
            return null;
        }
        var parts = (RedisResult[])result!;
        return new Hold(number, (string)parts[0]!, (string)parts[1]!,
            long.Parse((string)parts[2]!, CultureInfo.InvariantCulture), long.Parse((string)parts[3]!, CultureInfo.InvariantCulture));
    }

    public int? InUse(NumberPool pool, DateTimeOffset now) => null;

    private async Task<RedisResult> RunAsync(string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct)
    {
        try
        {
            return await connections.Ingest.GetDatabase().ScriptEvaluateAsync(script, keys, args).WaitAsync(_timeout, ct);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new NumberStoreUnavailableException("Redis cannot be reached: " + ex.Message, ex);
        }
    }
}
