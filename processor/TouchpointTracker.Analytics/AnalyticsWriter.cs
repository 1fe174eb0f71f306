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
    private readonly Dictionary<(string Site, string Session), SessionSource> _sessions = [];
    private readonly Lock _mapLock = new();
    private readonly List<TouchpointRow> _tps = [];
    private readonly List<TransitionRow> _trs = [];
    private readonly VisitorDays _visitorDays = new();
    private readonly AttributionPathState _paths = new();
    private readonly JourneyEntries.State _journeys = new();
    // per-flush work collections, kept between flushes (cleared, capacity kept): allocated anew, their arrays of tens of
    // thousands of entries went to the large object heap at every flush and brought full (gen 2) collections
    private readonly HashSet<(string, string)> _seenIds = [];
    private readonly Dictionary<(string, string), int> _sessionIndex = [];
    private readonly List<SessionGroup> _sessionGroups = [];
    private readonly Dictionary<(string, ulong), (string, DateTime)> _firstSeen = [];
    private long _written, _duplicates, _flushes, _rollUpTicks;
    private long _mapTicks, _dedupTicks, _appendTicks, _commitTicks;
    // the latest ts stored in touchpoints / stage_transitions (null: read it at the next flush): a row later than that
    // cannot be a replay, since a replay carries the same derived_ts as the row it repeats
    private DateTime? _maxTouchpointTs, _maxTransitionTs;
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

    /// <summary>Time spent keeping the attribution roll-up (<c>attribution_paths</c>) in the flushes so far.</summary>
    public TimeSpan AttributionRollUpTime => TimeSpan.FromTicks(Interlocked.Read(ref _rollUpTicks));

    /// <summary>Session-start groups (a visitor's new starts in one batch) whose attribution rows were counted in memory, and those recomputed in SQL.</summary>
    internal (long InMemory, long Recomputed) AttributionUpkeep => (_paths.FollowedInMemory, _paths.Recomputed);

    /// <summary>Where the write time went so far (benchmarks): see <see cref="WriterPhases"/>.</summary>
    public WriterPhases Phases => new(
        TimeSpan.FromTicks(Interlocked.Read(ref _mapTicks)), TimeSpan.FromTicks(Interlocked.Read(ref _dedupTicks)),
        TimeSpan.FromTicks(Interlocked.Read(ref _appendTicks)), AttributionRollUpTime, TimeSpan.FromTicks(Interlocked.Read(ref _commitTicks)));

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
    /// it daily), then merges the sessions split across writer batches (<see cref="MergeSplitSessionsAsync"/>). Runs
    /// on the writer's loop after a flush; returns the touchpoints deleted.
    /// </summary>
    public async Task<long> EnforceRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var cutoff = now.UtcDateTime.AddDays(-_options.RetentionDays);
        var marker = new Marker(c =>
        {
            _visitorDays.Reset(); // visitors go: their numbers are read again at the next flush
            _paths.Reset(); // and so do last session starts
            _journeys.Reset(); // and the journeys' entries (retention rebuilds the table)
            var deleted = DeleteOlderThan(c, cutoff);
            MergeSplitSessions(c, now, attributionCompacted: true); // retention compacted the whole roll-up
            return deleted;
        });
        await _input.Writer.WriteAsync(marker, cancellationToken);
        return await marker.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Merges each session's <c>sessions</c> rows of a day into one (they are one per writer batch: with a live stream,
    /// one per flush the session spans) and rebuilds those visitors' <c>visitor_days</c> rows of the day
    /// (<see cref="SessionsCompaction"/>), and sums the attribution roll-up's deltas of the same days into one row per
    /// group; callers run it hourly. Runs on the writer's loop after a flush; returns the sessions rows merged away.
    /// </summary>
    public async Task<long> MergeSplitSessionsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var marker = new Marker(c => MergeSplitSessions(c, now, attributionCompacted: false));
        await _input.Writer.WriteAsync(marker, cancellationToken);
        return await marker.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The days whose rows a merge looks at: from two days before the previous merge's (a late event can still
    /// split a session of a day merged before), every day at the first merge after start-up.</summary>
    private long MergeSplitSessions(DuckDBConnection c, DateTimeOffset now, bool attributionCompacted)
    {
        var since = _lastMerge?.AddDays(-2) ?? DateOnly.MinValue;
        var merged = InTransaction(c, () =>
        {
            var rows = SessionsCompaction.Compact(c, since, (conn, sql, p) => Exec(conn, sql, p));
            if (!attributionCompacted)
            {
                AttributionPaths.Compact(c, since == DateOnly.MinValue ? null : since); // the roll-up's deltas of those days, one per flush, summed too
            }
            return rows;
        });
        _lastMerge = DateOnly.FromDateTime(now.UtcDateTime);
        SessionRowsMerged = merged;
        return merged;
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
        var t0 = Stopwatch.GetTimestamp();
        try
        {
            return MapTouchpointLocked(tp);
        }
        finally
        {
            Interlocked.Add(ref _mapTicks, Stopwatch.GetElapsedTime(t0).Ticks);
        }
    }

    private TouchpointRow MapTouchpointLocked(Touchpoint tp)
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
        CompactJourneyEntries();
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

    /// <summary>
    /// One flush: drop rows whose (site, event_id) is already stored (one join of the batch's ids against the rows in
    /// the batch's time range), then one transaction appending straight into touchpoints, sessions, visitors and
    /// stage_transitions (DuckDB's appender joins the open transaction, so a failed flush leaves nothing behind).
    /// The attribution roll-up follows the batch from memory (<see cref="AttributionPathState"/>); only the visitors it
    /// cannot follow there go through <see cref="AttributionPaths.Prepare"/> / <see cref="AttributionPaths.Apply"/>.
    /// </summary>
    private void Flush()
    {
        if (_tps.Count == 0 && _trs.Count == 0)
        {
            return;
        }
        var c = _store.WriteConnection;
        var phase = Stopwatch.GetTimestamp();
        EnsureStaging(c);
        var batchDuplicates = DropBatchDuplicates();
        var stored = DropStored(c);
        Interlocked.Add(ref _dedupTicks, Lap(ref phase));
        var sw = Stopwatch.StartNew();
        var steps = Trace ? new System.Text.StringBuilder() : null;
        var stepStart = Stopwatch.GetTimestamp();
        void Step(string name, int count = -1)
        {
            if (steps is not null)
            {
                steps.Append(' ').Append(name);
                if (count >= 0)
                {
                    steps.Append('(').Append(count).Append(')');
                }
                steps.Append(' ').Append(Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture));
                stepStart = Stopwatch.GetTimestamp();
            }
        }
        Exec(c, "BEGIN TRANSACTION");
        try
        {
            if (_tps.Count > 0)
            {
                var sessions = SessionGroups();
                var upkeepTicks = 0L;
                var slow = _paths.Plan(c, _tps, sessions);
                Step("plan");
                var paths = slow.Count > 0 && AttributionPaths.Prepare(c, slow);
                Step("attr-prepare", slow.Count); // the count formatted only when tracing
                upkeepTicks += Lap(ref phase);
                AppendTouchpoints(c);
                Step("app-tp");
                AppendSessions(c, sessions);
                Step("app-sessions");
                AppendVisitors(c);
                Step("app-visitors");
                _visitorDays.Append(c, sessions);
                Step("app-vd");
                AppendConversions(c);
                AppendPersons(c);
                Step("app-cv-persons");
                Interlocked.Add(ref _appendTicks, Lap(ref phase));
                if (paths)
                {
                    AttributionPaths.Apply(c);
                }
                Step("attr-apply");
                _paths.AppendPlanned(c);
                Step("attr-append");
                upkeepTicks += Lap(ref phase);
                Interlocked.Add(ref _rollUpTicks, upkeepTicks);
            }
            if (_trs.Count > 0)
            {
                AppendTransitions(c);
                Step("app-tr");
                Interlocked.Add(ref _appendTicks, Lap(ref phase));
            }
            _journeys.Apply(c, _trs, _visitorDays); // the funnel's roll-up (after the visitors got their numbers)
            _journeys.CompactIfBloated(c); // one row per journey again when a quarter of the rows are superseded
            Step("journey-entries");
            Interlocked.Add(ref _rollUpTicks, Lap(ref phase));
            Exec(c, "COMMIT");
            Step("commit");
            Interlocked.Add(ref _commitTicks, Lap(ref phase));
        }
        catch
        {
            _visitorDays.Reset(); // numbers given inside the rolled-back transaction are void
            _paths.Reset(); // and so are the last starts
            _journeys.Reset(); // and the journeys' entries
            _maxTouchpointTs = _maxTransitionTs = null;
            Exec(c, "ROLLBACK");
            throw;
        }
        if (Trace)
        {
            Console.WriteLine($"{sw.ElapsedMilliseconds,6} ms append + commit {_tps.Count} touchpoints, {_trs.Count} transitions:{steps}");
        }
        foreach (var t in _tps)
        {
            _maxTouchpointTs = t.Ts > _maxTouchpointTs ? t.Ts : _maxTouchpointTs;
        }
        foreach (var t in _trs)
        {
            _maxTransitionTs = t.Ts > _maxTransitionTs ? t.Ts : _maxTransitionTs;
        }
        Interlocked.Add(ref _written, _tps.Count + _trs.Count);
        Interlocked.Add(ref _duplicates, batchDuplicates + stored);
        Interlocked.Increment(ref _flushes);
        _tps.Clear();
        _trs.Clear();
        _sessionGroups.Clear(); // let the batch's rows go
        _sessionIndex.Clear();
        _firstSeen.Clear();
    }

    /// <summary>
    /// When the writer stops: the journeys with rows superseded by a later one get one row again, so a store at rest holds
    /// one journey_entries row per journey. A failure leaves the rows as they are (the funnel reads them the same).
    /// </summary>
    private void CompactJourneyEntries()
    {
        if (_journeys.Superseded == 0)
        {
            return;
        }
        var c = _store.WriteConnection;
        var t0 = Stopwatch.GetTimestamp();
        Exec(c, "BEGIN TRANSACTION");
        try
        {
            _journeys.Compact(c);
            Exec(c, "COMMIT");
        }
        catch (Exception e)
        {
            _journeys.Reset();
            Exec(c, "ROLLBACK");
            _logger.LogWarning(e, "Compacting journey_entries at stop failed (the rows stay; the funnel reads them the same)");
        }
        StopCompaction = Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>Time the last stop spent compacting journey_entries (benchmarks).</summary>
    public TimeSpan StopCompaction { get; private set; }

    /// <summary>The sessions rows the last merge (on its own or in retention) removed: rows of split sessions less the rows left.</summary>
    public long SessionRowsMerged { get; private set; }

    /// <summary>The UTC day of the last merge (null before the first).</summary>
    private DateOnly? _lastMerge;

    /// <summary>The ticks since <paramref name="since"/>, which moves to now.</summary>
    private static long Lap(ref long since)
    {
        var now = Stopwatch.GetTimestamp();
        var ticks = Stopwatch.GetElapsedTime(since, now).Ticks;
        since = now;
        return ticks;
    }

    /// <summary>
    /// Removes the rows whose (site, event_id) is already in the store; returns how many. Only rows no later than the
    /// latest stored ts of their table are looked up (a replay carries the same derived_ts as the row it repeats, so a
    /// later row is new): with a stream in time order most of a batch skips the lookup.
    /// </summary>
    private int DropStored(DuckDBConnection c)
    {
        var removed = 0;
        if (_tps.Count > 0)
        {
            var max = _maxTouchpointTs ??= MaxTs(c, "touchpoints");
            var check = _tps.Where(t => t.Ts <= max).Select(t => (t.Site, t.EventId, t.EventUuid, t.Ts)).ToList();
            var dup = check.Count == 0 ? [] : StoredIds(c, "touchpoints", check);
            removed += dup.Count == 0 ? 0 : _tps.RemoveAll(t => dup.Contains((t.Site, t.EventId)));
        }
        if (_trs.Count > 0)
        {
            var max = _maxTransitionTs ??= MaxTs(c, "stage_transitions");
            var check = _trs.Where(t => t.Ts <= max).Select(t => (t.T.SiteId, t.T.EventId, t.EventUuid, t.Ts)).ToList();
            var dup = check.Count == 0 ? [] : StoredIds(c, "stage_transitions", check);
            removed += dup.Count == 0 ? 0 : _trs.RemoveAll(t => dup.Contains((t.T.SiteId, t.T.EventId)));
        }
        return removed;
    }

    private static DateTime MaxTs(DuckDBConnection c, string table)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = table == "touchpoints" ? "SELECT max(ts) FROM touchpoints" : "SELECT max(ts) FROM stage_transitions";
        return cmd.ExecuteScalar() is DateTime ts ? ts : DateTime.MinValue;
    }

    private static HashSet<(string, string)> StoredIds(DuckDBConnection c, string table, IEnumerable<(string Site, string EventId, Guid? EventUuid, DateTime Ts)> rows)
    {
        Exec(c, "DELETE FROM stage_ids");
        DateTime min = DateTime.MaxValue, max = DateTime.MinValue;
        using (var app = c.CreateAppender("stage_ids"))
        {
            foreach (var (site, id, uuid, ts) in rows)
            {
                app.CreateRow().AppendValue(site).AppendValue(id).AppendValue(uuid).EndRow();
                min = ts < min ? ts : min;
                max = ts > max ? ts : max;
            }
        }
        var found = new HashSet<(string, string)>();
        using var cmd = c.CreateCommand();
        // a replay carries the same derived_ts: only the row groups of the batch's time range are read (zone maps)
        cmd.CommandText = table == "touchpoints" ? FlushSql.StoredTouchpointIds : FlushSql.StoredTransitionIds;
        cmd.Parameters.Add(new DuckDBParameter("min", min));
        cmd.Parameters.Add(new DuckDBParameter("max", max));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            found.Add((r.GetString(0), r.GetString(1)));
        }
        return found;
    }

    /// <summary>Removes the second and later rows of one (site, event_id) inside the batch (cheaper here than a window in SQL).</summary>
    private int DropBatchDuplicates()
    {
        var seen = _seenIds;
        seen.Clear();
        var n = _tps.RemoveAll(t => !seen.Add((t.Site, t.EventId)));
        seen.Clear();
        n += _trs.RemoveAll(t => !seen.Add((t.T.SiteId, t.T.EventId)));
        seen.Clear();
        return n;
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

    /// <summary>The 64-bit key of an id (<see cref="RowMapper.Key"/>).</summary>
    internal static ulong Key(string id) => RowMapper.Key(id);

    /// <summary>
    /// Persons from the touches carrying a person id: a persons row per new person (first and last time, the hashed user
    /// id once an identify brings it), a person_visitors row per visitor id new to the site (a visitor belongs to the
    /// first person it was linked to here: a device shared by two identified users stays with its first).
    /// </summary>
    private void AppendPersons(DuckDBConnection c)
    {
        if (!_tps.Any(t => t.PersonId is not null))
        {
            return;
        }
        Exec(c, "DELETE FROM stage_p");
        using (var app = c.CreateAppender("stage_p"))
        {
            foreach (var t in _tps)
            {
                if (t.PersonId is { } person)
                {
                    app.CreateRow().AppendValue(t.Site).AppendValue(t.Pkey!.Value).AppendValue(person).AppendValue(t.UserIdSha256)
                        .AppendValue(t.Vkey).AppendValue(t.Ts).EndRow();
                }
            }
        }
        Exec(c, FlushSql.UpsertPersons);
        Exec(c, FlushSql.InsertPersonVisitors);
    }

    private void AppendTouchpoints(DuckDBConnection c)
    {
        using var app = c.CreateAppender("touchpoints");
        foreach (var r in _tps)
        {
            app.CreateRow()
                .AppendValue(r.Site).AppendValue(r.EventUuid is null ? r.EventId : null).AppendValue(r.Vkey).AppendValue(r.Skey).AppendValue(r.Jkey)
                .AppendValue(r.Ts)
                .AppendValue(r.Type).AppendValue(r.Name).AppendValue(r.PageHost).AppendValue(r.PagePath).AppendValue(r.LandingPage)
                .AppendValue(r.ReferrerHost).AppendValue(r.Source).AppendValue(r.Medium).AppendValue(r.Term)
                .AppendValue(r.UtmSource).AppendValue(r.UtmMedium).AppendValue(r.UtmCampaign).AppendValue(r.UtmTerm).AppendValue(r.UtmContent)
                .AppendValue(r.ClickPlatform).AppendValue(r.Channel).AppendValue(r.Browser).AppendValue(r.Os).AppendValue(r.Device)
                .AppendValue(r.Country).AppendValue(r.Stage).AppendValue(r.PreviousStage).AppendValue(r.Reasons)
                .AppendValue((float)r.Score).AppendValue(r.TouchIndex).AppendValue(r.SessionIndex).AppendValue(r.EventUuid)
                .EndRow();
        }
    }

    /// <summary>One sessions row per session of the batch: its traffic source from its earliest touch in the batch,
    /// <c>starts</c> = 1 when the batch holds the session's first event.</summary>
    private void AppendSessions(DuckDBConnection c, List<SessionGroup> groups)
    {
        using var app = c.CreateAppender("sessions");
        foreach (var g in groups)
        {
            var f = g.First;
            app.CreateRow()
                .AppendValue(f.Site).AppendValue(f.Skey).AppendValue(f.Vkey).AppendValue(f.Day).AppendValue(f.Ts).AppendValue(g.End)
                .AppendValue(g.Touches).AppendValue((sbyte)(g.Starts ? 1 : 0)).AppendValue((sbyte)g.Rank).AppendValue((byte)g.Entered)
                .AppendValue(f.Channel).AppendValue(f.Source).AppendValue(f.Medium).AppendValue(f.UtmCampaign).AppendValue(f.Term)
                .AppendValue(f.UtmContent).AppendValue(f.ClickPlatform).AppendValue(f.LandingPage).AppendValue(f.SessionReferrerHost)
                .AppendValue(f.Device).AppendValue(f.Browser).AppendValue(f.Os).AppendValue(f.Country)
                .EndRow();
        }
    }

    /// <summary>The batch's touchpoints grouped per session (the rows of the sessions and visitor_days roll-ups).</summary>
    private List<SessionGroup> SessionGroups()
    {
        var index = _sessionIndex;
        var groups = _sessionGroups;
        index.Clear();
        groups.Clear();
        foreach (var r in _tps)
        {
            var k = (r.Site, r.SessionId);
            if (index.TryGetValue(k, out var i))
            {
                var g = groups[i];
                groups[i] = new SessionGroup(r.Ts < g.First.Ts ? r : g.First, r.Ts > g.End ? r.Ts : g.End, g.Touches + 1, Math.Max(g.Rank, r.Rank),
                    g.Entered | r.Entered, g.Starts || IsStart(r));
            }
            else
            {
                index[k] = groups.Count;
                groups.Add(new SessionGroup(r, r.Ts, 1, r.Rank, r.Entered, IsStart(r)));
            }
        }
        return groups;
    }

    /// <summary>
    /// The processor names a session after its first event, so the row holding that event starts the session: summing
    /// <c>starts</c> counts sessions exactly without count(DISTINCT), even when a session's touches span several flushes.
    /// </summary>
    private static bool IsStart(TouchpointRow r) => string.Equals(r.EventId, r.SessionId, StringComparison.Ordinal);

    private void AppendVisitors(DuckDBConnection c)
    {
        var first = _firstSeen;
        first.Clear();
        foreach (var r in _tps)
        {
            var k = (r.Site, r.Vkey);
            if (!first.TryGetValue(k, out var seen) || r.Ts < seen.Item2)
            {
                first[k] = (r.Visitor, r.Ts);
            }
        }
        _visitorDays.AppendNewVisitors(c, first);
    }

    /// <summary>
    /// One conversions row per touchpoint of the batch that produced a conversion (the touchpoints' deduplication
    /// covers them: a replayed touch brings no second row). A refund that names the conversion it retracts marks
    /// that conversion <c>retracted</c> once the refunds of its order add up to its value (or it had none).
    /// </summary>
    private void AppendConversions(DuckDBConnection c)
    {
        var refunds = new List<(string Site, string Retracts)>();
        var any = false;
        using (var app = c.CreateAppender("conversions"))
        {
            foreach (var r in _tps)
            {
                if (r.Conversion is not { } cv)
                {
                    continue;
                }
                any = true;
                app.CreateRow()
                    .AppendValue(r.Site).AppendValue(cv.ConversionId).AppendValue(cv.Type).AppendValue(cv.Goal).AppendValue(r.Ts)
                    .AppendValue(r.Vkey).AppendValue(r.Jkey).AppendValue((ulong?)r.Skey).AppendValue(r.EventId)
                    .AppendValue(cv.OrderId).AppendValue(cv.Value).AppendValue(cv.Currency).AppendValue(cv.ReportingValue).AppendValue(false)
                    .EndRow();
                if (cv.Retracts is { Length: > 0 } retracts)
                {
                    refunds.Add((r.Site, retracts));
                }
            }
        }
        if (!any || refunds.Count == 0)
        {
            return;
        }
        Exec(c, "DELETE FROM stage_r");
        using (var app = c.CreateAppender("stage_r"))
        {
            foreach (var (site, id) in refunds)
            {
                app.CreateRow().AppendValue(site).AppendValue(id).EndRow();
            }
        }
        Exec(c, FlushSql.RetractConversions);
    }

    private void AppendTransitions(DuckDBConnection c)
    {
        using var app = c.CreateAppender("stage_transitions");
        foreach (var r in _trs)
        {
            var t = r.T;
            app.CreateRow()
                .AppendValue(t.SiteId).AppendValue(r.EventUuid is null ? t.EventId : null).AppendValue(t.JourneyId).AppendValue(r.Jkey).AppendValue(r.Vkey)
                .AppendValue(t.FromStage).AppendValue(t.ToStage).AppendValue((sbyte)r.ToRank).AppendValue(r.Ts).AppendValue(r.Reasons)
                .AppendValue((float)t.Score).AppendValue(t.TouchIndex).AppendValue(r.Skey).AppendValue(t.Channel).AppendValue(r.EventUuid)
                .EndRow();
        }
    }

    private static long DeleteOlderThan(DuckDBConnection c, DateTime cutoff) => InTransaction(c, () =>
    {
        AttributionPaths.PrepareRetention(c, cutoff);
        var n = Exec(c, "DELETE FROM touchpoints WHERE ts < $cutoff", ("cutoff", cutoff));
        Exec(c, "DELETE FROM stage_transitions WHERE ts < $cutoff", ("cutoff", cutoff));
        Exec(c, "DELETE FROM sessions WHERE end_ts < $cutoff", ("cutoff", cutoff));
        AttributionPaths.Apply(c);
        AttributionPaths.Compact(c);
        Exec(c, "DELETE FROM conversions WHERE ts < $cutoff", ("cutoff", cutoff));
        Exec(c, "DELETE FROM visitors v WHERE first_ts < $cutoff AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.site = v.site AND s.vkey = v.vkey)", ("cutoff", cutoff));
        VisitorDays.ApplyRetention(c, cutoff, (conn, sql, p) => Exec(conn, sql, p));
        JourneyEntries.ApplyRetention(c);
        return (long)n;
    });

    /// <summary>Runs <paramref name="body"/> in one transaction on the writer's connection: committed when it returns,
    /// rolled back when it throws.</summary>
    private static T InTransaction<T>(DuckDBConnection c, Func<T> body)
    {
        Exec(c, "BEGIN TRANSACTION");
        try
        {
            var result = body();
            Exec(c, "COMMIT");
            return result;
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

/// <summary>
/// Where an <see cref="AnalyticsWriter"/>'s time went: building rows from touchpoints (on the callers' threads), dropping
/// replays (the stored-id lookup), the appenders, the attribution roll-up's upkeep, and the commits (with DuckDB's
/// checkpoints, which compress the new rows into the file).
/// </summary>
public sealed record WriterPhases(TimeSpan RowBuilding, TimeSpan Deduplication, TimeSpan Appending, TimeSpan RollUpUpkeep, TimeSpan Commit);

/// <summary>The writer's SQL, constant text only.</summary>
internal static class FlushSql
{
    internal const string CreateStaging = """
        CREATE OR REPLACE TEMP TABLE stage_ids (site VARCHAR, event_id VARCHAR, event_uuid UUID);
        CREATE OR REPLACE TEMP TABLE stage_r (site VARCHAR, conversion_id VARCHAR);
        CREATE OR REPLACE TEMP TABLE stage_p (site VARCHAR, pkey UBIGINT, person_id VARCHAR, user_id_sha256 VARCHAR, vkey UBIGINT, ts TIMESTAMP);
        """;

    // A conversion named by a refund of the batch is retracted once its order's refunds (negative values) cover its value.
    internal const string RetractConversions = """
        UPDATE conversions o SET retracted = true
        FROM (SELECT DISTINCT site, conversion_id FROM stage_r) r
        WHERE o.site = r.site AND o.conversion_id = r.conversion_id AND o.type <> 'refund' AND NOT o.retracted
          AND (o.value IS NULL OR o.order_id IS NULL OR -(SELECT coalesce(sum(f.value), 0) FROM conversions f
               WHERE f.site = o.site AND f.type = 'refund' AND f.order_id = o.order_id) >= abs(o.value) - 1e-9)
        """;

    internal const string UpsertPersons = """
        UPDATE persons SET first_ts = least(persons.first_ts, n.first_ts), last_ts = greatest(persons.last_ts, n.last_ts),
            user_id_sha256 = coalesce(persons.user_id_sha256, n.uid)
        FROM (SELECT site, pkey, min(ts) AS first_ts, max(ts) AS last_ts, max(user_id_sha256) AS uid FROM stage_p GROUP BY site, pkey) n
        WHERE persons.site = n.site AND persons.pkey = n.pkey;
        INSERT INTO persons
        SELECT site, pkey, any_value(person_id), max(user_id_sha256), min(ts), max(ts) FROM stage_p n
        WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.site = n.site AND p.pkey = n.pkey)
        GROUP BY site, pkey;
        """;

    internal const string InsertPersonVisitors = """
        INSERT INTO person_visitors
        SELECT site, vkey, arg_min(pkey, ts), min(ts) FROM stage_p n
        WHERE NOT EXISTS (SELECT 1 FROM person_visitors pv WHERE pv.site = n.site AND pv.vkey = n.vkey)
        GROUP BY site, vkey;
        """;

    // Idempotency: (site, event_id) is the key. No index: a join of the batch's ids with the stored rows whose ts lies
    // in the batch's range (a replay carries the same derived_ts, and DuckDB's zone maps skip every row group outside).
    // An event id is stored as text (event_id) or, when it is a canonical UUID, as event_uuid; a store upgraded from
    // before event_uuid holds UUID ids as text too, so both columns are looked up.
    internal const string StoredTouchpointIds = """
        SELECT DISTINCT s.site, s.event_id FROM touchpoints t JOIN stage_ids s ON t.site = s.site AND t.event_id = s.event_id
        WHERE t.ts BETWEEN $min AND $max
        UNION
        SELECT DISTINCT s.site, s.event_id FROM touchpoints t JOIN stage_ids s ON t.site = s.site AND t.event_uuid = s.event_uuid
        WHERE t.ts BETWEEN $min AND $max
        """;

    internal const string StoredTransitionIds = """
        SELECT DISTINCT s.site, s.event_id FROM stage_transitions t JOIN stage_ids s ON t.site = s.site AND t.event_id = s.event_id
        WHERE t.ts BETWEEN $min AND $max
        UNION
        SELECT DISTINCT s.site, s.event_id FROM stage_transitions t JOIN stage_ids s ON t.site = s.site AND t.event_uuid = s.event_uuid
        WHERE t.ts BETWEEN $min AND $max
        """;
}
