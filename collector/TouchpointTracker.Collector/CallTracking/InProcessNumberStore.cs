using System.Text;
using System.Text.Json;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// The embedded mode's assignments, in memory behind one lock, persisted as an append-only file of JSON lines
/// (one line per hold written or extended: <c>{"s":site,"p":pool,"n":number,"v":visitor,"ss":session,"f":from,"l":last}</c>)
/// so they survive a restart. At start-up the file is replayed (holds of pools no longer configured, and
/// holds older than the match window, are dropped) and rewritten; it is rewritten again whenever it holds four
/// times more lines than live holds. Ended holds are kept per number up to <see cref="MaxEndedPerNumber"/>.
/// </summary>
public sealed class InProcessNumberStore : INumberStore, IDisposable
{
    public const int MaxEndedPerNumber = 10_000;

    private static readonly byte[] Newline = "\n"u8.ToArray();
    private readonly object _gate = new();
    private readonly Dictionary<(string Site, string Pool), PoolState> _pools = [];
    private readonly string? _path;
    private FileStream? _log;
    private long _lines;

    private sealed class PoolState(NumberPool pool)
    {
        public NumberPool Pool = pool;
        public readonly Dictionary<string, Hold> Current = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> VisitorNumber = new(StringComparer.Ordinal);
        public readonly Dictionary<string, List<Hold>> Ended = new(StringComparer.Ordinal);
    }

    /// <param name="pools">The configured pools (holds of other pools in the file are dropped).</param>
    /// <param name="path">The file; null keeps everything in memory only.</param>
    public InProcessNumberStore(IEnumerable<NumberPool> pools, string? path, TimeProvider clock)
    {
        foreach (var pool in pools)
        {
            _pools[(pool.Site, pool.Name)] = new PoolState(pool);
        }
        _path = path is null ? null : Path.GetFullPath(path);
        if (_path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            Load(clock.GetUtcNow().ToUnixTimeMilliseconds());
        }
    }

    public string? FilePath => _path;

    public Task<NumberGiven> AssignAsync(NumberPool pool, string visitor, string session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var holdMs = (long)pool.Hold.TotalMilliseconds;
        lock (_gate)
        {
            var state = StateOf(pool);
            var a = AssignmentPolicy.Decide(pool.Numbers, n => state.Current.GetValueOrDefault(n), state.VisitorNumber.GetValueOrDefault(visitor), visitor, session, nowMs, holdMs);
            if (a.Ended is { } ended)
            {
                End(state, ended, nowMs);
            }
            state.Current[a.Number] = a.Hold;
            state.VisitorNumber[visitor] = a.Number;
            Write(pool, a.Hold);
            return Task.FromResult(new NumberGiven(a.Number, a.Kind, CountInUse(state, nowMs, holdMs)));
        }
    }

    public Task<Hold?> FindHolderAsync(NumberPool pool, string number, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (at < now - pool.MatchWindow)
        {
            return Task.FromResult<Hold?>(null);
        }
        lock (_gate)
        {
            var state = StateOf(pool);
            var holds = state.Ended.GetValueOrDefault(number) ?? [];
            IEnumerable<Hold> all = state.Current.TryGetValue(number, out var current) ? holds.Append(current) : holds;
            return Task.FromResult(AssignmentPolicy.Match(all, at.ToUnixTimeMilliseconds(), (long)pool.Hold.TotalMilliseconds));
        }
    }

    public int? InUse(NumberPool pool, DateTimeOffset now)
    {
        lock (_gate)
        {
            return CountInUse(StateOf(pool), now.ToUnixTimeMilliseconds(), (long)pool.Hold.TotalMilliseconds);
        }
    }

    private PoolState StateOf(NumberPool pool)
    {
        if (!_pools.TryGetValue((pool.Site, pool.Name), out var state))
        {
            _pools[(pool.Site, pool.Name)] = state = new PoolState(pool);
        }
        return state;
    }

    private static int CountInUse(PoolState state, long nowMs, long holdMs) => state.Current.Values.Count(h => h.IsActive(nowMs, holdMs));

    /// <summary>Moves an ended hold to its number's log, dropping what the match window no longer needs.</summary>
    private static void End(PoolState state, Hold ended, long nowMs)
    {
        if (state.VisitorNumber.GetValueOrDefault(ended.Visitor) == ended.Number)
        {
            state.VisitorNumber.Remove(ended.Visitor);
        }
        if (!state.Ended.TryGetValue(ended.Number, out var list))
        {
            state.Ended[ended.Number] = list = [];
        }
        list.Add(ended);
        var horizon = nowMs - (long)state.Pool.MatchWindow.TotalMilliseconds - (long)state.Pool.Hold.TotalMilliseconds;
        var stale = 0;
        while (stale < list.Count && list[stale].LastMs < horizon)
        {
            stale++;
        }
        var over = Math.Max(stale, list.Count - MaxEndedPerNumber);
        if (over > 0)
        {
            list.RemoveRange(0, over);
        }
    }

    // ---- persistence ----

    private void Write(NumberPool pool, Hold hold)
    {
        if (_path is null)
        {
            return;
        }
        var log = _log ??= new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 14);
        WriteLine(log, pool.Site, pool.Name, hold);
        // To the operating system at once: a killed process loses nothing; a power cut may lose the last writes.
        log.Flush();
        _lines++;
        // Counting the live holds walks every pool: do it once per 1,024 writes, not per assignment.
        if (_lines % 1024 == 0 && _lines > 4L * Math.Max(_pools.Values.Sum(p => p.Current.Count + p.Ended.Values.Sum(l => l.Count)), 1024))
        {
            Rewrite();
        }
    }

    private void Load(long nowMs)
    {
        if (File.Exists(_path))
        {
            foreach (var line in File.ReadLines(_path!, Encoding.UTF8))
            {
                if (Parse(line) is not { } entry || !_pools.TryGetValue((entry.Site, entry.Pool), out var state) || !state.Pool.Numbers.Contains(entry.Hold.Number))
                {
                    continue;
                }
                var hold = entry.Hold;
                if (state.Current.TryGetValue(hold.Number, out var current))
                {
                    if (current.FromMs == hold.FromMs && current.Visitor == hold.Visitor)
                    {
                        state.Current[hold.Number] = hold; // extended
                        continue;
                    }
                    if (hold.FromMs < current.FromMs)
                    {
                        continue;
                    }
                    End(state, current, nowMs);
                }
                state.Current[hold.Number] = hold;
                state.VisitorNumber[hold.Visitor] = hold.Number;
            }
        }
        Rewrite();
    }

    private void Rewrite()
    {
        _log?.Dispose();
        _log = null;
        var temp = _path + ".tmp";
        long lines = 0;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            foreach (var state in _pools.Values)
            {
                foreach (var hold in state.Ended.Values.SelectMany(l => l).Concat(state.Current.Values).OrderBy(h => h.FromMs))
                {
                    WriteLine(file, state.Pool.Site, state.Pool.Name, hold);
                    lines++;
                }
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _path!, overwrite: true);
        _lines = lines;
    }

    private static void WriteLine(Stream stream, string site, string pool, Hold hold)
    {
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("s", site);
            json.WriteString("p", pool);
            json.WriteString("n", hold.Number);
            json.WriteString("v", hold.Visitor);
            json.WriteString("ss", hold.Session);
            json.WriteNumber("f", hold.FromMs);
            json.WriteNumber("l", hold.LastMs);
            json.WriteEndObject();
        }
        stream.Write(Newline);
    }

    private static (string Site, string Pool, Hold Hold)? Parse(string line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var (site, pool, number, visitor, session) = (r.GetProperty("s").GetString(), r.GetProperty("p").GetString(),
                r.GetProperty("n").GetString(), r.GetProperty("v").GetString(), r.GetProperty("ss").GetString());
            return site is null || pool is null || number is null || visitor is null || session is null
                ? null
                : (site, pool, new Hold(number, visitor, session, r.GetProperty("f").GetInt64(), r.GetProperty("l").GetInt64()));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null; // a line cut by a crash
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
        }
    }
}
