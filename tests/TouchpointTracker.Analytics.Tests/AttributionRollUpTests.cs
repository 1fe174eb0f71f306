using System.Text.Json;
using DuckDB.NET.Data;
using TouchpointTracker.Attribution;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The attribution roll-up (<c>attribution_paths</c>) against the scan it replaces, on random datasets written through the
/// real writer into a real DuckDB file: touches arriving out of order over many flushes, visitors linked to persons after
/// their first sessions (their earlier sessions move into the person's path), ties in time, conversions, refunds, replayed
/// batches, and retention. Every report (every model, Markov included, every dimension, several ranges, lookbacks and
/// conversion types) must be the same to the bit from the roll-up and from the scan, and the roll-up kept by the writer
/// must hold the same counts as one rebuilt from the stored sessions.
/// </summary>
public sealed class AttributionRollUpTests
{
    private const string Site = "acme";
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Channels = ["Direct", "Email", "Organic Search", "Paid Search", "Referral"];
    private static readonly string?[] Campaigns = [null, "brand", "nurture", "spring-sale"];
    private static readonly string[] Pages = ["/", "/pricing", "/blog/a", "/blog/b", "/features"];

    private sealed record Generated(List<List<Touchpoint>> Batches);

    /// <summary>A random dataset over 60 days: visitors with 1 to 6 sessions, a third linked to one of a few persons by an identify, conversions and refunds.</summary>
    private static Generated Generate(int seed)
    {
        var r = new Random(seed);
        var all = new List<Touchpoint>();
        var persons = Enumerable.Range(0, 6).Select(i => $"person-{seed}-{i}").ToArray();
        var visitors = 30 + r.Next(30);
        var conversions = 0;
        for (var v = 0; v < visitors; v++)
        {
            var visitor = $"v{seed}-{v}";
            string? person = r.Next(3) == 0 ? persons[r.Next(persons.Length)] : null;
            var sessions = 1 + r.Next(6);
            var times = Enumerable.Range(0, sessions).Select(_ => T0.AddMinutes(r.Next(60 * 24 * 60))).Order().ToList();
            if (r.Next(5) == 0 && sessions > 1)
            {
                times[1] = times[0]; // two sessions starting at the same instant: the path orders them by key
            }
            for (var s = 0; s < sessions; s++)
            {
                var ev = $"{visitor}-s{s}";
                var channel = Channels[r.Next(Channels.Length)];
                // the identify comes with a later session, so the visitor's first sessions are anonymous until then
                var linked = person is not null && s >= sessions / 2 ? person : null;
                ConversionInfo? conversion = null;
                if (r.Next(4) == 0)
                {
                    var purchase = r.Next(2) == 0;
                    conversion = new ConversionInfo
                    {
                        ConversionId = $"c{seed}-{conversions++}", Type = purchase ? "purchase" : "lead",
                        Value = purchase ? 10 + r.Next(500) : null, Currency = purchase ? "EUR" : null, OrderId = purchase ? $"o{seed}-{conversions}" : null,
                    };
                }
                all.Add(Tp(ev, visitor, ev, times[s], channel, Campaigns[r.Next(Campaigns.Length)], Pages[r.Next(Pages.Length)], linked, conversion));
                if (conversion is { Type: "purchase" } && r.Next(4) == 0)
                {
                    // refunded five days later: a retracting row
                    var refund = new ConversionInfo
                    {
                        ConversionId = $"c{seed}-{conversions++}", Type = "refund", Value = -conversion.Value, Currency = "EUR", OrderId = conversion.OrderId,
                        Retracts = conversion.ConversionId,
                    };
                    all.Add(Tp(ev + "-refund", visitor, ev, times[s].AddDays(5), channel, null, "/account", linked, refund));
                }
                if (r.Next(3) == 0)
                {
                    // a second touch of the same session (not a touch of its own)
                    all.Add(Tp(ev + "-p2", visitor, ev, times[s].AddMinutes(3), channel, null, "/pricing", linked, null));
                }
            }
        }
        // arrival: shuffled (late and early touches), cut into batches; some batches replayed later
        var shuffled = all.OrderBy(_ => r.Next()).ToList();
        var batches = new List<List<Touchpoint>>();
        for (var i = 0; i < shuffled.Count;)
        {
            var n = 1 + r.Next(40);
            batches.Add(shuffled.GetRange(i, Math.Min(n, shuffled.Count - i)));
            i += n;
        }
        foreach (var replay in Enumerable.Range(0, 3).Select(_ => batches[r.Next(batches.Count)]).ToList())
        {
            batches.Insert(r.Next(batches.Count + 1), [.. replay]);
        }
        return new Generated(batches);
    }

    private static Touchpoint Tp(string ev, string visitor, string session, DateTimeOffset ts, string channel, string? campaign, string path, string? person,
                                 ConversionInfo? conversion) => new()
    {
        Schema = Touchpoint.StagedSchema, EventId = ev, SiteId = Site, VisitorId = visitor, SessionId = "client-" + session, Type = "pageview",
        DerivedTs = ts, ReceivedTs = ts, Channel = channel,
        Page = new PageInfo { Host = "www.acme.example", Path = path, Url = "https://www.acme.example" + path },
        Campaign = new CampaignInfo { Name = campaign, Source = campaign is null ? null : "news", Medium = campaign is null ? null : "email" },
        Journey = new JourneyInfo
        {
            Id = visitor + ":first", Stage = "awareness", TouchIndex = 1, SessionId = session, SessionIndex = 1, PersonId = person, Conversion = conversion,
        },
    };

    private static IEnumerable<AttributionRequest> Requests(TimeZoneInfo zone)
    {
        DateOnly D(int day) => DateOnly.FromDateTime(T0.AddDays(day).UtcDateTime);
        foreach (var (from, to) in new[] { (0, 59), (10, 40), (25, 26), (45, 70) })
        {
            var range = new AnalyticsRange(Site, D(from), D(to), zone);
            foreach (var by in AttributionQueries.Dimensions.Keys)
            {
                yield return new AttributionRequest(range, by, AttributionModels.All, null, 30, 7);
            }
            yield return new AttributionRequest(range, "channel", [AttributionModel.Markov, AttributionModel.FirstTouch], "purchase", 7, 7);
            yield return new AttributionRequest(range, "campaign", AttributionModels.All, "lead", 90, 3);
        }
    }

    private static void AssertSameReports(AnalyticsStore store, TimeZoneInfo zone, string when)
    {
        var q = new AttributionQueries(store);
        var checkedMarkov = 0;
        foreach (var request in Requests(zone))
        {
            var rolled = q.Attribution(request, NonConvertingSource.RollUp);
            var scanned = q.Attribution(request, NonConvertingSource.Scan);
            Assert.That(JsonSerializer.Serialize(rolled), Is.EqualTo(JsonSerializer.Serialize(scanned)),
                $"{when}: by={request.By} {request.Range.From}..{request.Range.To} type={request.ConversionType} lookback={request.LookbackDays}");
            checkedMarkov += rolled.Rows.Any(row => row.Conversions.GetValueOrDefault("markov") is > 0 and < 1e9) ? 1 : 0;
        }
        Assert.That(checkedMarkov, Is.GreaterThan(0), "some reports credit conversions under Markov");
    }

    /// <summary>The writer's roll-up, summed, equals a roll-up rebuilt from the stored sessions (no group differs).</summary>
    private static void AssertRollUpMatchesRebuild(AnalyticsStore store, string when)
    {
        using var c = store.OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            WITH kept AS (SELECT site, dim, day, prev_day, prev_key, key, sum(n) AS n FROM attribution_paths GROUP BY ALL HAVING sum(n) <> 0),
            rebuilt AS ({AttributionPaths.Contributions(affectedOnly: false)})
            SELECT (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM rebuilt)) + (SELECT count(*) FROM (SELECT * FROM rebuilt EXCEPT SELECT * FROM kept)),
                   (SELECT count(*) FROM rebuilt)
            """;
        using var r = cmd.ExecuteReader();
        r.Read();
        Assert.That(r.GetInt64(1), Is.GreaterThan(0), when);
        Assert.That(r.GetInt64(0), Is.Zero, $"{when}: groups that differ between the kept roll-up and a rebuild");
    }

    [TestCase(1, "UTC")]
    [TestCase(2, "UTC")]
    [TestCase(3, "Europe/Paris")]
    [TestCase(4, "UTC")]
    [TestCase(5, "America/New_York")]
    [TestCase(6, "UTC")]
    [TestCase(7, "Asia/Kolkata")]
    [TestCase(8, "UTC")]
    public async Task The_roll_up_gives_the_scan_s_credits_on_random_datasets_with_replays_and_retention(int seed, string zoneId)
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("r.duckdb"), RetentionDays = 30 };
        options.Sites[Site] = new AnalyticsSiteOptions { TimeZone = zoneId };
        var zone = options.TimeZoneOf(Site);
        var data = Generate(seed);
        using var store = new AnalyticsStore(options);
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var batch in data.Batches)
            {
                foreach (var tp in batch)
                {
                    await writer.AddAsync(tp);
                }
                await writer.FlushAsync();
            }
            Assert.That(writer.DuplicatesSkipped, Is.GreaterThan(0), "replayed batches were skipped");
            AssertRollUpMatchesRebuild(store, "after writing");
            AssertSameReports(store, zone, "after writing");

            // retention: 30 days before day 45 deletes the sessions that ended before day 15
            await writer.EnforceRetentionAsync(T0.AddDays(45));
            AssertRollUpMatchesRebuild(store, "after retention");
            AssertSameReports(store, zone, "after retention");

            // and the writer keeps it up after retention too (a last replay of everything changes nothing)
            foreach (var tp in data.Batches.SelectMany(b => b))
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
            AssertRollUpMatchesRebuild(store, "after a replay of everything");
        }
    }

    /// <summary>
    /// A stream in time order (the usual case, where the writer follows anonymous visitors' new starts in memory) written
    /// by three writers in turn (each reads the last starts from the store at its first flush), with visitors linked to
    /// persons partway, two starts at one instant and late touches: the kept roll-up equals a rebuild, the reports equal
    /// the scan's, and a replay of everything by a new writer inserts nothing.
    /// </summary>
    [TestCase(21)]
    [TestCase(22)]
    [TestCase(23)]
    public async Task A_stream_in_time_order_written_by_writers_in_turn_keeps_the_roll_up_exact(int seed)
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("o.duckdb") };
        var data = Generate(seed);
        var r = new Random(seed);
        // in time order, but one touch in ten arriving up to three batches late
        var ordered = data.Batches.SelectMany(b => b).DistinctBy(t => t.EventId).OrderBy(t => t.DerivedTs).ThenBy(t => t.EventId).ToList();
        var late = ordered.Where(_ => r.Next(10) == 0).ToList();
        var stream = ordered.Except(late).ToList();
        foreach (var t in late)
        {
            stream.Insert(Math.Min(stream.Count, stream.FindIndex(x => x.DerivedTs > t.DerivedTs) is var i and >= 0 ? i + r.Next(1, 60) : stream.Count), t);
        }
        var batches = stream.Chunk(20).ToList();
        using var store = new AnalyticsStore(options);
        long inMemory = 0, recomputed = 0;
        for (var w = 0; w < 3; w++)
        {
            await using var writer = new AnalyticsWriter(store);
            foreach (var batch in batches.Skip(w * batches.Count / 3).Take((w + 1) * batches.Count / 3 - w * batches.Count / 3))
            {
                foreach (var tp in batch)
                {
                    await writer.AddAsync(tp);
                }
                await writer.FlushAsync();
            }
            inMemory += writer.AttributionUpkeep.InMemory;
            recomputed += writer.AttributionUpkeep.Recomputed;
            AssertRollUpMatchesRebuild(store, $"after writer {w + 1}");
        }
        Assert.Multiple(() =>
        {
            Assert.That(inMemory, Is.GreaterThan(recomputed), "most visitors' new starts were followed in memory");
            Assert.That(recomputed, Is.GreaterThan(0), "persons, ties and late starts were recomputed");
        });
        AssertSameReports(store, TimeZoneInfo.Utc, "after the stream");
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in stream)
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
            Assert.That((writer.RowsWritten, writer.DuplicatesSkipped), Is.EqualTo((0L, (long)stream.Count)), "a replay by a new writer inserts nothing");
        }
        AssertRollUpMatchesRebuild(store, "after the replay");
    }

    /// <summary>
    /// Anonymous visitors whose sessions start at one instant, in one batch and across batches (the stored last start tied),
    /// with campaigns whose order differs from the channels' and from the arrival order, one of them above U+FFFF against
    /// one in U+E000-U+FFFF (UTF-16 puts them the other way round than DuckDB's byte order): the writer follows all of them
    /// in memory and its rows equal a rebuild from the stored sessions, batch after batch and after a new writer reads the
    /// tied last starts back.
    /// </summary>
    [Test]
    public async Task Starts_at_one_instant_are_followed_in_memory_in_the_order_of_each_dimension_s_key()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("ties.duckdb") };
        using var store = new AnalyticsStore(options);
        string?[] campaigns = [null, "zeta", "alpha", "\U0001F600 launch", "\uFF21 sale", "mid"];
        var r = new Random(7);
        var n = 0;
        async Task Write(AnalyticsWriter writer, DateTimeOffset at, int perVisitor)
        {
            for (var v = 0; v < 12; v++)
            {
                for (var k = 0; k < perVisitor; k++)
                {
                    var ev = $"t{n++}";
                    await writer.AddAsync(Tp(ev, $"tv{v}", ev, at, Channels[r.Next(Channels.Length)], campaigns[r.Next(campaigns.Length)], Pages[r.Next(Pages.Length)], null, null));
                }
            }
            await writer.FlushAsync();
        }
        long inMemory = 0, recomputed = 0;
        await using (var writer = new AnalyticsWriter(store))
        {
            await Write(writer, T0, 3); // three starts at one instant per visitor in one batch
            AssertRollUpMatchesRebuild(store, "first batch");
            await Write(writer, T0.AddHours(1), 1);
            await Write(writer, T0.AddHours(2), 2);
            AssertRollUpMatchesRebuild(store, "later batches");
            inMemory += writer.AttributionUpkeep.InMemory;
            recomputed += writer.AttributionUpkeep.Recomputed;
        }
        await using (var writer = new AnalyticsWriter(store))
        {
            // a new writer reads each visitor's two tied last starts back, then follows from the right one per dimension
            await Write(writer, T0.AddDays(1), 2);
            await Write(writer, T0.AddDays(2), 1);
            inMemory += writer.AttributionUpkeep.InMemory;
            recomputed += writer.AttributionUpkeep.Recomputed;
        }
        AssertRollUpMatchesRebuild(store, "after a new writer");
        Assert.That((inMemory, recomputed), Is.EqualTo((12L * 5, 0L)), "every visitor's new starts were followed in memory");
    }

    /// <summary>
    /// A new start at the instant of the visitor's stored last start is followed in memory when its key is not below the
    /// stored one in any dimension (equal keys included), and recomputed when it would come first in one of them; either
    /// way the rows equal a rebuild.
    /// </summary>
    [Test]
    public async Task A_start_at_the_stored_last_instant_is_followed_in_memory_unless_it_orders_before()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("same.duckdb") });
        var at = T0.AddDays(3);
        await using var writer = new AnalyticsWriter(store);
        // stored last starts: x and y from Direct on /, z from Referral
        await writer.AddAsync(Tp("x1", "x", "x1", at, "Direct", null, "/", null, null));
        await writer.AddAsync(Tp("y1", "y", "y1", at, "Direct", null, "/", null, null));
        await writer.AddAsync(Tp("z1", "z", "z1", at, "Referral", null, "/", null, null));
        await writer.FlushAsync();
        var before = writer.AttributionUpkeep;
        // same instant: x with greater keys in every dimension, y with equal keys, z with a channel that orders first
        await writer.AddAsync(Tp("x2", "x", "x2", at, "Referral", "zeta", "/pricing", null, null));
        await writer.AddAsync(Tp("y2", "y", "y2", at, "Direct", null, "/", null, null));
        await writer.AddAsync(Tp("z2", "z", "z2", at, "Direct", null, "/", null, null));
        await writer.FlushAsync();
        var after = writer.AttributionUpkeep;
        AssertRollUpMatchesRebuild(store, "starts at the stored last instant");
        Assert.That((after.InMemory - before.InMemory, after.Recomputed - before.Recomputed), Is.EqualTo((2L, 1L)), "x and y in memory, z recomputed");
        // and after them, the next starts follow from the right last start per dimension
        await writer.AddAsync(Tp("x3", "x", "x3", at.AddHours(1), "Email", "brand", "/blog/a", null, null));
        await writer.AddAsync(Tp("z3", "z", "z3", at.AddHours(1), "Email", "brand", "/blog/a", null, null));
        await writer.FlushAsync();
        AssertRollUpMatchesRebuild(store, "the next starts");
    }

    [Test]
    public void Keys_compare_in_DuckDB_s_order()
    {
        Assert.Multiple(() =>
        {
            Assert.That(AttributionPathState.CompareKeys("\U0001F600", "\uFF21"), Is.GreaterThan(0), "a code point above U+FFFF after U+FF21");
            Assert.That(AttributionPathState.CompareKeys("a", "ab"), Is.LessThan(0));
            Assert.That(AttributionPathState.CompareKeys("b", "ab"), Is.GreaterThan(0));
            Assert.That(AttributionPathState.CompareKeys("x", "x"), Is.Zero);
        });
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT '\U0001F600' > '\uFF21', 'b' > 'ab'";
        using var rd = cmd.ExecuteReader();
        rd.Read();
        Assert.That((rd.GetBoolean(0), rd.GetBoolean(1)), Is.EqualTo((true, true)), "DuckDB orders them so");
    }

    [Test]
    public async Task Sessions_written_around_the_writer_make_the_roll_up_disagree_and_the_query_scans_instead()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("w.duckdb") };
        using var store = new AnalyticsStore(options);
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in Generate(11).Batches.SelectMany(b => b))
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
        }
        var range = new AnalyticsRange(Site, new DateOnly(2026, 1, 1), new DateOnly(2026, 3, 1), TimeZoneInfo.Utc);
        var request = new AttributionRequest(range, "channel", AttributionModels.All, null, 30, 7);
        var q = new AttributionQueries(store);
        Assert.That(JsonSerializer.Serialize(q.Attribution(request, NonConvertingSource.RollUp)),
            Is.EqualTo(JsonSerializer.Serialize(q.Attribution(request, NonConvertingSource.Scan))));
        using (var c = store.OpenReadConnection())
        using (var cmd = c.CreateCommand())
        {
            // a non-converting visitor's session start inserted directly: the roll-up does not know it
            cmd.CommandText = """
                INSERT INTO sessions VALUES ('acme', 42, 4242, DATE '2026-01-20', TIMESTAMP '2026-01-20 10:00', TIMESTAMP '2026-01-20 10:05',
                    1, 1, 1, 1, 'Display', NULL, NULL, NULL, NULL, NULL, NULL, '/', NULL, NULL, NULL, NULL, NULL)
                """;
            cmd.ExecuteNonQuery();
        }
        var scanned = q.Attribution(request, NonConvertingSource.Scan);
        Assert.Multiple(() =>
        {
            Assert.That(() => q.Attribution(request, NonConvertingSource.RollUp), Throws.InvalidOperationException);
            Assert.That(JsonSerializer.Serialize(q.Attribution(request)), Is.EqualTo(JsonSerializer.Serialize(scanned)), "the default falls back to the scan");
            Assert.That(scanned.Keys, Is.GreaterThan(0));
        });
        using (var c = store.OpenReadConnection())
        {
            AttributionPaths.Rebuild(c);
        }
        Assert.That(JsonSerializer.Serialize(q.Attribution(request, NonConvertingSource.RollUp)), Is.EqualTo(JsonSerializer.Serialize(scanned)), "after a rebuild");
    }

    [Test]
    public async Task An_existing_store_gets_the_roll_up_filled_by_the_migration()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("m.duckdb") };
        using (var store = new AnalyticsStore(options))
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in Generate(12).Batches.SelectMany(b => b))
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
        }
        // as a store written before the roll-up existed: no table, no step 5 recorded
        using (var c = new DuckDBConnection($"Data Source={options.Path}"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE attribution_paths; DELETE FROM schema_version WHERE version = 5;";
            cmd.ExecuteNonQuery();
        }
        using (var store = new AnalyticsStore(options))
        {
            Assert.That(store.SchemaVersion, Is.EqualTo(Migrations.Steps.Length));
            AssertRollUpMatchesRebuild(store, "after the migration");
            AssertSameReports(store, TimeZoneInfo.Utc, "after the migration");
        }
    }
}
