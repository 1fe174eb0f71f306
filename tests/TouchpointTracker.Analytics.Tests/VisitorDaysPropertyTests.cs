using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using static TouchpointTracker.Analytics.Tests.BruteForce;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The aggregate views read the visitor_days roll-up and count visitors in memory; these properties check, over random small
/// datasets (two sites, one 13 hours ahead of UTC, sessions cut across writer batches, replays, retention, visitors coming
/// back after retention), that every answer equals a brute-force computation in SQL over the <c>sessions</c> roll-up and
/// <c>stage_transitions</c> (the queries the views ran before visitor_days existed).
/// </summary>
public sealed class VisitorDaysPropertyTests
{
    private static readonly string[] Channels = ["Organic Search", "Direct", "Paid Search", "Email", "Referral"];
    private static readonly string?[] Campaigns = [null, null, "brand", "generic", "(not set)", "nurture-1"];
    private static readonly string?[] Terms = [null, "crm", "best crm", "(not set)"];
    private static readonly string[] Pages = ["/", "/blog/a", "/blog/b", "/pricing", "/compare"];
    private static readonly string[] Countries = ["FR", "DE", "US"];
    private static readonly string[] Devices = ["Desktop", "Mobile"];
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record Generated(List<Touchpoint> Touchpoints, List<StageTransition> Transitions);

    /// <summary>Random visitors with sessions over 12 days; a session is named after its first event, as the processor does.</summary>
    private static Generated Generate(Random r, string site, int visitors, string prefix)
    {
        var tps = new List<Touchpoint>();
        var trs = new List<StageTransition>();
        for (var v = 0; v < visitors; v++)
        {
            var visitor = $"{prefix}{site}-v{v}";
            var rank = 0;
            var touchIndex = 0;
            var journeyFirst = "";
            var sessions = 1 + r.Next(4);
            for (var s = 0; s < sessions; s++)
            {
                var ts = Start.AddMinutes(r.Next(12 * 24 * 60));
                var channel = Channels[r.Next(Channels.Length)];
                var campaign = Campaigns[r.Next(Campaigns.Length)];
                var term = Terms[r.Next(Terms.Length)];
                var country = Countries[r.Next(Countries.Length)];
                var device = Devices[r.Next(Devices.Length)];
                var touches = 1 + r.Next(4);
                var sessionId = "";
                for (var i = 0; i < touches; i++)
                {
                    var ev = $"{visitor}-s{s}-t{i}";
                    if (i == 0)
                    {
                        sessionId = ev;
                    }
                    if (touchIndex == 0)
                    {
                        journeyFirst = ev;
                    }
                    touchIndex++;
                    var before = rank;
                    if (rank == 0)
                    {
                        rank = 1;
                    }
                    else if (rank < 5 && r.NextDouble() < 0.3)
                    {
                        rank++;
                    }
                    var at = ts.AddMinutes(i * 3);
                    var journey = $"{visitor}:{journeyFirst}";
                    var stage = StageNames[rank - 1];
                    var previous = before == 0 ? null : StageNames[before - 1];
                    tps.Add(new Touchpoint
                    {
                        Schema = Touchpoint.StagedSchema,
                        EventId = ev,
                        SiteId = site,
                        VisitorId = visitor,
                        SessionId = "client-" + sessionId,
                        Type = "pageview",
                        DerivedTs = at,
                        ReceivedTs = at,
                        Page = new PageInfo { Host = "www.acme.example", Path = Pages[r.Next(Pages.Length)] },
                        Referrer = i == 0 && channel == "Referral"
                            ? new ReferrerInfo { Host = "news.example", Medium = "referral" }
                            : new ReferrerInfo { Host = i == 0 ? null : "www.acme.example", Medium = i == 0 ? null : "internal" },
                        Campaign = new CampaignInfo { Source = campaign is null ? null : "google", Medium = campaign is null ? null : "cpc", Name = campaign, Term = term },
                        Channel = channel,
                        Device = new DeviceInfo { Family = device, Browser = device == "Mobile" ? "Chrome Mobile" : "Firefox", Os = device == "Mobile" ? "Android" : "Linux" },
                        Geo = new GeoInfo { Country = country },
                        Journey = new JourneyInfo
                        {
                            Id = journey, Stage = stage, PreviousStage = previous, Reasons = [], Score = touchIndex,
                            TouchIndex = touchIndex, SessionId = sessionId, SessionIndex = s + 1,
                        },
                    });
                    if (before != rank)
                    {
                        trs.Add(new StageTransition
                        {
                            SiteId = site, VisitorId = visitor, JourneyId = journey, FromStage = previous, ToStage = stage, Reasons = [],
                            EventId = ev, Ts = at, TouchIndex = touchIndex, SessionId = sessionId, Channel = channel,
                        });
                    }
                }
            }
        }
        return new Generated(tps, trs);
    }

    /// <summary>Writes the rows in random batches (so a session often spans several), replaying a random share of them.</summary>
    private static Task WriteAsync(AnalyticsWriter writer, Random r, Generated g) =>
        Dataset.WriteInRandomBatchesAsync(writer, r, [.. g.Touchpoints, .. g.Transitions], replayShare: 0.2, flushChance: 0.1);

    [Test]
    public async Task Views_over_visitor_days_equal_a_brute_force_over_sessions([Range(1, 8)] int seed)
    {
        var r = new Random(seed);
        using var dir = new TempDir();
        var options = new AnalyticsOptions
        {
            Path = dir.File("p.duckdb"),
            RetentionDays = 5,
            Sites = { ["kiwi"] = new AnalyticsSiteOptions { TimeZone = "Pacific/Auckland" } },
        };
        using var store = new AnalyticsStore(options);
        var q = new AnalyticsQueries(store);
        await using var writer = new AnalyticsWriter(store);
        foreach (var site in new[] { "acme", "kiwi" })
        {
            await WriteAsync(writer, r, Generate(r, site, 5 + r.Next(25), "a-"));
        }
        Compare(store, q, r, "after writing (with replays)");

        // retention cuts the data in the middle of a day; then new visitors and returning ones arrive
        var deleted = await writer.EnforceRetentionAsync(Start.AddDays(11).AddHours(r.Next(24)));
        Assert.That(deleted, Is.GreaterThan(0), $"seed {seed}: retention deleted nothing");
        Compare(store, q, r, "after retention");
        foreach (var site in new[] { "acme", "kiwi" })
        {
            var more = Generate(r, site, 5 + r.Next(10), r.NextDouble() < 0.5 ? "a-" : "b-");
            var kept = new Generated(
                [.. more.Touchpoints.Where(t => t.DerivedTs >= Start.AddDays(8))],
                [.. more.Transitions.Where(t => t.Ts >= Start.AddDays(8))]);
            await WriteAsync(writer, r, kept);
        }
        Compare(store, q, r, "after writing again");

        // reopening reads the visitor numbers and dimension ids back from the store
        await writer.FlushAsync();
        Assert.That(SqlLong(store, "SELECT count(*) FROM (SELECT site, vid FROM visitors GROUP BY ALL HAVING count(*) > 1)"), Is.Zero, "visitor numbers are unique per site");
        Assert.That(SqlLong(store, "SELECT count(*) FROM (SELECT dim, value FROM dim_values GROUP BY ALL HAVING count(*) > 1)"), Is.Zero, "one id per value");
    }

    [Test]
    public async Task Merged_split_sessions_hold_what_one_batch_writes([Range(1, 6)] int seed)
    {
        var r = new Random(seed);
        using var dir = new TempDir();
        AnalyticsOptions Options(string file) => new()
        {
            Path = dir.File(file),
            Sites = { ["kiwi"] = new AnalyticsSiteOptions { TimeZone = "Pacific/Auckland" } },
        };
        var data = new[] { Generate(r, "acme", 5 + r.Next(25), "a-"), Generate(r, "kiwi", 5 + r.Next(25), "a-") };
        using var whole = new AnalyticsStore(Options("whole.duckdb"));
        await using (var writer = new AnalyticsWriter(whole))
        {
            foreach (var item in data.SelectMany(g => g.Touchpoints.Cast<object>().Concat(g.Transitions)))
            {
                await (item is Touchpoint t ? writer.AddAsync(t) : writer.AddAsync((StageTransition)item));
            }
            await writer.FlushAsync();
        }
        using var split = new AnalyticsStore(Options("split.duckdb"));
        await using var live = new AnalyticsWriter(split);
        foreach (var g in data)
        {
            await WriteAsync(live, r, g); // random batches, a fifth replayed
        }
        var rowsSplit = SqlLong(split, "SELECT count(*) FROM sessions");
        await live.MergeSplitSessionsAsync(Start.AddDays(20));

        // Per session: the same totals, and the same first row (the one holding the start, with its values); a session
        // across midnight keeps a row per day here where one batch dates its only row by the first touch.
        const string Totals = """
            SELECT site, skey, vkey, min(start_ts), max(end_ts), sum(touches), sum(starts), max(max_rank), bit_or(entered)
            FROM sessions GROUP BY ALL ORDER BY ALL
            """;
        const string FirstRows = """
            SELECT site, skey, day, start_ts, channel, source, medium, campaign, term, content, click_platform, landing_page,
                   referrer_host, device, browser, os, country FROM sessions WHERE starts = 1 ORDER BY ALL
            """;
        Assert.Multiple(() =>
        {
            Assert.That(rowsSplit, Is.GreaterThan(SqlLong(whole, "SELECT count(*) FROM sessions")), $"seed {seed}: sessions were split");
            Assert.That(SqlRows(split, Totals), Is.EqualTo(SqlRows(whole, Totals)), $"seed {seed}: totals");
            Assert.That(SqlRows(split, FirstRows), Is.EqualTo(SqlRows(whole, FirstRows)), $"seed {seed}: first rows");
            Assert.That(SqlLong(split, "SELECT count(*) FROM (SELECT site, skey, day FROM sessions GROUP BY ALL HAVING count(*) > 1)"), Is.Zero,
                $"seed {seed}: one row per session and day");
            Assert.That(SqlLong(split, "SELECT count(*) FROM visitor_days"), Is.EqualTo(SqlLong(split, "SELECT count(*) FROM sessions")),
                $"seed {seed}: visitor_days follows sessions");
        });
    }

    [Test]
    public void A_store_without_visitor_days_is_upgraded_from_its_sessions()
    {
        // step 4 backfills from sessions: build a version-3 file by hand (the tables of steps 1-3 with a few rows), open it
        using var dir = new TempDir();
        var path = dir.File("old.duckdb");
        using (var c = new DuckDB.NET.Data.DuckDBConnection($"Data Source={path}"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL);\n" +
                string.Join(";\n", Migrations.Steps.Take(3)) + """
                ;
                INSERT INTO schema_version VALUES (1, now()::TIMESTAMP), (2, now()::TIMESTAMP), (3, now()::TIMESTAMP);
                INSERT INTO visitors VALUES ('acme', 11, 'v-1', TIMESTAMP '2026-03-01 10:00'), ('acme', 22, 'v-2', TIMESTAMP '2026-03-01 09:00'),
                                            ('other', 11, 'v-1', TIMESTAMP '2026-03-02 10:00');
                INSERT INTO sessions (site, skey, vkey, day, start_ts, end_ts, touches, starts, max_rank, entered, channel, campaign, country) VALUES
                    ('acme', 1, 11, DATE '2026-03-01', TIMESTAMP '2026-03-01 10:00', TIMESTAMP '2026-03-01 10:05', 2, 1, 2, 6, 'Direct', NULL, 'FR'),
                    ('acme', 2, 22, DATE '2026-03-01', TIMESTAMP '2026-03-01 09:00', TIMESTAMP '2026-03-01 09:00', 1, 1, 1, 2, 'Email', 'nurture', 'DE'),
                    ('acme', 3, 11, DATE '2026-03-02', TIMESTAMP '2026-03-02 08:00', TIMESTAMP '2026-03-02 08:00', 1, 1, 2, 0, 'Email', 'nurture', 'FR'),
                    ('other', 4, 11, DATE '2026-03-02', TIMESTAMP '2026-03-02 10:00', TIMESTAMP '2026-03-02 10:00', 3, 1, 1, 2, 'Direct', NULL, 'US');
                """;
            cmd.ExecuteNonQuery();
        }
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = path });
        Assert.Multiple(() =>
        {
            Assert.That(store.SchemaVersion, Is.EqualTo(Migrations.Steps.Length));
            // numbered per site in order of first appearance
            Assert.That(SqlLong(store, "SELECT vid FROM visitors WHERE site = 'acme' AND vkey = 22"), Is.EqualTo(1));
            Assert.That(SqlLong(store, "SELECT vid FROM visitors WHERE site = 'acme' AND vkey = 11"), Is.EqualTo(2));
            Assert.That(SqlLong(store, "SELECT vid FROM visitors WHERE site = 'other' AND vkey = 11"), Is.EqualTo(1));
            Assert.That(SqlLong(store, "SELECT count(*) FROM visitor_days"), Is.EqualTo(4));
            Assert.That(SqlLong(store, "SELECT count(*) FROM dim_values WHERE dim = 0"), Is.EqualTo(2)); // Direct, Email
        });
        var q = new AnalyticsQueries(store);
        var request = new AnalyticsRequest(new AnalyticsRange("acme", new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 2), TimeZoneInfo.Utc), AnalyticsFilters.None);
        Compare(store, q, new Random(1), "after the upgrade", ["acme"], request.Range.From, request.Range.To);
    }

    private static readonly (string Api, string Column)[] Dimensions =
        [.. AnalyticsVocabulary.Dimensions.Select(d => (d, AnalyticsQueries.Column(d)))];

    /// <summary>Every aggregate view, unfiltered and under a random filter, against the brute force.</summary>
    private static void Compare(AnalyticsStore store, AnalyticsQueries q, Random r, string when,
        string[]? sites = null, DateOnly? from = null, DateOnly? to = null)
    {
        foreach (var site in sites ?? ["acme", "kiwi"])
        {
            var zone = store.Options.TimeZoneOf(site);
            var f = from ?? DateOnly.FromDateTime(Start.UtcDateTime).AddDays(r.Next(3));
            var t = to ?? DateOnly.FromDateTime(Start.UtcDateTime).AddDays(8 + r.Next(6));
            var range = new AnalyticsRange(site, f, t, zone);
            var filters = new (AnalyticsFilters Filters, string Sql)[]
            {
                (AnalyticsFilters.None, ""),
                (new AnalyticsFilters(Channel: "Email"), " AND channel = 'Email'"),
                (new AnalyticsFilters(Campaign: "(not set)"), " AND campaign = '(not set)'"),
                (new AnalyticsFilters(Campaign: "brand", Device: "Mobile"), " AND campaign = 'brand' AND device = 'Mobile'"),
                (new AnalyticsFilters(Stage: "consideration"), " AND max_rank = 2"),
                (new AnalyticsFilters(Country: "nowhere"), " AND country = 'nowhere'"),
            };
            foreach (var (filter, sql) in filters)
            {
                var where = $"site = '{site}' AND day BETWEEN DATE '{f:yyyy-MM-dd}' AND DATE '{t:yyyy-MM-dd}'{sql}";
                var context = $"{when}, site {site}, {f}..{t}, filter '{sql}'";
                var request = new AnalyticsRequest(range, filter);

                var overview = q.Overview(request);
                var expected = OverviewRows(store, where);
                var actual = overview.Days.Where(d => d.Visitors > 0)
                    .Select(d => Row(d.Day.ToString("yyyy-MM-dd"), d.Visitors, d.Sessions, d.Touchpoints, d.Reached, d.Entered))
                    .Prepend(Row("total", overview.Visitors, overview.Sessions, overview.Touchpoints, overview.Reached, overview.Entered))
                    .ToList();
                Assert.That(actual, Is.EqualTo(expected), $"overview, {context}");

                foreach (var (api, column) in Dimensions)
                {
                    var breakdown = q.Breakdown(request, api, 1000);
                    Assert.That(breakdown.Rows.Select(b => Row(b.Value, b.Visitors, b.Sessions, b.Touchpoints, b.Reached, null)).ToList(),
                        Is.EqualTo(BreakdownRows(store, where, column)), $"breakdown by {api}, {context}");
                }

                var funnel = q.Funnel(request);
                var expectedFunnel = FunnelRows(store, where, range.ToUtcExclusive, site);
                Assert.That(funnel.Stages.Select(s => $"{s.Stage} {s.Visitors} {s.TimedJourneys} {s.MedianSecondsFromPrevious} {s.P75SecondsFromPrevious}").ToList(),
                    Is.EqualTo(expectedFunnel), $"funnel, {context}");
                var byChannel = q.Funnel(request, "channel");
                Assert.That(byChannel.Groups!.Select(g => g.Value.Replace(" ", "_") + " " + string.Join(",", g.Stages.Select(s => s.Visitors))).ToList(),
                    Is.EqualTo(BreakdownRows(store, where, "channel").Take(20).Select(b => b.Split(' ')[0] + " " + string.Join(",", b.Split(' ')[4..9])).ToList()),
                    $"funnel by channel, {context}");
            }
        }
    }

    private static string Row(string key, long visitors, long sessions, long touches, Dictionary<string, long> reached, Dictionary<string, long>? entered) =>
        $"{key.Replace(' ', '_')} {visitors} {sessions} {touches} {string.Join(' ', StageNames.Select(s => reached[s]))}" +
        (entered is null ? "" : " " + string.Join(' ', StageNames.Select(s => entered[s])));

    // The brute force: the views' SQL over sessions before visitor_days.
    private static List<string> OverviewRows(AnalyticsStore store, string where) => Strings(store, $"""
        WITH v AS (SELECT day, vkey, sum(starts) AS s, sum(touches) AS t, max(max_rank) AS r, bit_or(entered) AS e FROM sessions WHERE {where} GROUP BY day, vkey),
        w AS (SELECT NULL::DATE AS day, vkey, sum(s) AS s, sum(t) AS t, max(r) AS r, bit_or(e) AS e FROM v GROUP BY vkey)
        SELECT coalesce(strftime(day, '%Y-%m-%d'), 'total') || ' ' || count(*) || ' ' || coalesce(sum(s), 0) || ' ' || coalesce(sum(t), 0)
               || ' ' || count(*) FILTER (r >= 1) || ' ' || count(*) FILTER (r >= 2) || ' ' || count(*) FILTER (r >= 3) || ' ' || count(*) FILTER (r >= 4) || ' ' || count(*) FILTER (r >= 5)
               || ' ' || count(*) FILTER (e & 2 <> 0) || ' ' || count(*) FILTER (e & 4 <> 0) || ' ' || count(*) FILTER (e & 8 <> 0) || ' ' || count(*) FILTER (e & 16 <> 0) || ' ' || count(*) FILTER (e & 32 <> 0)
        FROM (SELECT * FROM v UNION ALL SELECT * FROM w) GROUP BY day ORDER BY day NULLS FIRST
        """, totalIfEmpty: "total 0 0 0 0 0 0 0 0 0 0 0 0 0");

    private static List<string> BreakdownRows(AnalyticsStore store, string where, string column) => Strings(store, $"""
        WITH v AS (SELECT coalesce({column}, '(not set)') AS value, vkey, sum(starts) AS s, sum(touches) AS t, max(max_rank) AS r FROM sessions WHERE {where} GROUP BY ALL)
        SELECT replace(value, ' ', '_') || ' ' || count(*) || ' ' || sum(s) || ' ' || sum(t) || ' ' || count(*) FILTER (r >= 1) || ' ' || count(*) FILTER (r >= 2)
               || ' ' || count(*) FILTER (r >= 3) || ' ' || count(*) FILTER (r >= 4) || ' ' || count(*) FILTER (r >= 5)
        FROM v GROUP BY value ORDER BY count(*) DESC, value
        """);
}
