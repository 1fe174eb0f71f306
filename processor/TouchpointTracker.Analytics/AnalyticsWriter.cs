using System.Diagnostics;
using System.Threading.Channels;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The single writer of the analytics store. Callers add staged touchpoints and stage transitions; a loop
/// of its own batches them in memory (bounded: <see cref="AnalyticsOptions.MaxBufferedRows"/>, then
/// <see cref="AddAsync(Touchpoint, CancellationToken)"/> waits) and commits every
/// <see cref="AnalyticsOptions.FlushIntervalMs"/> or <see cref="AnalyticsOptions.FlushRows"/> rows, whichever
/// comes first. A commit is durable (DuckDB syncs its write-ahead log on commit), so a SIGKILL loses only the
/// rows added since the last commit. Writing is idempotent on (site, event_id): a replayed touchpoint or
/// transition inserts nothing.
/// </summary>
public sealed class AnalyticsWriter : IAsyncDisposable
{
    private const int SessionCacheLimit = 200_000;

    /// <summary>TT_ANALYTICS_TRACE=1 prints each flush step's time to the console (benchmarks).</summary>
    private static readonly bool Trace = Environment.GetEnvironmentVariable("TT_ANALYTICS_TRACE") == "1";

    private readonly AnalyticsStore _store;
    private readonly AnalyticsOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<object> _input;
    private readonly Task _loop;
    private readonly Dictionary<string, TimeZoneInfo> _zones = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SessionSource> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _mapLock = new();
    private readonly List<TouchpointRow> _tps = [];
    private readonly List<TransitionRow> _trs = [];
    private long _written, _duplicates, _flushes;
    private bool _stagingReady;

    public AnalyticsWriter(AnalyticsStore store, ILogger<AnalyticsWriter>? logger = null)
    {
        _store = store;
        _options = store.Options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _input = Channel.CreateBounded<object>(new BoundedChannelOptions(_options.MaxBufferedRows)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Rows inserted so far (touchpoints and transitions; duplicates not counted).</summary>
    public long RowsWritten => Interlocked.Read(ref _written);

    /// <summary>Rows skipped because their (site, event_id) was already stored.</summary>
    public long DuplicatesSkipped => Interlocked.Read(ref _duplicates);

    /// <summary>Commits so far.</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Adds one staged touchpoint (its <see cref="Touchpoint.Journey"/> set). Waits while the buffer is full.</summary>
    public ValueTask AddAsync(Touchpoint staged, CancellationToken cancellationToken = default) =>
        _input.Writer.WriteAsync(MapTouchpoint(staged), cancellationToken);

    /// <summary>Adds one stage transition. Waits while the buffer is full.</summary>
    public ValueTask AddAsync(StageTransition transition, CancellationToken cancellationToken = default) =>
        _input.Writer.WriteAsync(RowMapper.Map(transition), cancellationToken);

    /// <summary>Adds without waiting; false when the buffer is full.</summary>
    public bool TryAdd(Touchpoint staged) => _input.Writer.TryWrite(MapTouchpoint(staged));

    /// <summary>Adds without waiting; false when the buffer is full.</summary>
    public bool TryAdd(StageTransition transition) => _input.Writer.TryWrite(RowMapper.Map(transition));

    /// <summary>
    /// Returns once every row added before the call is committed (durable on disk), e.g. before a Kafka
    /// sink commits its offsets. Throws when the commit failed (the rows stay buffered and are retried).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var marker = new Marker(null);
        await _input.Writer.WriteAsync(marker, cancellationToken);
        await marker.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes rows older than <see cref="AnalyticsOptions.RetentionDays"/> before <paramref name="now"/> (callers run
    /// it daily). Runs on the writer's loop after a flush; returns the touchpoints deleted.
    /// </summary>
    public async Task<long> EnforceRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var cutoff = now.UtcDateTime.AddDays(-_options.RetentionDays);
        var marker = new Marker(c => DeleteOlderThan(c, cutoff));
        await _input.Writer.WriteAsync(marker, cancellationToken);
        return await marker.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Commits what is buffered, stops the loop and checkpoints the WAL into the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _input.Writer.TryComplete();
        try
        {
            await _loop;
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Analytics writer stopped with an error");
        }
        try
        {
            _store.Checkpoint();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Analytics checkpoint at shutdown failed (the WAL is replayed at next open)");
        }
    }

    private TouchpointRow MapTouchpoint(Touchpoint tp)
    {
        lock (_mapLock)
        {
            if (!_zones.TryGetValue(tp.SiteId, out var zone))
            {
                zone = _options.TimeZoneOf(tp.SiteId);
                _zones[tp.SiteId] = zone;
            }
            return RowMapper.Map(tp, zone,
                k => _sessions.GetValueOrDefault(k),
                (k, s) =>
                {
                    if (_sessions.Count >= SessionCacheLimit)
                    {
                        _sessions.Clear(); // sessions end after 30 minutes; a crude bound is enough
                    }
                    _sessions[k] = s;
                });
        }
    }

    private sealed class Marker(Func<DuckDBConnection, long>? action)
    {
        public Func<DuckDBConnection, long>? Action { get; } = action;
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task RunAsync()
    {
        var reader = _input.Reader;
        var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMs);
        var oldest = Stopwatch.GetTimestamp();
        var backoff = TimeSpan.Zero;
        while (true)
        {
            while (_tps.Count + _trs.Count < _options.MaxBufferedRows && reader.TryRead(out var item))
            {
                if (_tps.Count + _trs.Count == 0)
                {
                    oldest = Stopwatch.GetTimestamp();
                }
                switch (item)
                {
                    case TouchpointRow tp:
                        _tps.Add(tp);
                        break;
                    case TransitionRow tr:
                        _trs.Add(tr);
                        break;
                    case Marker m:
                        try
                        {
                            Flush();
                            m.Done.TrySetResult(m.Action is null ? 0 : m.Action(_store.WriteConnection));
                        }
                        catch (Exception e)
                        {
                            m.Done.TrySetException(e);
                        }
                        break;
                }
                if (_tps.Count + _trs.Count >= _options.FlushRows)
                {
                    TryFlush(ref backoff);
                }
            }
            var pending = _tps.Count + _trs.Count;
            if (pending > 0 && Stopwatch.GetElapsedTime(oldest) >= interval + backoff)
            {
                TryFlush(ref backoff);
                oldest = Stopwatch.GetTimestamp();
                continue;
            }
            var wait = pending > 0 ? interval + backoff - Stopwatch.GetElapsedTime(oldest) : Timeout.InfiniteTimeSpan;
            if (wait != Timeout.InfiniteTimeSpan && wait < TimeSpan.FromMilliseconds(1))
            {
                wait = TimeSpan.FromMilliseconds(1);
            }
            if (pending >= _options.MaxBufferedRows)
            {
                await Task.Delay(wait);
                continue;
            }
            using var cts = new CancellationTokenSource();
            if (wait != Timeout.InfiniteTimeSpan)
            {
                cts.CancelAfter(wait);
            }
            try
            {
                if (!await reader.WaitToReadAsync(cts.Token))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                // flush interval reached
            }
        }
        Flush(); // the channel is complete: commit the rest (throws to DisposeAsync when it cannot)
    }

    private void TryFlush(ref TimeSpan backoff)
    {
        try
        {
            Flush();
            backoff = TimeSpan.Zero;
        }
        catch (Exception e)
        {
            backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            _logger.LogError(e, "Analytics flush of {Rows} rows failed; retrying in {Backoff}", _tps.Count + _trs.Count, backoff);
        }
    }

    /// <summary>One transaction: stage the batch with the appender, keep the rows whose (site, event_id) is new, insert.</summary>
    private void Flush()
    {
        if (_tps.Count == 0 && _trs.Count == 0)
        {
            return;
        }
        var c = _store.WriteConnection;
        EnsureStaging(c);
        var batchDuplicates = DropBatchDuplicates();
        Exec(c, "DELETE FROM stage_tp; DELETE FROM stage_tr;");
        var asw = Stopwatch.StartNew();
        if (_tps.Count > 0)
        {
            AppendTouchpoints(c);
        }
        if (Trace)
        {
            Console.WriteLine($"{asw.ElapsedMilliseconds,6} ms append {_tps.Count}");
        }
        if (_trs.Count > 0)
        {
            AppendTransitions(c);
        }
        long inserted = 0;
        Exec(c, "BEGIN TRANSACTION");
        try
        {
            if (_tps.Count > 0)
            {
                var (min, max) = Range(_tps.Select(t => t.Ts));
                Exec(c, FlushSql.NewTouchpoints, ("min", min), ("max", max));
                inserted += Exec(c, FlushSql.InsertTouchpoints);
                Exec(c, FlushSql.InsertVisitors);
                Exec(c, FlushSql.InsertSessions);
            }
            if (_trs.Count > 0)
            {
                var (min, max) = Range(_trs.Select(t => t.Ts));
                Exec(c, FlushSql.NewTransitions, ("min", min), ("max", max));
                inserted += Exec(c, FlushSql.InsertTransitions);
            }
            Exec(c, "COMMIT");
        }
        catch
        {
            Exec(c, "ROLLBACK");
            throw;
        }
        Interlocked.Add(ref _written, inserted);
        Interlocked.Add(ref _duplicates, _tps.Count + _trs.Count - inserted + batchDuplicates);
        Interlocked.Increment(ref _flushes);
        _tps.Clear();
        _trs.Clear();
    }

    /// <summary>Removes the second and later rows of one (site, event_id) inside the batch (cheaper here than a window in SQL).</summary>
    private int DropBatchDuplicates()
    {
        var seen = new HashSet<(string, string)>(_tps.Count);
        var n = _tps.RemoveAll(t => !seen.Add((t.Site, t.EventId)));
        seen.Clear();
        return n + _trs.RemoveAll(t => !seen.Add((t.T.SiteId, t.T.EventId)));
    }

    private static (DateTime Min, DateTime Max) Range(IEnumerable<DateTime> ts)
    {
        DateTime min = DateTime.MaxValue, max = DateTime.MinValue;
        foreach (var t in ts)
        {
            if (t < min)
            {
                min = t;
            }
            if (t > max)
            {
                max = t;
            }
        }
        return (min, max);
    }

    private void EnsureStaging(DuckDBConnection c)
    {
        if (_stagingReady)
        {
            return;
        }
        Exec(c, FlushSql.CreateStaging);
        _stagingReady = true;
    }

    private void AppendTouchpoints(DuckDBConnection c)
    {
        using var app = c.CreateAppender("stage_tp");
        foreach (var r in _tps)
        {
            app.CreateRow()
                .AppendValue(r.Site).AppendValue(r.EventId).AppendValue(r.Visitor).AppendValue(r.SessionId).AppendValue(r.JourneyId)
                .AppendValue(r.Ts).AppendValue(r.Day)
                .AppendValue(r.Type).AppendValue(r.Name).AppendValue(r.PageHost).AppendValue(r.PagePath).AppendValue(r.LandingPage)
                .AppendValue(r.ReferrerHost).AppendValue(r.Source).AppendValue(r.Medium).AppendValue(r.Term)
                .AppendValue(r.UtmSource).AppendValue(r.UtmMedium).AppendValue(r.UtmCampaign).AppendValue(r.UtmTerm).AppendValue(r.UtmContent)
                .AppendValue(r.ClickPlatform).AppendValue(r.Channel).AppendValue(r.Browser).AppendValue(r.Os).AppendValue(r.Device)
                .AppendValue(r.Country).AppendValue(r.Stage).AppendValue(r.PreviousStage).AppendValue(r.Reasons)
                .AppendValue(r.Score).AppendValue(r.TouchIndex).AppendValue(r.SessionIndex).AppendValue(r.Rank).AppendValue(r.Entered).AppendValue(r.SessionReferrerHost)
                .EndRow();
        }
    }

    private void AppendTransitions(DuckDBConnection c)
    {
        using var app = c.CreateAppender("stage_tr");
        foreach (var r in _trs)
        {
            var t = r.T;
            app.CreateRow()
                .AppendValue(t.SiteId).AppendValue(t.EventId).AppendValue(t.JourneyId).AppendValue(t.VisitorId)
                .AppendValue(t.FromStage).AppendValue(t.ToStage).AppendValue(r.ToRank).AppendValue(r.Ts).AppendValue(r.Reasons)
                .AppendValue(t.Score).AppendValue(t.TouchIndex).AppendValue(t.SessionId).AppendValue(t.Channel)
                .EndRow();
        }
    }

    private static long DeleteOlderThan(DuckDBConnection c, DateTime cutoff)
    {
        Exec(c, "BEGIN TRANSACTION");
        try
        {
            var n = Exec(c, "DELETE FROM touchpoints WHERE ts < $cutoff", ("cutoff", cutoff));
            Exec(c, "DELETE FROM stage_transitions WHERE ts < $cutoff", ("cutoff", cutoff));
            Exec(c, "DELETE FROM sessions WHERE end_ts < $cutoff", ("cutoff", cutoff));
            Exec(c, "DELETE FROM visitors v WHERE first_ts < $cutoff AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.site = v.site AND s.vkey = v.vkey)", ("cutoff", cutoff));
            Exec(c, "COMMIT");
            return n;
        }
        catch
        {
            Exec(c, "ROLLBACK");
            throw;
        }
    }

    private static int Exec(DuckDBConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            return ExecOnce(c, sql, parameters);
        }
        finally
        {
            if (Trace)
            {
                Console.WriteLine($"{sw.ElapsedMilliseconds,6} ms {sql.Trim().Split('\n')[0]}");
            }
        }
    }

    private static int ExecOnce(DuckDBConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.Add(new DuckDBParameter(name, value));
        }
        return cmd.ExecuteNonQuery();
    }
}

/// <summary>The writer's SQL, constant text only.</summary>
internal static class FlushSql
{
    internal const string CreateStaging = """
        CREATE OR REPLACE TEMP TABLE stage_tp (
            site VARCHAR, event_id VARCHAR, visitor VARCHAR, session_id VARCHAR, journey_id VARCHAR,
            ts TIMESTAMP, day DATE, type VARCHAR, name VARCHAR, page_host VARCHAR, page_path VARCHAR, landing_page VARCHAR,
            referrer_host VARCHAR, source VARCHAR, medium VARCHAR, term VARCHAR,
            utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_term VARCHAR, utm_content VARCHAR,
            click_platform VARCHAR, channel VARCHAR, browser VARCHAR, os VARCHAR, device VARCHAR, country VARCHAR,
            stage VARCHAR, previous_stage VARCHAR, reasons VARCHAR, score DOUBLE, touch_index INTEGER, session_index INTEGER,
            rank INTEGER, entered INTEGER, session_referrer VARCHAR);
        CREATE OR REPLACE TEMP TABLE stage_tr (
            site VARCHAR, event_id VARCHAR, journey_id VARCHAR, visitor VARCHAR, from_stage VARCHAR, to_stage VARCHAR,
            to_rank INTEGER, ts TIMESTAMP, reasons VARCHAR, score DOUBLE, touch_index INTEGER, session_id VARCHAR, channel VARCHAR);
        """;

    // Idempotency: (site, event_id) is the key. No index: an anti-join against the stored rows whose ts lies in the
    // batch's range (a replay carries the same derived_ts, and DuckDB's zone maps skip every row group outside the
    // range); duplicates inside the batch are removed before staging.
    internal const string NewTouchpoints = """
        CREATE OR REPLACE TEMP TABLE new_tp AS
        SELECT s.* FROM stage_tp s
        WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.ts BETWEEN $min AND $max AND t.site = s.site AND t.event_id = s.event_id)
        """;

    internal const string InsertTouchpoints = """
        INSERT INTO touchpoints
        SELECT site, event_id, md5_number_lower(visitor), md5_number_lower(session_id), md5_number_lower(journey_id), ts,
               type, name, page_host, page_path, landing_page, referrer_host, source, medium, term,
               utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_platform, channel, browser, os, device, country,
               stage, previous_stage, CASE WHEN reasons = '' THEN []::VARCHAR[] ELSE string_split(reasons, chr(31)) END,
               score, touch_index, session_index
        FROM new_tp
        """;

    internal const string InsertVisitors = """
        INSERT INTO visitors
        SELECT n.site, md5_number_lower(n.visitor), n.visitor, min(n.ts) FROM new_tp n
        WHERE NOT EXISTS (SELECT 1 FROM visitors v WHERE v.site = n.site AND v.vkey = md5_number_lower(n.visitor))
        GROUP BY n.site, n.visitor
        """;

    // One row per session per batch; queries aggregate the (few) rows of a session.
    internal const string InsertSessions = """
        INSERT INTO sessions
        SELECT site, md5_number_lower(session_id), md5_number_lower(visitor),
               arg_min(day, ts), min(ts), max(ts), count(*)::INTEGER, max(rank)::TINYINT, bit_or(entered)::UTINYINT,
               arg_min(channel, ts), arg_min(source, ts), arg_min(medium, ts), arg_min(utm_campaign, ts), arg_min(term, ts),
               arg_min(utm_content, ts), arg_min(click_platform, ts), arg_min(landing_page, ts), arg_min(session_referrer, ts),
               arg_min(device, ts), arg_min(browser, ts), arg_min(os, ts), arg_min(country, ts)
        FROM new_tp GROUP BY site, session_id, visitor
        """;

    internal const string NewTransitions = """
        CREATE OR REPLACE TEMP TABLE new_tr AS
        SELECT s.* FROM stage_tr s
        WHERE NOT EXISTS (SELECT 1 FROM stage_transitions t WHERE t.ts BETWEEN $min AND $max AND t.site = s.site AND t.event_id = s.event_id)
        """;

    internal const string InsertTransitions = """
        INSERT INTO stage_transitions
        SELECT site, event_id, journey_id, md5_number_lower(journey_id), md5_number_lower(visitor), from_stage, to_stage,
               to_rank::TINYINT, ts, CASE WHEN reasons = '' THEN []::VARCHAR[] ELSE string_split(reasons, chr(31)) END,
               score, touch_index, md5_number_lower(session_id), channel
        FROM new_tr
        """;
}
