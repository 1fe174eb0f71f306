using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using TouchpointTracker.Analytics;
using TouchpointTracker.Analytics.Benchmarks;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

// Figures for docs/analytics.md: ingest rate through AnalyticsWriter (the writer alone: touchpoints/s, CPU per touchpoint and the
// time per write phase), bytes per touchpoint on disk, and each
// API view's latency over the whole generated period (p50/p95 warm, and cold = first query after reopening the
// store, i.e. DuckDB's buffer pool empty; the OS page cache is not dropped).
//
//   dotnet run -c Release --project tests/TouchpointTracker.Analytics.Benchmarks [-- --touchpoints 10000000 --visitors 1000000 --days 90 --campaigns 40]
//   options: --path file.duckdb (default: a temp file, deleted unless --keep), --skip-write (query an existing --path),
//            --warm 20 (warm runs per view), --cold 5 (cold runs per view), --flush-rows 50000, --no-queries (write only),
//            --live (each chunk written in time order, sessions interleaved as a live stream sends them; with a small
//            --flush-rows, sessions span flushes: the merge of split sessions is then measured before the writer stops;
//            --no-merge leaves them split),
//            --only-attribution (only the attribution views, at most 10 warm and 3 cold runs each), --markov-keys 3000 (the Markov scale run; 0 skips it),
//            --markov-only (only the Markov scale run, no store; --markov-keys may then list several counts: 1000,3000,5000),
//            --attribution-views channel,campaign (only the attribution views whose name contains one of these); CPU p50 is the process's CPU time (all threads) per warm run
//            --views overview,funnel (only the API views whose name contains one of these; "none" skips them)
//            --phases (after each API view's line, the median wall time of each of its steps over the warm runs: the query in
//            DuckDB, reading its result, counting; steps on parallel threads overlap)
//            --count-only (only the in-memory distinct count over the overview's rows, read once: wall and CPU per run, on
//            one thread and on every core, --warm runs each)
//   TT_ANALYTICS_TRACE=1 prints the time of each step of each flush. Each figure line ends with the load average (/proc/loadavg).
if (args.Contains("--markov-only"))
{
    // The Markov scale run alone (no store): one line per key count of --markov-keys (a list, e.g. 1000,3000,5000).
    foreach (var keys in (ArgS("--markov-keys") ?? "3000").Split(','))
    {
        MarkovScale(int.Parse(keys.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));
    }
    return;
}
var touchpoints = Arg("--touchpoints", 10_000_000L);
var visitors = (int)Arg("--visitors", touchpoints / 10);
var days = (int)Arg("--days", 90);
var campaignCount = (int)Arg("--campaigns", 40);
var warmRuns = (int)Arg("--warm", 20);
var coldRuns = (int)Arg("--cold", 5);
var flushRows = (int)Arg("--flush-rows", 50_000);
var skipWrite = args.Contains("--skip-write");
var liveOrder = args.Contains("--live");
var keep = args.Contains("--keep") || skipWrite;
var path = ArgS("--path") ?? Path.Combine(Path.GetTempPath(), $"tt-analytics-bench-{Environment.ProcessId}.duckdb");
var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
var end = start.AddDays(days);

Console.WriteLine($"TouchpointTracker analytics benchmark: {touchpoints:N0} touchpoints, {visitors:N0} visitors, {days} days -> {path}");
Console.WriteLine($"  .NET {Environment.Version}, {Environment.ProcessorCount} cores, {(typeof(AnalyticsStore).Assembly.GetCustomAttributes(false).OfType<DebuggableAttribute>().Any(d => d.IsJITOptimizerDisabled) ? "DEBUG build (use -c Release)" : "Release build")}, DuckDB.NET {typeof(DuckDBConnection).Assembly.GetName().Version}");

var options = new AnalyticsOptions { Path = path, FlushRows = flushRows, MaxBufferedRows = Math.Max(200_000, flushRows * 2), FlushIntervalMs = 1000 };
if (!skipWrite)
{
    File.Delete(path);
    File.Delete(path + ".wal");
    var gen = new DatasetGenerator(touchpoints, visitors, days, campaigns: campaignCount);
    var pending = new Queue<StageTransition>();
    var conversions = new List<DatasetGenerator.GeneratedConversion>();
    long rows = 0, transitions = 0;
    var sw = Stopwatch.StartNew();
    using (var store = new AnalyticsStore(options))
    {
        await using var writer = new AnalyticsWriter(store);
        // The writer alone: the generator fills a chunk of --chunk touchpoints (and their transitions) first, then the chunk
        // is added and flushed under the writer stopwatch, so generation never shares the cores with the timed part.
        var chunkSize = (int)Arg("--chunk", 100_000);
        var chunk = new List<object>(chunkSize * 2);
        var writerTime = TimeSpan.Zero;
        var writerCpu = TimeSpan.Zero;
        var writerGc = TimeSpan.Zero;
        var writerAlloc = 0L;
        var gcCounts = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var lastMillion = (Rows: 0L, Wall: TimeSpan.Zero, Cpu: TimeSpan.Zero, Phases: writer.Phases);
        async Task WriteChunk()
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var gc0 = GC.GetTotalPauseDuration();
            var alloc0 = GC.GetTotalAllocatedBytes();
            var w = Stopwatch.StartNew();
            if (liveOrder)
            {
                // a live stream's order: every session's touches interleaved in time, so sessions span flushes
                chunk.Sort((a, b) => Ts(a).CompareTo(Ts(b)));
            }
            foreach (var item in chunk)
            {
                if (item is Touchpoint tp)
                {
                    await writer.AddAsync(tp);
                }
                else
                {
                    await writer.AddAsync((StageTransition)item);
                }
            }
            await writer.FlushAsync();
            writerTime += w.Elapsed;
            writerCpu += Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            writerGc += GC.GetTotalPauseDuration() - gc0;
            writerAlloc += GC.GetTotalAllocatedBytes() - alloc0;
            chunk.Clear();
        }
        foreach (var tp in gen.Generate(pending.Enqueue, start, conversions.Add))
        {
            chunk.Add(tp);
            while (pending.TryDequeue(out var t))
            {
                chunk.Add(t);
                transitions++;
            }
            if (++rows % chunkSize == 0)
            {
                await WriteChunk();
            }
            if (rows % 1_000_000 == 0)
            {
                Console.WriteLine($"  {rows:N0} touchpoints, {writer.RowsWritten:N0} rows committed, {sw.Elapsed.TotalSeconds:N0} s, writer {writerTime.TotalSeconds:N0} s " +
                                  $"({rows / writerTime.TotalSeconds:N0}/s), load {LoadAverage()}");
                // this million's share: what grows with the store shows as a rising figure from one line to the next
                var p1 = writer.Phases;
                var lastN = rows - lastMillion.Rows;
                Console.WriteLine($"    last {lastN:N0}: writer {lastN / (writerTime - lastMillion.Wall).TotalSeconds:N0}/s, CPU {(writerCpu - lastMillion.Cpu).TotalMicroseconds / lastN:N1} us per touchpoint; " +
                                  $"phases (wall, us per touchpoint) replay check {(p1.Deduplication - lastMillion.Phases.Deduplication).TotalMicroseconds / lastN:N1}, " +
                                  $"appenders {(p1.Appending - lastMillion.Phases.Appending).TotalMicroseconds / lastN:N1}, " +
                                  $"roll-up upkeep {(p1.RollUpUpkeep - lastMillion.Phases.RollUpUpkeep).TotalMicroseconds / lastN:N1}, " +
                                  $"commit + checkpoint {(p1.Commit - lastMillion.Phases.Commit).TotalMicroseconds / lastN:N1}");
                lastMillion = (rows, writerTime, writerCpu, p1);
            }
        }
        await WriteChunk();
        WriteConversions(store, conversions);
        var written = sw.Elapsed;
        Console.WriteLine();
        Console.WriteLine($"Conversions: {conversions.Count(x => !x.Retracted):N0} ({conversions.Count(x => x.Type == "purchase" && !x.Retracted):N0} purchases, " +
                          $"{conversions.Count(x => x.Retracted):N0} refunded; {conversions.Count(x => x.Type == "lead"):N0} leads)");
        Console.WriteLine($"Write: {rows:N0} touchpoints + {transitions:N0} transitions in {written.TotalSeconds:N1} s = {rows / written.TotalSeconds:N0} touchpoints/s " +
                          $"(generation on the same 2 cores included; {writer.Flushes:N0} commits, {writer.DuplicatesSkipped:N0} duplicates), load average {LoadAverage()}");
        Console.WriteLine($"  of which the attribution roll-up's upkeep: {writer.AttributionRollUpTime.TotalSeconds:N1} s ({writer.AttributionRollUpTime / written:P1} of the write)");
        Console.WriteLine($"Writer alone (AddAsync + flush of each {chunkSize:N0}-touchpoint chunk): {writerTime.TotalSeconds:N1} s = {rows / writerTime.TotalSeconds:N0} touchpoints/s, " +
                          $"process CPU {writerCpu.TotalSeconds:N1} s = {writerCpu.TotalMicroseconds / rows:N1} us CPU per touchpoint (with its transitions), " +
                          $"GC pauses {writerGc.TotalSeconds:N1} s, {writerAlloc / (double)rows:N0} bytes allocated per touchpoint; " +
                          $"collections gen0/1/2 over the write {GC.CollectionCount(0) - gcCounts.Item1}/{GC.CollectionCount(1) - gcCounts.Item2}/{GC.CollectionCount(2) - gcCounts.Item3}");
        var ph = writer.Phases;
        Console.WriteLine($"  phases (wall time, us per touchpoint): row building {ph.RowBuilding.TotalMicroseconds / rows:N1} (caller threads), replay check {ph.Deduplication.TotalMicroseconds / rows:N1}, " +
                          $"appenders {ph.Appending.TotalMicroseconds / rows:N1}, roll-up upkeep {ph.RollUpUpkeep.TotalMicroseconds / rows:N1}, commit + checkpoint {ph.Commit.TotalMicroseconds / rows:N1}; load {LoadAverage()}");
        // replay the first 200k touchpoints: idempotency cost and check
        var replay = Stopwatch.StartNew();
        var before = writer.RowsWritten;
        var n = 0;
        foreach (var tp in new DatasetGenerator(touchpoints, visitors, days, campaigns: campaignCount).Generate(_ => { }, start))
        {
            await writer.AddAsync(tp);
            if (++n == 200_000)
            {
                break;
            }
        }
        await writer.FlushAsync();
        Console.WriteLine($"Replay of the first {n:N0} touchpoints: {writer.RowsWritten - before} rows inserted, {n / replay.Elapsed.TotalSeconds:N0} touchpoints/s (generation included)");
        if (liveOrder && !args.Contains("--no-merge"))
        {
            var rowsBefore = SessionsRows(store);
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var merge = Stopwatch.StartNew();
            var mergedAway = await writer.MergeSplitSessionsAsync(new DateTimeOffset(end.AddDays(1)));
            Console.WriteLine($"Merge of split sessions (--live): sessions rows {rowsBefore:N0} ({rowsBefore / (double)rows:N2} per touchpoint) -> {SessionsRows(store):N0} " +
                              $"({mergedAway:N0} merged away) in {merge.Elapsed.TotalSeconds:N1} s, process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds:N1} s, load {LoadAverage()}");
            merge.Restart();
            var again = await writer.MergeSplitSessionsAsync(new DateTimeOffset(end.AddDays(1).AddHours(1)));
            Console.WriteLine($"  the next hour's merge (nothing new): {again:N0} rows, {merge.Elapsed.TotalMilliseconds:N0} ms");
        }
        var stopping = Stopwatch.StartNew();
        await writer.DisposeAsync(); // the last flush, journey_entries compacted to one row per journey, the final checkpoint
        Console.WriteLine($"Writer stop: {stopping.Elapsed.TotalSeconds:N1} s (journey_entries compaction {writer.StopCompaction.TotalSeconds:N1} s, then the checkpoint), load {LoadAverage()}");
    }
    var bytes = new FileInfo(path).Length + (File.Exists(path + ".wal") ? new FileInfo(path + ".wal").Length : 0);
    Console.WriteLine($"Disk: {bytes / 1048576.0:N1} MiB after checkpoint = {bytes / (double)rows:N1} bytes per touchpoint (all tables)");
}

var opening = Stopwatch.StartNew();
using (var store = new AnalyticsStore(options))
{
    Console.WriteLine($"Open (schema version {store.SchemaVersion}; migrations of an older file included): {opening.Elapsed.TotalSeconds:N1} s, load {LoadAverage()}");
    using var c = store.OpenReadConnection();
    using (var jc = c.CreateCommand())
    {
        // the funnel's roll-up: rows per journey (1.0 right after the migration or retention; the writer appends a row when a flush lowers an entry)
        jc.CommandText = "SELECT count(*), count(DISTINCT (site, vid, jkey)), (SELECT count(*) FROM journey_entries_pending), (SELECT count(*) FROM touchpoints) FROM journey_entries";
        using var jr = jc.ExecuteReader();
        jr.Read();
        var (jeRows, jeJourneys, jePending, tpCount) = (jr.GetInt64(0), jr.GetInt64(1), jr.GetInt64(2), jr.GetInt64(3));
        jr.Close();
        using (var cp = c.CreateCommand())
        {
            cp.CommandText = "CHECKPOINT";
            cp.ExecuteNonQuery();
        }
        var fileBytes = new FileInfo(path).Length + (File.Exists(path + ".wal") ? new FileInfo(path + ".wal").Length : 0);
        Console.WriteLine($"Journey entries: {jeRows:N0} rows for {jeJourneys:N0} journeys, {jePending:N0} transitions waiting for their visitor; " +
                          $"disk after checkpoint {fileBytes / 1048576.0:N1} MiB = {fileBytes / (double)Math.Max(1, tpCount):N1} bytes per touchpoint (all tables)");
    }
    using (var rc = c.CreateCommand())
    {
        rc.CommandText = "SELECT dim, count(*), sum(n) FROM attribution_paths GROUP BY dim ORDER BY dim";
        using var rr = rc.ExecuteReader();
        Console.Write("Attribution roll-up rows per dimension:");
        while (rr.Read())
        {
            Console.Write($" {AttributionDimension(rr.GetByte(0))} {rr.GetInt64(1):N0};");
        }
        Console.WriteLine();
    }
    using var cmd = c.CreateCommand();
    cmd.CommandText = """
        SELECT table_name, estimated_size, column_count FROM duckdb_tables() ORDER BY table_name
        """;
    using var rd = cmd.ExecuteReader();
    Console.Write("Rows:");
    while (rd.Read())
    {
        Console.Write($" {rd.GetString(0)} {Convert.ToInt64(rd.GetValue(1)):N0};");
    }
    Console.WriteLine();
    using var cmd2 = c.CreateCommand();
    cmd2.CommandText = """
        SELECT table_name, count(DISTINCT block_id) * 262144 AS bytes FROM (
            SELECT 'touchpoints' AS table_name, block_id FROM pragma_storage_info('touchpoints') WHERE block_id >= 0
            UNION ALL SELECT 'sessions', block_id FROM pragma_storage_info('sessions') WHERE block_id >= 0
            UNION ALL SELECT 'stage_transitions', block_id FROM pragma_storage_info('stage_transitions') WHERE block_id >= 0
            UNION ALL SELECT 'visitors', block_id FROM pragma_storage_info('visitors') WHERE block_id >= 0
            UNION ALL SELECT 'visitor_days', block_id FROM pragma_storage_info('visitor_days') WHERE block_id >= 0
            UNION ALL SELECT 'journey_entries', block_id FROM pragma_storage_info('journey_entries') WHERE block_id >= 0)
        GROUP BY table_name ORDER BY table_name
        """;
    using var rd2 = cmd2.ExecuteReader();
    Console.Write("Blocks (256 KiB, upper bound):");
    while (rd2.Read())
    {
        Console.Write($" {rd2.GetString(0)} {Convert.ToInt64(rd2.GetValue(1)) / 1048576.0:N0} MiB;");
    }
    Console.WriteLine();
}

// Views over the whole period (the last `days` days up to the end of the data).
var site = "acme";
var range = new AnalyticsRange(site, DateOnly.FromDateTime(start), DateOnly.FromDateTime(end.AddDays(-1)), TimeZoneInfo.Utc);
var all = new AnalyticsRequest(range, AnalyticsFilters.None);
string? visitor = null;
using (var store = new AnalyticsStore(options))
{
    using var c = store.OpenReadConnection();
    using var cmd = c.CreateCommand();
    cmd.CommandText = "SELECT visitor FROM visitors WHERE site = 'acme' ORDER BY vkey LIMIT 1";
    visitor = (string?)cmd.ExecuteScalar();
}
if (args.Contains("--count-only"))
{
    // The in-memory distinct count alone, over the overview's rows (read once): wall and CPU per run, on one thread and on every core.
    using var store = new AnalyticsStore(options);
    using var c = store.OpenReadConnection();
    using var rows = new DistinctVisitors.Rows();
    using (var result = NativeResult.Execute(c, $"SELECT {DistinctVisitors.ColumnsSql("day", withSums: true)} FROM visitor_days WHERE site = $site AND day BETWEEN $from AND $to",
               [new DuckDBParameter("site", site), new DuckDBParameter("from", range.From), new DuckDBParameter("to", range.To)]))
    {
        rows.Read(result, grouped: true, range.From.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber);
    }
    foreach (var threads in new int?[] { 1, null, 1, null })
    {
        var wall = new List<double>();
        var cpu = new List<double>();
        for (var i = 0; i < warmRuns; i++)
        {
            var c0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            DistinctVisitors.Count(rows, out _, threads);
            wall.Add(sw.Elapsed.TotalMilliseconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
        }
        Console.WriteLine($"count of {rows.Count:N0} rows on {(threads is null ? "every core" : "1 thread")}: wall p50 {P(wall, 0.5):N0} ms, CPU p50 {P(cpu, 0.5):N0} ms; load {LoadAverage()}");
    }
    return;
}
if (args.Contains("--no-queries"))
{
    if (!keep)
    {
        File.Delete(path);
        File.Delete(path + ".wal");
    }
    return;
}
var onlyAttribution = args.Contains("--only-attribution");
var views = new (string Name, Func<AnalyticsQueries, object?> Run)[]
{
    ("overview", q => q.Overview(all)),
    ("overview channel=Paid Search", q => q.Overview(all with { Filters = new AnalyticsFilters(Channel: "Paid Search") })),
    ("breakdown by=channel", q => q.Breakdown(all, "channel")),
    ("breakdown by=source", q => q.Breakdown(all, "source")),
    ("breakdown by=campaign", q => q.Breakdown(all, "campaign")),
    ("breakdown by=term", q => q.Breakdown(all, "term")),
    ("breakdown by=landing_page", q => q.Breakdown(all, "landing_page")),
    ("breakdown by=country stage=decision", q => q.Breakdown(all with { Filters = new AnalyticsFilters(Stage: "decision") }, "country")),
    ("funnel", q => q.Funnel(all)),
    ("funnel by=channel", q => q.Funnel(all, "channel")),
    ("funnel campaign=<top>", q => q.Funnel(all with { Filters = new AnalyticsFilters(Campaign: "brand-crm-2026") })),
    ("journeys/{id}", q => q.Journey(all, visitor!)),
    ("journeys?search=<2 chars>", q => q.SearchJourneys(all, visitor![..2])),
    ("realtime", q => q.Realtime(site, AnalyticsFilters.None, new DateTimeOffset(end, TimeSpan.Zero))),
};
// Attribution: every model (Markov included) over the whole period, per dimension.
AttributionRequest Attribution(string by, IReadOnlyList<TouchpointTracker.Attribution.AttributionModel>? models = null, int lookback = 30) =>
    new(range, by, models ?? TouchpointTracker.Attribution.AttributionModels.All, null, lookback, 7);
// Markov's non-converting paths from the roll-up (RollUp: throws rather than fall back, so a figure is never the scan's
// in disguise); "scan" = the window over every non-converting person's session starts, the way before the roll-up (A/B).
const NonConvertingSource RollUp = NonConvertingSource.RollUp;
const NonConvertingSource Scan = NonConvertingSource.Scan;
var attributionViews = new (string Name, Func<AttributionQueries, object?> Run)[]
{
    ("attribution by=channel (8 models)", q => q.Attribution(Attribution("channel"), RollUp)),
    ("attribution by=channel (8 models) scan", q => q.Attribution(Attribution("channel"), Scan)),
    ("attribution by=channel markov only", q => q.Attribution(Attribution("channel", [TouchpointTracker.Attribution.AttributionModel.Markov]), RollUp)),
    ("attribution by=channel first_touch only", q => q.Attribution(Attribution("channel", [TouchpointTracker.Attribution.AttributionModel.FirstTouch]))),
    ("attribution by=source_medium", q => q.Attribution(Attribution("source_medium"), RollUp)),
    ("attribution by=campaign (8 models)", q => q.Attribution(Attribution("campaign"), RollUp)),
    ("attribution by=campaign (8 models) scan", q => q.Attribution(Attribution("campaign"), Scan)),
    ("attribution by=term (8 models)", q => q.Attribution(Attribution("term"), RollUp)),
    ("attribution by=landing_page (8 models)", q => q.Attribution(Attribution("landing_page"), RollUp)),
    ("attribution by=channel lookback 90", q => q.Attribution(Attribution("channel", lookback: 90), RollUp)),
};
{
    using var store = new AnalyticsStore(options);
    var report = new AttributionQueries(store).Attribution(Attribution("campaign"));
    Console.WriteLine($"Attribution input: {report.Conversions:N0} conversions, revenue {report.Revenue:N0}, {report.NonConvertingPaths:N0} non-converting paths, " +
                      $"{report.Keys:N0} campaigns, average path {report.AveragePathLength:N2} touches, {report.AverageDaysToConvert:N1} days to convert");
    foreach (var by in new[] { "channel", "campaign" })
    {
        var q = new AttributionQueries(store);
        var same = System.Text.Json.JsonSerializer.Serialize(q.Attribution(Attribution(by), RollUp))
                   == System.Text.Json.JsonSerializer.Serialize(q.Attribution(Attribution(by), Scan));
        Console.WriteLine($"Attribution by={by}, every model: the roll-up's report and the scan's are {(same ? "identical" : "DIFFERENT")}");
    }
}
Console.WriteLine();
Console.WriteLine($"{"view (over " + days + " days)",-40} {"warm p50",10} {"warm p95",10} {"cold p50",10} {"cold max",10} {"CPU p50",10}  load average");
var attributionFilter = ArgS("--attribution-views");
foreach (var (name, run) in attributionViews.Where(v => attributionFilter is null || attributionFilter.Split(',').Any(f => v.Name.Contains(f, StringComparison.Ordinal))))
{
    var cold = new List<double>();
    for (var i = 0; i < Math.Min(coldRuns, 3); i++)
    {
        using var store = new AnalyticsStore(options);
        var q = new AttributionQueries(store);
        var sw = Stopwatch.StartNew();
        run(q);
        cold.Add(sw.Elapsed.TotalMilliseconds);
    }
    var warm = new List<double>();
    var cpu = new List<double>();
    using (var store = new AnalyticsStore(options))
    {
        var q = new AttributionQueries(store);
        run(q);
        for (var i = 0; i < Math.Min(warmRuns, 10); i++)
        {
            var c0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run(q);
            warm.Add(sw.Elapsed.TotalMilliseconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
        }
    }
    Console.WriteLine($"{name,-40} {P(warm, 0.5),8:N0}ms {P(warm, 0.95),8:N0}ms {P(cold, 0.5),8:N0}ms {P(cold, 1),8:N0}ms {P(cpu, 0.5),8:N0}ms  {LoadAverage()}");
}
if (Arg("--markov-keys", 3000) > 0)
{
    MarkovScale((int)Arg("--markov-keys", 3000));
}
var viewFilter = ArgS("--views");
foreach (var (name, run) in (onlyAttribution ? [] : views).Where(v => viewFilter is null || viewFilter.Split(',').Any(f => v.Name.Contains(f, StringComparison.Ordinal))))
{
    var cold = new List<double>();
    for (var i = 0; i < coldRuns; i++)
    {
        using var store = new AnalyticsStore(options);
        var q = new AnalyticsQueries(store);
        var sw = Stopwatch.StartNew();
        run(q);
        cold.Add(sw.Elapsed.TotalMilliseconds);
    }
    var warm = new List<double>();
    var cpu = new List<double>();
    var phases = new Dictionary<string, List<double>>();
    using (var store = new AnalyticsStore(options))
    {
        var q = new AnalyticsQueries(store);
        run(q);
        run(q);
        if (args.Contains("--phases"))
        {
            q.Phases = new QueryPhases();
        }
        for (var i = 0; i < warmRuns; i++)
        {
            var c0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run(q);
            warm.Add(sw.Elapsed.TotalMilliseconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
            foreach (var (phase, t) in q.Phases?.Take() ?? [])
            {
                (phases.TryGetValue(phase, out var l) ? l : phases[phase] = []).Add(t.TotalMilliseconds);
            }
        }
    }
    Console.WriteLine($"{name,-40} {P(warm, 0.5),8:N0}ms {P(warm, 0.95),8:N0}ms {P(cold, 0.5),8:N0}ms {P(cold, 1),8:N0}ms {P(cpu, 0.5),8:N0}ms  load {LoadAverage()}");
    if (phases.Count > 0)
    {
        Console.WriteLine($"  steps (warm p50): {string.Join(", ", phases.Select(p => $"{p.Key} {P(p.Value, 0.5):N0} ms"))}");
    }
}
if (!keep)
{
    File.Delete(path);
    File.Delete(path + ".wal");
}

// The 1, 5 and 15 minute load averages (the machine is shared: print them beside every figure).
static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string AttributionDimension(int dim) => new[] { "channel", "source_medium", "campaign", "term", "content", "landing_page", "click_platform" }[dim];

// Conversions are not written by AnalyticsWriter: staged with the appender, then keyed in SQL like the other tables.
static void WriteConversions(AnalyticsStore store, List<DatasetGenerator.GeneratedConversion> conversions)
{
    using var c = store.OpenReadConnection();
    void Exec(string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
    Exec("CREATE TEMP TABLE gen_conversions (conversion_id VARCHAR, type VARCHAR, ts TIMESTAMP, visitor VARCHAR, journey VARCHAR, value DOUBLE, retracted BOOLEAN)");
    using (var app = c.CreateAppender("gen_conversions"))
    {
        foreach (var x in conversions)
        {
            app.CreateRow().AppendValue(x.ConversionId).AppendValue(x.Type).AppendValue(x.Ts).AppendValue(x.VisitorId).AppendValue(x.JourneyId)
                .AppendValue(x.Value).AppendValue(x.Retracted).EndRow();
        }
    }
    Exec("""
        INSERT INTO conversions SELECT 'acme', conversion_id, type, NULL, ts, md5_number_lower(visitor), md5_number_lower(journey), NULL,
            conversion_id || CASE WHEN retracted THEN '-refund' ELSE '' END, NULL, value, CASE WHEN value IS NULL THEN NULL ELSE 'EUR' END, value, retracted
        FROM gen_conversions
        """);
}

// The Markov solve alone over a chain of many keys with cycles everywhere (one strongly connected component): random
// paths of 1-6 touches over `keys` keys, a third converting. The cost is the dense inverse of that component.
static void MarkovScale(int keys)
{
    var r = new Random(5);
    var b = new TouchpointTracker.Attribution.AttributionBuilder(TouchpointTracker.Attribution.AttributionModels.All);
    var names = Enumerable.Range(0, keys).Select(i => $"campaign-{i}").ToArray();
    var path = new List<TouchpointTracker.Attribution.Touch>();
    var sw = Stopwatch.StartNew();
    for (var p = 0; p < keys * 100; p++)
    {
        path.Clear();
        var n = 1 + r.Next(6);
        for (var i = 0; i < n; i++)
        {
            path.Add(new TouchpointTracker.Attribution.Touch(b.Key(names[(int)(keys * Math.Pow(r.NextDouble(), 1.5))]), i * TimeSpan.TicksPerDay, false));
        }
        if (r.NextDouble() < 0.33)
        {
            b.AddConversionPath(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(path), new(n * TimeSpan.TicksPerDay, 1, 100));
        }
        else
        {
            b.AddNonConvertingPath(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(path));
        }
    }
    var added = sw.Elapsed;
    b.Compute(); // once cold (JIT), then measured
    sw.Restart();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var result = b.Compute();
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    var wall = sw.Elapsed;
    // The chain's solve alone, twice (the second run is timed) on the same transitions, and the size of its largest
    // strongly connected component; GFLOP/s counts that component's factors at their nominal 4 m³/3 flops (LU 2 m³/3,
    // U⁻¹ and L⁻¹ m³/3 each; a full inverse would be 2 m³).
    var chain = new TouchpointTracker.Attribution.MarkovChain(keys);
    r = new Random(5);
    var keyPath = new int[6];
    for (var p = 0; p < keys * 100; p++)
    {
        var n = 1 + r.Next(6);
        for (var i = 0; i < n; i++)
        {
            keyPath[i] = (int)(keys * Math.Pow(r.NextDouble(), 1.5));
        }
        chain.AddPath(keyPath.AsSpan(0, n), 1, r.NextDouble() < 0.33);
    }
    chain.Solve();
    sw.Restart();
    var solveCpu = Process.GetCurrentProcess().TotalProcessorTime;
    var solution = chain.Solve();
    solveCpu = Process.GetCurrentProcess().TotalProcessorTime - solveCpu;
    var solveWall = sw.Elapsed;
    double m = solution.LargestComponent;
    Console.WriteLine($"Markov scale: {keys:N0} keys, {keys * 100:N0} paths (per-path models while adding: {added.TotalMilliseconds:N0} ms), " +
                      $"Compute with Markov {wall.TotalMilliseconds:N0} ms wall, {cpu.TotalMilliseconds:N0} ms CPU, P(conversion) {result.MarkovConversionProbability:N3}; " +
                      $"solve alone {solveWall.TotalMilliseconds:N0} ms wall, {solveCpu.TotalMilliseconds:N0} ms CPU, largest component {m:N0} keys, " +
                      $"{4 * m * m * m / 3 / solveWall.TotalSeconds / 1e9:N1} GFLOP/s ({4 * m * m * m / 3 / solveCpu.TotalSeconds / 1e9:N1} per CPU-second); load {LoadAverage()}");
}


// The q-quantile of xs (NaN when nothing was measured, e.g. --cold 0).
static double P(List<double> xs, double q)
{
    if (xs.Count == 0)
    {
        return double.NaN;
    }
    var s = xs.Order().ToList();
    return s[Math.Min(s.Count - 1, (int)Math.Ceiling(q * s.Count) - 1)];
}

long Arg(string name, long fallback)
{
    var v = ArgS(name);
    return v is null ? fallback : long.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
}

static DateTimeOffset Ts(object item) => item is Touchpoint tp ? tp.DerivedTs : ((StageTransition)item).Ts;

static long SessionsRows(AnalyticsStore store)
{
    using var c = store.OpenReadConnection();
    using var cmd = c.CreateCommand();
    cmd.CommandText = "SELECT count(*) FROM sessions";
    return Convert.ToInt64(cmd.ExecuteScalar());
}

string? ArgS(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
