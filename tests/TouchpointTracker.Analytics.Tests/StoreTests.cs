using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics.Tests;

public sealed class StoreTests
{
    private static long Count(AnalyticsStore store, string sql)
    {
        using var c = store.OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    [Test]
    public void Migrations_run_once_and_the_version_is_kept_across_opens()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("sub/folder/a.duckdb") };
        using (var store = new AnalyticsStore(options))
        {
            Assert.That(store.SchemaVersion, Is.EqualTo(Migrations.Steps.Length));
        }
        using (var store = new AnalyticsStore(options))
        {
            Assert.Multiple(() =>
            {
                Assert.That(store.SchemaVersion, Is.EqualTo(Migrations.Steps.Length));
                Assert.That(Count(store, "SELECT count(*) FROM schema_version"), Is.EqualTo(Migrations.Steps.Count(s => s is not null)));
                Assert.That(Count(store, "SELECT count(*) FROM touchpoints"), Is.Zero);
            });
        }
    }

    /// <summary>
    /// Event ids that are UUIDs in canonical form (what the tag sends) are stored in <c>event_uuid</c> (16 bytes) and every
    /// other id as text; the journey view gives each back exactly as sent, a replay inserts nothing, and a UUID id stored
    /// as text by a build before <c>event_uuid</c> (an upgraded store) still makes its replay a duplicate.
    /// </summary>
    [Test]
    public async Task Uuid_event_ids_are_stored_in_16_bytes_and_read_back_as_sent()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("u.duckdb") });
        var (tps, trs) = Dataset.Build();
        var ids = new List<string>();
        for (var i = 0; i < tps.Count; i++)
        {
            var g = new Guid(i + 1, 0x1a2b, 0x4c3d, 0x8e, 0x9f, 0, 1, 2, 3, 4, (byte)i);
            tps[i].EventId = (i % 3) switch
            {
                0 => g.ToString(), // canonical: event_uuid
                1 => g.ToString().ToUpperInvariant(), // a UUID, but not in canonical form: text
                _ => $"call-{i}", // any other id: text
            };
            ids.Add(tps[i].EventId);
        }
        for (var i = 0; i < trs.Count; i++)
        {
            // transitions' ids in the same three forms
            var g = new Guid(1000 + i, 0x1a2b, 0x4c3d, 0x8e, 0x9f, 0, 1, 2, 3, 4, (byte)i);
            trs[i].EventId = (i % 3) switch { 0 => g.ToString(), 1 => g.ToString().ToUpperInvariant(), _ => $"tr-{i}" };
        }
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in tps)
            {
                await writer.AddAsync(tp);
            }
            foreach (var t in trs)
            {
                await writer.AddAsync(t);
            }
            await writer.FlushAsync();
            Assert.That(writer.RowsWritten, Is.EqualTo(tps.Count + trs.Count));
        }
        var visitors = tps.Select(t => t.VisitorId).Distinct().ToList();
        var q = new AnalyticsQueries(store);
        var read = visitors.SelectMany(v => q.Journey(new AnalyticsRequest(new AnalyticsRange(Dataset.Site, new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31), TimeZoneInfo.Utc), AnalyticsFilters.None), v)!.Sessions.SelectMany(s => s.Touches).Select(t => t.EventId)).Order().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(Count(store, "SELECT count(*) FROM touchpoints WHERE event_uuid IS NOT NULL AND event_id IS NULL"), Is.EqualTo((tps.Count + 2) / 3));
            Assert.That(Count(store, "SELECT count(*) FROM touchpoints WHERE event_uuid IS NULL AND event_id IS NOT NULL"), Is.EqualTo(tps.Count - (tps.Count + 2) / 3));
            Assert.That(read, Is.EqualTo(ids.Order().ToList()), "the journey view gives the ids back as sent");
            Assert.That(Count(store, "SELECT count(*) FROM stage_transitions WHERE event_uuid IS NOT NULL AND event_id IS NULL"), Is.EqualTo((trs.Count + 2) / 3));
            Assert.That(Count(store, "SELECT count(*) FROM stage_transitions WHERE event_uuid IS NULL AND event_id IS NOT NULL"), Is.EqualTo(trs.Count - (trs.Count + 2) / 3));
            Assert.That(Count(store, $"SELECT count(*) FROM stage_transitions WHERE event_uuid::VARCHAR = '{trs[0].EventId}'"), Is.EqualTo(1), "the UUID as sent");
        });
        // a UUID id stored as text (a row written before event_uuid existed), then the same touch through the writer
        var old = Guid.NewGuid().ToString();
        using (var c = store.OpenReadConnection())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"INSERT INTO touchpoints (site, event_id, vkey, skey, jkey, ts) SELECT site, '{old}', vkey, skey, jkey, ts FROM touchpoints ORDER BY ts LIMIT 1";
            cmd.ExecuteNonQuery();
        }
        var first = tps.MinBy(t => t.DerivedTs)!;
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in tps)
            {
                await writer.AddAsync(tp);
            }
            foreach (var t in trs)
            {
                await writer.AddAsync(t);
            }
            first.EventId = old;
            await writer.AddAsync(first);
            await writer.FlushAsync();
            Assert.That((writer.RowsWritten, writer.DuplicatesSkipped), Is.EqualTo((0L, (long)tps.Count + trs.Count + 1)), "a replay inserts nothing");
        }
    }

    [Test]
    public void A_database_from_a_newer_build_is_refused_with_a_message()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("a.duckdb") };
        using (var store = new AnalyticsStore(options))
        {
            using var c = store.OpenReadConnection();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO schema_version VALUES (99, now()::TIMESTAMP)";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<InvalidOperationException>(() => new AnalyticsStore(options).Dispose());
        Assert.That(e!.Message, Does.Contain("schema version 99"));
    }

    [Test]
    public async Task Replaying_the_same_batch_inserts_nothing()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb") });
        await using var writer = new AnalyticsWriter(store);
        await Dataset.WriteAsync(writer);
        var counts = Snapshot(store);
        Assert.That(counts, Is.EqualTo(new[] { 9L, 7, 4, 6 }), "touchpoints, transitions, visitors, session rows");
        await Dataset.WriteAsync(writer);
        // and a batch holding the same event twice
        var (tps, _) = Dataset.Build();
        await writer.AddAsync(tps[0]);
        await writer.AddAsync(tps[0]);
        await writer.FlushAsync();
        Assert.Multiple(() =>
        {
            Assert.That(Snapshot(store), Is.EqualTo(counts));
            Assert.That(writer.RowsWritten, Is.EqualTo(9 + 7));
            Assert.That(writer.DuplicatesSkipped, Is.EqualTo(9 + 7 + 2));
        });
    }

    [Test]
    public async Task Rule_ids_are_stored_as_added_whatever_they_contain_and_whatever_the_caller_does_next()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb") });
        await using var writer = new AnalyticsWriter(store);
        var (tps, trs) = Dataset.Build();
        var a3 = tps.Single(t => t.EventId == "a3");
        a3.Journey!.Reasons = ["decision.pricing-page", "rule\u001fwith a unit separator", ""];
        var a3Transition = trs.Single(t => t.EventId == "a3");
        a3Transition.Reasons = ["decision.pricing-page", "rule\u001fwith a unit separator"];
        foreach (var t in tps)
        {
            await writer.AddAsync(t);
        }
        foreach (var t in trs)
        {
            await writer.AddAsync(t);
        }
        // the caller reuses its lists before the flush: the rows keep what was added
        a3.Journey.Reasons.Add("added later");
        a3Transition.Reasons.Add("added later");
        await writer.FlushAsync();
        using var c = store.OpenReadConnection();
        List<string> Read(string sql)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            using var r = cmd.ExecuteReader();
            Assert.That(r.Read(), Is.True, sql);
            return r.GetFieldValue<List<string>>(0);
        }
        Assert.Multiple(() =>
        {
            Assert.That(Read("SELECT reasons FROM touchpoints WHERE event_id = 'a3'"),
                Is.EqualTo(new[] { "decision.pricing-page", "rule\u001fwith a unit separator", "" }));
            Assert.That(Read("SELECT reasons FROM stage_transitions WHERE event_id = 'a3'"),
                Is.EqualTo(new[] { "decision.pricing-page", "rule\u001fwith a unit separator" }));
            Assert.That(Read("SELECT reasons FROM touchpoints WHERE event_id = 'b2'"), Is.Empty);
        });
    }

    private static long[] Snapshot(AnalyticsStore store) =>
    [
        Count(store, "SELECT count(*) FROM touchpoints"), Count(store, "SELECT count(*) FROM stage_transitions"),
        Count(store, "SELECT count(*) FROM visitors"), Count(store, "SELECT count(*) FROM sessions"),
    ];

    [Test]
    public async Task Rows_are_durable_after_dispose_without_close_and_after_a_crash_once_flushed()
    {
        using var dir = new TempDir();
        var options = new AnalyticsOptions { Path = dir.File("a.duckdb"), FlushIntervalMs = 50 };
        var store = new AnalyticsStore(options);
        var writer = new AnalyticsWriter(store);
        await Dataset.WriteAsync(writer);
        // Crash image: copy the file and its WAL while the process still holds them (no checkpoint, no close),
        // as a SIGKILL would leave them.
        var crash = dir.File("crash.duckdb");
        File.Copy(options.Path, crash);
        if (File.Exists(options.Path + ".wal"))
        {
            File.Copy(options.Path + ".wal", crash + ".wal");
        }
        // Then rows added without FlushAsync: the interval flush commits them, dispose commits the rest.
        var (tps, _) = Dataset.Build("other");
        foreach (var t in tps)
        {
            await writer.AddAsync(t);
        }
        await writer.DisposeAsync();
        store.Dispose();

        using (var reopened = new AnalyticsStore(options))
        {
            Assert.That(Count(reopened, "SELECT count(*) FROM touchpoints"), Is.EqualTo(18));
        }
        using (var recovered = new AnalyticsStore(new AnalyticsOptions { Path = crash }))
        {
            Assert.That(Count(recovered, "SELECT count(*) FROM touchpoints"), Is.EqualTo(9));
        }
    }

    [Test]
    public async Task Retention_deletes_rows_older_than_the_window()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb"), RetentionDays = 10 });
        await using var writer = new AnalyticsWriter(store);
        await Dataset.WriteAsync(writer);
        // now = 03-03 12:00, cutoff = 02-21 12:00: only v-d's touch of 02-20 is older.
        var deleted = await writer.EnforceRetentionAsync(Dataset.At(3, 3, 12, 0));
        Assert.Multiple(() =>
        {
            Assert.That(deleted, Is.EqualTo(1));
            Assert.That(Count(store, "SELECT count(*) FROM touchpoints"), Is.EqualTo(8));
            Assert.That(Count(store, "SELECT count(*) FROM stage_transitions"), Is.EqualTo(6));
            Assert.That(Count(store, "SELECT count(*) FROM visitors"), Is.EqualTo(3));
            Assert.That(Count(store, "SELECT count(*) FROM sessions WHERE day < DATE '2026-03-01'"), Is.Zero);
        });
    }

    [Test]
    public void Options_validation_names_the_setting()
    {
        var errors = AnalyticsOptionsValidator.Check(new AnalyticsOptions
        {
            Path = "",
            RetentionDays = 0,
            FlushIntervalMs = 1,
            ApiKeys = { ["acme"] = ["short"] },
            Sites = { ["acme"] = new AnalyticsSiteOptions { TimeZone = "Mars/Olympus" } },
        });
        Assert.That(errors, Has.Some.Contains("Analytics:Path")
            .And.Some.Contains("Analytics:RetentionDays")
            .And.Some.Contains("Analytics:FlushIntervalMs")
            .And.Some.Contains("Analytics:ApiKeys:acme:0")
            .And.Some.Contains("Analytics:Sites:acme:TimeZone"));
        Assert.That(AnalyticsOptionsValidator.Check(new AnalyticsOptions()), Is.Empty);
    }

    [Test]
    public void Readers_and_the_writer_share_the_file_in_one_process()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb") });
        using var a = store.OpenReadConnection();
        using var b = new DuckDBConnection(store.ConnectionString);
        b.Open();
        using var cmd = b.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM touchpoints";
        Assert.That(Convert.ToInt64(cmd.ExecuteScalar()), Is.Zero);
    }
}
