using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using static TouchpointTracker.Analytics.Tests.BruteForce;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The funnel's times read the <c>journey_entries</c> roll-up the writer keeps. Over random datasets (two sites, one 13 hours
/// ahead of UTC; visitors with several journeys; corrected transitions that move a stage back in time; transitions written
/// before their visitor's touchpoints, some of visitors never seen; replays; retention; visitors returning after it), these
/// properties check that the roll-up kept flush by flush equals one rebuilt from scratch out of <c>stage_transitions</c>, and
/// that the funnel equals a brute force over <c>sessions</c> and <c>stage_transitions</c>.
/// </summary>
public sealed class JourneyEntriesPropertyTests
{
    private static readonly string[] Channels = ["Organic Search", "Direct", "Paid Search", "Email"];
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record Generated(List<Touchpoint> Touchpoints, List<StageTransition> Transitions);

    private static Generated Generate(Random r, string site, int visitors, string prefix)
    {
        var tps = new List<Touchpoint>();
        var trs = new List<StageTransition>();
        for (var v = 0; v < visitors; v++)
        {
            var visitor = $"{prefix}{site}-v{v}";
            var rank = 0;
            var touchIndex = 0;
            var journey = "";
            var entries = new List<(int Rank, DateTimeOffset At)>();
            var sessions = 1 + r.Next(4);
            var ts = Start.AddMinutes(r.Next(6 * 24 * 60));
            for (var s = 0; s < sessions; s++)
            {
                ts = ts.AddMinutes(30 + r.Next(3 * 24 * 60));
                if (s > 0 && r.NextDouble() < 0.25)
                {
                    rank = 0; // a new journey for the same visitor
                }
                var channel = Channels[r.Next(Channels.Length)];
                var touches = 1 + r.Next(4);
                var sessionId = "";
                for (var i = 0; i < touches; i++)
                {
                    var ev = $"{visitor}-s{s}-t{i}";
                    var at = ts.AddMinutes(i * 3);
                    if (i == 0)
                    {
                        sessionId = ev;
                    }
                    if (rank == 0)
                    {
                        journey = $"{visitor}:{ev}";
                        entries.Clear();
                        touchIndex = 0;
                    }
                    touchIndex++;
                    var before = rank;
                    if (rank == 0)
                    {
                        rank = 1;
                    }
                    else if (rank < 5 && r.NextDouble() < 0.35)
                    {
                        rank = Math.Min(5, rank + 1 + (r.NextDouble() < 0.2 ? 1 : 0)); // now and then a stage skipped
                    }
                    tps.Add(Touch(site, visitor, ev, sessionId, at, channel, journey, StageNames[rank - 1], before == 0 ? null : StageNames[before - 1], touchIndex, s + 1));
                    if (before != rank)
                    {
                        trs.Add(Transition(site, visitor, journey, before, rank, ev, at, touchIndex, sessionId, channel));
                        entries.Add((rank, at));
                    }
                }
                if (entries.Count > 1 && r.NextDouble() < 0.3)
                {
                    // a late touch moves a stage back in time: a corrected transition earlier than the stage's entry
                    var (k, kAt) = entries[1 + r.Next(entries.Count - 1)];
                    var earlier = kAt.AddMinutes(-1 - r.Next(24 * 60));
                    var tr = Transition(site, visitor, journey, k - 1, k, $"{visitor}-late-{s}", earlier, touchIndex, sessionId, "Offline");
                    tr.Kind = StageTransition.CorrectedKind;
                    tr.ReplacesTs = kAt;
                    trs.Add(tr);
                }
            }
        }
        // a few transitions of visitors whose touchpoints never arrive
        for (var i = 0; i < 1 + r.Next(3); i++)
        {
            trs.Add(Transition(site, $"ghost-{prefix}{site}-{i}", $"ghost-{prefix}{site}-{i}:e", 0, 1, $"ghost-{prefix}{site}-{i}-e", Start.AddHours(r.Next(200)), 1, "g", "Direct"));
        }
        return new Generated(tps, trs);
    }

    private static Touchpoint Touch(string site, string visitor, string ev, string sessionId, DateTimeOffset at, string channel, string journey,
        string stage, string? previous, int touchIndex, int sessionIndex) => new()
    {
        Schema = Touchpoint.StagedSchema,
        EventId = ev,
        SiteId = site,
        VisitorId = visitor,
        SessionId = "client-" + sessionId,
        Type = "pageview",
        DerivedTs = at,
        ReceivedTs = at,
        Page = new PageInfo { Host = "www.acme.example", Path = "/" },
        Referrer = new ReferrerInfo { Host = null, Medium = null },
        Campaign = new CampaignInfo(),
        Channel = channel,
        Device = new DeviceInfo { Family = "Desktop", Browser = "Firefox", Os = "Linux" },
        Geo = new GeoInfo { Country = "FR" },
        Journey = new JourneyInfo
        {
            Id = journey, Stage = stage, PreviousStage = previous, Reasons = [], Score = touchIndex,
            TouchIndex = touchIndex, SessionId = sessionId, SessionIndex = sessionIndex,
        },
    };

    private static StageTransition Transition(string site, string visitor, string journey, int from, int to, string ev, DateTimeOffset at,
        int touchIndex, string sessionId, string channel) => new()
    {
        SiteId = site, VisitorId = visitor, JourneyId = journey, FromStage = from == 0 ? null : StageNames[from - 1], ToStage = StageNames[to - 1],
        Reasons = [], EventId = ev, Ts = at, TouchIndex = touchIndex, SessionId = sessionId, Channel = channel,
    };

    /// <summary>
    /// Writes in random batches; a share of the transitions goes in before every touchpoint (their visitors are not stored
    /// yet), and a share of everything is replayed.
    /// </summary>
    private static Task WriteAsync(AnalyticsWriter writer, Random r, Generated g)
    {
        var early = g.Transitions.Where(_ => r.NextDouble() < 0.15).ToList();
        return Dataset.WriteInRandomBatchesAsync(writer, r, [.. early, .. g.Touchpoints, .. g.Transitions.Except(early)], replayShare: 0.2, flushChance: 0.08);
    }

    [Test]
    public async Task The_roll_up_kept_by_the_writer_equals_one_rebuilt_from_scratch_and_the_funnel_a_brute_force([Range(1, 6)] int seed)
    {
        var r = new Random(seed);
        using var dir = new TempDir();
        var options = new AnalyticsOptions
        {
            Path = dir.File("j.duckdb"),
            RetentionDays = 6,
            Sites = { ["kiwi"] = new AnalyticsSiteOptions { TimeZone = "Pacific/Auckland" } },
        };
        using var store = new AnalyticsStore(options);
        var q = new AnalyticsQueries(store);
        await using var writer = new AnalyticsWriter(store);
        foreach (var site in new[] { "acme", "kiwi" })
        {
            await WriteAsync(writer, r, Generate(r, site, 10 + r.Next(25), "a-"));
        }
        Check(store, q, r, "after writing (early transitions, corrections, replays)");
        Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries_pending"), Is.GreaterThan(0), "the visitors never seen leave transitions waiting");

        var deleted = await writer.EnforceRetentionAsync(Start.AddDays(12).AddHours(r.Next(24)));
        Assert.That(deleted, Is.GreaterThan(0), $"seed {seed}: retention deleted nothing");
        Check(store, q, r, "after retention");
        Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries") - SqlLong(store, "SELECT count(DISTINCT (site, vid, jkey)) FROM journey_entries"),
            Is.Zero, "retention leaves one row per journey");

        // returning visitors (same ids: their transitions after the cutoff wait for them if retention deleted them) and new ones
        foreach (var site in new[] { "acme", "kiwi" })
        {
            var more = Generate(r, site, 10 + r.Next(15), r.NextDouble() < 0.5 ? "a-" : "b-");
            await WriteAsync(writer, r, new Generated(
                [.. more.Touchpoints.Where(t => t.DerivedTs >= Start.AddDays(9))],
                [.. more.Transitions.Where(t => t.Ts >= Start.AddDays(9))]));
        }
        Check(store, q, r, "after writing again");
    }

    /// <summary>
    /// Journeys whose stages arrive over several flushes (a later stage, a corrected transition that moves a stage earlier, a
    /// repeated transition that changes nothing) get a row per change while the writer runs, one row per journey once it
    /// stops (or once the superseded rows reach a quarter of the table), equal to a rebuild; a replay by a new writer inserts
    /// nothing and leaves one row per journey.
    /// </summary>
    [Test]
    public async Task Journeys_changed_over_several_flushes_end_with_one_row_each_and_a_replay_inserts_nothing()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("one.duckdb") };
        using var store = new AnalyticsStore(options);
        const int journeys = 40;
        var t0 = Start.AddDays(1);
        var all = new List<object>();
        string Visitor(int v) => $"one-v{v}";
        string Journey(int v) => $"{Visitor(v)}:first";
        async Task Flush(AnalyticsWriter writer, IEnumerable<object> items)
        {
            foreach (var item in items)
            {
                all.Add(item);
                await (item is Touchpoint tp ? writer.AddAsync(tp) : writer.AddAsync((StageTransition)item));
            }
            await writer.FlushAsync();
        }
        IEnumerable<object> Step(int step, Func<int, bool> which, int to, TimeSpan at)
        {
            for (var v = 0; v < journeys; v++)
            {
                if (!which(v))
                {
                    continue;
                }
                var ev = $"{Visitor(v)}-{step}";
                yield return Touch("acme", Visitor(v), ev, ev, t0 + at, "Direct", Journey(v), StageNames[to - 1], to == 1 ? null : StageNames[to - 2], step + 1, step + 1);
                yield return Transition("acme", Visitor(v), Journey(v), to - 1, to, ev, t0 + at, step + 1, ev, "Direct");
            }
        }
        await using (var writer = new AnalyticsWriter(store))
        {
            await Flush(writer, Step(0, _ => true, 1, TimeSpan.FromHours(1))); // every journey enters awareness
            await Flush(writer, Step(1, v => v % 8 == 0, 2, TimeSpan.FromHours(5))); // a few move on
            await Flush(writer, Step(2, v => v % 8 == 0, 2, TimeSpan.FromHours(3))); // a corrected, earlier consideration
            await Flush(writer, Step(3, v => v % 4 == 1, 1, TimeSpan.FromHours(2))); // a later awareness changes nothing
            Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries"), Is.EqualTo(journeys + 2 * journeys / 8), "a row per change while the writer runs");
            await Flush(writer, Step(4, v => v % 2 == 0, 3, TimeSpan.FromHours(6))); // decision for half of them
            Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries"), Is.EqualTo(journeys),
                "the superseded rows were compacted once they reached a quarter of the table");
            await Flush(writer, Step(5, v => v % 8 == 0, 4, TimeSpan.FromHours(7))); // retention for a few
            Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries"), Is.EqualTo(journeys + journeys / 8));
        }
        long Rows() => SqlLong(store, "SELECT count(*) FROM journey_entries");
        Assert.That(Rows(), Is.EqualTo(journeys), "one row per journey once the writer stopped");
        using (var c = store.OpenReadConnection())
        {
            RebuildCopies(c);
            Assert.Multiple(() =>
            {
                Assert.That(Strings(c, Folded), Is.EqualTo(Strings(c, Folded.Replace("FROM journey_entries", "FROM je_rebuilt"))).And.Count.EqualTo(journeys),
                    "equal to a rebuild from the transitions");
                Assert.That(Strings(c, "SELECT count(*)::VARCHAR FROM journey_entries WHERE e2 = TIMESTAMP '2026-03-02 03:00:00' AND e4 IS NOT NULL"),
                    Is.EqualTo(new[] { (journeys / 8).ToString(System.Globalization.CultureInfo.InvariantCulture) }), "the corrected entries");
            });
        }
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var item in all)
            {
                await (item is Touchpoint tp ? writer.AddAsync(tp) : writer.AddAsync((StageTransition)item));
            }
            await writer.FlushAsync();
            Assert.That(writer.RowsWritten, Is.Zero, "a replay inserts nothing");
        }
        Assert.That(Rows(), Is.EqualTo(journeys), "and leaves one row per journey");
    }

    [Test]
    public async Task A_store_without_the_roll_up_gets_it_from_its_transitions_at_open()
    {
        // step 6 on an existing store: write through the writer, drop the roll-up and its version row, open again
        var r = new Random(11);
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("m.duckdb") };
        List<string> kept, pending;
        using (var store = new AnalyticsStore(options))
        {
            await using (var writer = new AnalyticsWriter(store))
            {
                await WriteAsync(writer, r, Generate(r, "acme", 30, "m-"));
            }
            kept = Strings(store, Folded);
            pending = Strings(store, Pending);
            using var c = store.OpenReadConnection();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE journey_entries; DROP TABLE journey_entries_pending; DELETE FROM schema_version WHERE version = 6;";
            cmd.ExecuteNonQuery();
        }
        using (var store = new AnalyticsStore(options))
        {
            Assert.Multiple(() =>
            {
                Assert.That(store.SchemaVersion, Is.EqualTo(Migrations.Steps.Length));
                Assert.That(Strings(store, Folded), Is.EqualTo(kept).And.Not.Empty, "journey_entries backfilled");
                Assert.That(Strings(store, Pending), Is.EqualTo(pending).And.Not.Empty, "transitions of unknown visitors wait");
                Assert.That(SqlLong(store, "SELECT count(*) FROM journey_entries") - SqlLong(store, "SELECT count(DISTINCT (site, vid, jkey)) FROM journey_entries"),
                    Is.Zero, "one row per journey");
            });
        }
    }

    /// <summary>Rebuilds the roll-up from the stored transitions into the temp tables je_rebuilt and jp_rebuilt (read back like the real ones).</summary>
    private static void RebuildCopies(DuckDB.NET.Data.DuckDBConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            CREATE OR REPLACE TEMP TABLE je_rebuilt AS SELECT * FROM journey_entries LIMIT 0;
            CREATE OR REPLACE TEMP TABLE jp_rebuilt AS SELECT * FROM journey_entries_pending LIMIT 0;
            """ + JourneyEntries.RebuildInto("je_rebuilt", "jp_rebuilt");
        cmd.ExecuteNonQuery();
    }

    /// <summary>The roll-up against a rebuild, and the funnel (unfiltered, filtered, cut before the data ends) against the brute force.</summary>
    private static void Check(AnalyticsStore store, AnalyticsQueries q, Random r, string when)
    {
        // kept == rebuilt: per journey the minimum of its rows, and the waiting transitions
        var kept = Strings(store, Folded);
        var pending = Strings(store, Pending);
        Assert.That(SqlLong(store, """
            SELECT count(*) FROM (SELECT site, vid, jkey, min(e1) m1, min(e2) m2, min(e3) m3, min(e4) m4, min(e5) m5 FROM journey_entries GROUP BY ALL) g
            WHERE NOT EXISTS (SELECT 1 FROM journey_entries j WHERE j.site = g.site AND j.vid = g.vid AND j.jkey = g.jkey
                AND j.e1 IS NOT DISTINCT FROM g.m1 AND j.e2 IS NOT DISTINCT FROM g.m2 AND j.e3 IS NOT DISTINCT FROM g.m3
                AND j.e4 IS NOT DISTINCT FROM g.m4 AND j.e5 IS NOT DISTINCT FROM g.m5)
            """), Is.Zero, $"{when}: each journey has a row holding all its first entries");
        using (var c = store.OpenReadConnection())
        {
            RebuildCopies(c);
            Assert.Multiple(() =>
            {
                Assert.That(kept, Is.EqualTo(Strings(c, Folded.Replace("FROM journey_entries", "FROM je_rebuilt"))), $"{when}: journey_entries");
                Assert.That(pending, Is.EqualTo(Strings(c, Pending.Replace("FROM journey_entries_pending", "FROM jp_rebuilt"))), $"{when}: pending");
            });
        }
        Assert.That(kept, Is.Not.Empty);

        foreach (var site in new[] { "acme", "kiwi" })
        {
            var zone = store.Options.TimeZoneOf(site);
            var f = DateOnly.FromDateTime(Start.UtcDateTime).AddDays(r.Next(4));
            foreach (var t in new[] { f.AddDays(3 + r.Next(4)), DateOnly.FromDateTime(Start.UtcDateTime).AddDays(30) })
            {
                var range = new AnalyticsRange(site, f, t, zone);
                foreach (var (filter, sql) in new (AnalyticsFilters, string)[]
                         {
                             (AnalyticsFilters.None, ""),
                             (new AnalyticsFilters(Channel: "Email"), " AND channel = 'Email'"),
                             (new AnalyticsFilters(Stage: "decision"), " AND max_rank = 3"),
                         })
                {
                    var where = $"site = '{site}' AND day BETWEEN DATE '{f:yyyy-MM-dd}' AND DATE '{t:yyyy-MM-dd}'{sql}";
                    var funnel = q.Funnel(new AnalyticsRequest(range, filter));
                    Assert.That(funnel.Stages.Select(s => $"{s.Stage} {s.Visitors} {s.TimedJourneys} {s.MedianSecondsFromPrevious} {s.P75SecondsFromPrevious}").ToList(),
                        Is.EqualTo(FunnelRows(store, where, range.ToUtcExclusive, site)), $"funnel, {when}, site {site}, {f}..{t}, filter '{sql}'");
                }
            }
        }
    }

    private const string Folded = """
        SELECT site || ' ' || vid || ' ' || jkey || ' ' || coalesce(strftime(min(e1), '%Y-%m-%d %H:%M:%S.%f'), '-') || ' ' || coalesce(strftime(min(e2), '%Y-%m-%d %H:%M:%S.%f'), '-')
               || ' ' || coalesce(strftime(min(e3), '%Y-%m-%d %H:%M:%S.%f'), '-') || ' ' || coalesce(strftime(min(e4), '%Y-%m-%d %H:%M:%S.%f'), '-')
               || ' ' || coalesce(strftime(min(e5), '%Y-%m-%d %H:%M:%S.%f'), '-')
        FROM journey_entries GROUP BY site, vid, jkey ORDER BY 1
        """;

    private const string Pending = """
        SELECT site || ' ' || vkey || ' ' || jkey || ' ' || to_rank || ' ' || strftime(ts, '%Y-%m-%d %H:%M:%S.%f') FROM journey_entries_pending ORDER BY 1
        """;
}
