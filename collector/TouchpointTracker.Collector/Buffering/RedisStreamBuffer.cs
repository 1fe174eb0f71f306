using System.Diagnostics;
using System.Text.Json;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Contracts;
using TouchpointTracker.Messaging;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// The distributed mode's buffer: each touchpoint becomes one entry (field <c>tp</c>, the touchpoint JSON) of its
/// visitor's shard stream. Appends are committed in groups: while <see cref="RedisOptions.AppendCallsInFlight"/>
/// script calls are on their way to Redis, the batches of the requests that arrive meanwhile wait, and the next call
/// carries all of them (each batch still appended whole or not at all, and refused when its stream is at the
/// high-water mark). Fewer, larger calls under load keep Redis's share of a request small (its script overhead is
/// per call); below that load a batch goes at once. Only a confirmed append returns <see cref="AppendOutcome.Stored"/>, so a 2xx always
/// means the events are in Redis.
/// </summary>
public sealed class RedisStreamBuffer : IEventBuffer
{
    /// <summary>
    /// KEYS = shard streams; ARGV[1] = high-water mark; then per batch: the index of its stream in KEYS, its entry
    /// count, its entries (touchpoint JSON). Returns per batch the stream's new length, or -1 when the stream was at
    /// the mark (nothing of that batch appended). Batches are taken in order, so a refused batch never lets a later
    /// batch of the same stream overtake an earlier one.
    /// </summary>
    internal const string AppendScript = """
        local mark = tonumber(ARGV[1])
        local lengths = {}
        local results = {}
        local i = 2
        while i <= #ARGV do
          local k = tonumber(ARGV[i])
          local count = tonumber(ARGV[i + 1])
          local key = KEYS[k]
          local n = lengths[k] or redis.call('XLEN', key)
          i = i + 2
          if n >= mark then
            results[#results + 1] = -1
          else
            for j = i, i + count - 1 do redis.call('XADD', key, '*', 'tp', ARGV[j]) end
            n = n + count
            results[#results + 1] = n
          end
          lengths[k] = n
          i = i + count
        end
        return results
        """;

    private readonly RedisConnections _connections;
    private readonly RedisShardMap _shards;
    private readonly RedisValue _highWater;
    private readonly long _timeoutTicks;
    private readonly ILogger<RedisStreamBuffer> _logger;
    private readonly LogThrottle _throttle;
    private readonly Counter _calls;
    private readonly Counter _batches;
    private readonly Lock _gate = new();
    private readonly int _maxInFlight;
    private AppendGroup? _open;
    private int _inFlight;
    private bool? _cluster;

    public RedisStreamBuffer(RedisConnections connections, RedisShardMap shards, IOptions<RedisOptions> options, TimeProvider clock, MetricsRegistry metrics, ILogger<RedisStreamBuffer> logger)
    {
        _connections = connections;
        _shards = shards;
        _highWater = options.Value.HighWaterMark;
        _timeoutTicks = (long)(options.Value.AppendTimeoutMs * (Stopwatch.Frequency / 1000.0));
        _maxInFlight = options.Value.AppendCallsInFlight;
        _logger = logger;
        _throttle = new LogThrottle(TimeSpan.FromSeconds(10), clock);
        _calls = metrics.Counter("tt_buffer_append_calls_total", "Script calls that appended batches to the Redis buffer (each carries the batches of the requests that arrived while the previous call was on its way).");
        _batches = metrics.Counter("tt_buffer_append_batches_total", "Batches (the accepted events of one request, per shard) handed to the Redis buffer.");
    }

    public ValueTask<AppendOutcome> AppendAsync(IReadOnlyList<Touchpoint> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return new(AppendOutcome.Stored);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return new(AppendOutcome.Unavailable);
        }
        var first = _shards.ShardOf(batch[0].SiteId, batch[0].VisitorId);
        var single = true;
        for (var i = 1; i < batch.Count && single; i++)
        {
            single = _shards.ShardOf(batch[i].SiteId, batch[i].VisitorId) == first;
        }
        if (single)
        {
            // The usual case: a beacon carries one visitor's events.
            var entries = new ReadOnlyMemory<byte>[batch.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = Serialize(batch[i]);
            }
            return Commit(first, entries);
        }
        return new(AppendSpreadAsync(batch));
    }

    /// <summary>
    /// A batch spanning shards (not sent by the tag, possible from other clients): one part per shard. Atomic per
    /// shard only; a partly stored batch is answered 503 and its retry duplicates the stored part, which the
    /// pipeline tolerates (at-least-once).
    /// </summary>
    private async Task<AppendOutcome> AppendSpreadAsync(IReadOnlyList<Touchpoint> batch)
    {
        var groups = new Dictionary<int, List<ReadOnlyMemory<byte>>>();
        foreach (var tp in batch)
        {
            var shard = _shards.ShardOf(tp.SiteId, tp.VisitorId);
            if (!groups.TryGetValue(shard, out var list))
            {
                groups[shard] = list = [];
            }
            list.Add(Serialize(tp));
        }
        var parts = new Task<AppendOutcome>[groups.Count];
        var p = 0;
        foreach (var (shard, entries) in groups)
        {
            parts[p++] = Commit(shard, [.. entries]).AsTask();
        }
        var outcome = AppendOutcome.Stored;
        foreach (var o in await Task.WhenAll(parts))
        {
            if (o != AppendOutcome.Stored)
            {
                outcome = o;
            }
        }
        return outcome;
    }

    /// <summary>The entry in a pooled array, given back when Redis has answered the call that carried it (<see cref="AppendGroup.ReturnEntries"/>).</summary>
    private static ReadOnlyMemory<byte> Serialize(Touchpoint tp) => BufferEntryWriter.SerializePooled(tp);

    /// <summary>
    /// Joins the open group (sending it at once when fewer than the allowed calls are on their way). The request's
    /// outcome comes from its own <see cref="AppendWaiter"/>, set when Redis has answered the call that carried its
    /// batch (or the call failed): one small object per request, where two awaiting methods used to suspend.
    /// </summary>
    private ValueTask<AppendOutcome> Commit(int shard, ReadOnlyMemory<byte>[] entries)
    {
        var waiter = new AppendWaiter();
        AppendGroup group;
        var send = false;
        lock (_gate)
        {
            group = _open ??= new AppendGroup(Stopwatch.GetTimestamp());
            group.Add(shard, entries, waiter);
            if (_inFlight < _maxInFlight)
            {
                _inFlight++;
                _open = null;
                send = true;
            }
        }
        if (send)
        {
            _ = SendLoopAsync(group);
        }
        return new ValueTask<AppendOutcome>(waiter, 0);
    }

    /// <summary>Sends a group, then whatever group opened meanwhile, until none is left.</summary>
    private async Task SendLoopAsync(AppendGroup group)
    {
        while (true)
        {
            await SendAsync(group);
            lock (_gate)
            {
                group = _open!;
                _open = null;
                if (group is null)
                {
                    _inFlight--;
                    return;
                }
            }
        }
    }

    private async Task SendAsync(AppendGroup group)
    {
        Task<RedisResult>[]? sent = null;
        try
        {
            // The oldest request of the group has waited since the group opened: the timeout counts from there.
            var left = _timeoutTicks - (Stopwatch.GetTimestamp() - group.OpenedAt);
            if (left <= 0)
            {
                throw new TimeoutException("the append waited longer than Redis:AppendTimeoutMs for the previous call");
            }
            var db = _connections.Ingest.GetDatabase();
            _batches.Inc(by: group.Count);
            if (group.DistinctShards == 1 || !IsCluster(db))
            {
                _calls.Inc();
                sent = [Call(db, group, null)];
                var result = await sent[0].WaitAsync(TimeSpan.FromTicks(left * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                group.SetResults(result, null);
            }
            else
            {
                // Redis Cluster: a script may only touch one slot, so one call per shard, sent together.
                var shards = group.Shards();
                var calls = sent = new Task<RedisResult>[shards.Length];
                for (var s = 0; s < shards.Length; s++)
                {
                    calls[s] = Call(db, group, shards[s]);
                }
                _calls.Inc(by: calls.Length);
                var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromTicks(left * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                for (var s = 0; s < shards.Length; s++)
                {
                    group.SetResults(results[s], shards[s]);
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException or InvalidCastException)
        {
            group.Error = ex;
        }
        catch (Exception ex)
        {
            group.Error = ex;
            _logger.LogError(ex, "Unexpected error appending to the Redis buffer");
        }
        finally
        {
            if (Answered(sent))
            {
                // Redis has answered every call of the group, so the client wrote each entry in full before: the
                // pooled arrays can go back. After a timeout or a lost connection a call may still sit in the client's
                // queue and be written later, so those arrays are left to the garbage collector instead.
                group.ReturnEntries();
            }
            if (group.Error is { } error && _throttle.ShouldLog(out var suppressed))
            {
                _logger.LogWarning("Redis buffer unavailable, answering 503 to the {Count} requests of a call: {Error} ({Suppressed} similar since the last report)", group.Count, error.Message, suppressed);
            }
            group.Complete();
        }
    }

    private static bool Answered(Task<RedisResult>[]? calls)
    {
        if (calls is null)
        {
            return false;
        }
        foreach (var call in calls)
        {
            if (!(call.IsCompletedSuccessfully || call is { IsFaulted: true, Exception.InnerException: RedisServerException }))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>One script call with the group's batches (those of <paramref name="shard"/> only, when given).</summary>
    private Task<RedisResult> Call(IDatabase db, AppendGroup group, int? shard)
    {
        var keys = group.KeysFor(_shards, shard, out var entryCount, out var batchCount);
        var args = new RedisValue[1 + 2 * batchCount + entryCount];
        args[0] = _highWater;
        group.FillArgs(args, shard, keys);
        return db.ScriptEvaluateAsync(AppendScript, keys, args);
    }

    private bool IsCluster(IDatabase db)
    {
        if (_cluster is { } known)
        {
            return known;
        }
        var servers = db.Multiplexer.GetServers();
        if (servers.Length == 0 || !servers.Any(s => s.IsConnected))
        {
            return false; // not connected yet: the call fails anyway, decide on the next one
        }
        var cluster = servers.Any(s => s.ServerType == ServerType.Cluster);
        _cluster = cluster;
        return cluster;
    }

    /// <summary>The batches of the requests that arrived while the previous call was on its way.</summary>
    private sealed class AppendGroup(long openedAt)
    {
        private readonly List<int> _shardOf = new(4);
        private readonly List<ReadOnlyMemory<byte>[]> _entries = new(4);
        private readonly List<AppendWaiter> _waiters = new(4);
        private long[] _results = [];

        public long OpenedAt { get; } = openedAt;
        public int Count => _shardOf.Count;
        public int DistinctShards { get; private set; }
        public Exception? Error { get; set; }

        public void Add(int shard, ReadOnlyMemory<byte>[] entries, AppendWaiter waiter)
        {
            if (!_shardOf.Contains(shard))
            {
                DistinctShards++;
            }
            _shardOf.Add(shard);
            _entries.Add(entries);
            _waiters.Add(waiter);
        }

        public int[] Shards() => _shardOf.Distinct().ToArray();

        /// <summary>The stream keys the call touches, in order of first appearance.</summary>
        public RedisKey[] KeysFor(RedisShardMap map, int? only, out int entryCount, out int batchCount)
        {
            entryCount = 0;
            batchCount = 0;
            if (DistinctShards == 1 || only is not null)
            {
                var shard = only ?? _shardOf[0];
                for (var b = 0; b < _shardOf.Count; b++)
                {
                    if (_shardOf[b] == shard)
                    {
                        batchCount++;
                        entryCount += _entries[b].Length;
                    }
                }
                return map.StreamKeys(shard);
            }
            var keys = new RedisKey[DistinctShards];
            var seen = new List<int>(DistinctShards);
            for (var b = 0; b < _shardOf.Count; b++)
            {
                if (!seen.Contains(_shardOf[b]))
                {
                    keys[seen.Count] = map.Stream(_shardOf[b]);
                    seen.Add(_shardOf[b]);
                }
                batchCount++;
                entryCount += _entries[b].Length;
            }
            return keys;
        }

        public void FillArgs(RedisValue[] args, int? only, RedisKey[] keys)
        {
            var a = 1;
            var order = new List<int>(keys.Length);
            for (var b = 0; b < _shardOf.Count; b++)
            {
                var shard = _shardOf[b];
                if (only is { } o && shard != o)
                {
                    continue;
                }
                var k = order.IndexOf(shard);
                if (k < 0)
                {
                    order.Add(shard);
                    k = order.Count - 1;
                }
                args[a++] = k + 1; // Lua indexes from 1
                args[a++] = _entries[b].Length;
                foreach (var e in _entries[b])
                {
                    args[a++] = e;
                }
            }
        }

        /// <summary>Takes the script's per-batch lengths, in the order the batches were put in the call.</summary>
        public void SetResults(RedisResult result, int? only)
        {
            if (_results.Length == 0)
            {
                _results = new long[_shardOf.Count];
            }
            var values = (RedisResult[]?)result ?? throw new InvalidCastException("the append script returned no array");
            var r = 0;
            for (var b = 0; b < _shardOf.Count; b++)
            {
                if (only is { } o && _shardOf[b] != o)
                {
                    continue;
                }
                _results[b] = (long)values[r++];
            }
            if (r != values.Length)
            {
                throw new InvalidCastException($"the append script returned {values.Length} results for {r} batches");
            }
        }

        /// <summary>
        /// Answers every request of the group: <see cref="AppendOutcome.Stored"/> only for a batch the script reported
        /// appended, <see cref="AppendOutcome.Full"/> for one it refused at the mark, and
        /// <see cref="AppendOutcome.Unavailable"/> for every batch when the call failed, timed out or its reply did not
        /// account for every batch.
        /// </summary>
        public void Complete()
        {
            for (var b = 0; b < _waiters.Count; b++)
            {
                var outcome = Error is not null || _results.Length != _waiters.Count
                    ? AppendOutcome.Unavailable
                    : _results[b] < 0 ? AppendOutcome.Full : AppendOutcome.Stored;
                _waiters[b].SetResult(outcome);
            }
        }

        /// <summary>Gives the entries' pooled arrays back; only once Redis has answered every call that carried them.</summary>
        public void ReturnEntries()
        {
            foreach (var batch in _entries)
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    BufferEntryWriter.Return(batch[i]);
                    batch[i] = default;
                }
            }
        }
    }

    /// <summary>One request's wait for its batch's outcome; its continuation runs on the thread pool, never inline in the completing call.</summary>
    private sealed class AppendWaiter : IValueTaskSource<AppendOutcome>
    {
        private ManualResetValueTaskSourceCore<AppendOutcome> _core = new() { RunContinuationsAsynchronously = true };

        public void SetResult(AppendOutcome outcome) => _core.SetResult(outcome);

        public AppendOutcome GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
