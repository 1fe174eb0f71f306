using System.Text.Json;
using TouchpointTracker.Contracts;
using static TouchpointTracker.Analytics.Tests.BruteForce;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// A live stream flushes every second, so a session spans several writer batches and leaves a <c>sessions</c> row (and a
/// <c>visitor_days</c> row) per batch. Retention's daily pass merges the days closed everywhere: the store then holds
/// what one large batch would have written, and every view answers the same before and after.
/// </summary>
public sealed class SessionsCompactionTests
{
    private const string SessionsSql = "SELECT * FROM sessions ORDER BY site, skey, day, start_ts";
    private const string VisitorDaysSql = "SELECT * FROM visitor_days ORDER BY ALL";
    private const string AttributionPathsSql = "SELECT site, dim, day, prev_day::VARCHAR, prev_key, key, n FROM attribution_paths ORDER BY ALL";

    /// <summary>The dataset as a live stream writes it: each touchpoint (with its transition) in a flush of its own.</summary>
    private static async Task WriteLiveAsync(AnalyticsWriter writer)
    {
        var (tps, trs) = Dataset.Build();
        foreach (var tp in tps)
        {
            await writer.AddAsync(tp);
            foreach (var tr in trs.Where(t => t.EventId == tp.EventId))
            {
                await writer.AddAsync(tr);
            }
            await writer.FlushAsync();
        }
    }

    /// <summary>Every view the aggregate and journey pages read, as JSON by name.</summary>
    private static Dictionary<string, string> Views(AnalyticsStore store)
    {
        var q = new AnalyticsQueries(store);
        var request = Dataset.Request();
        var views = new Dictionary<string, object>
        {
            ["overview"] = q.Overview(request),
            ["overview channel=Paid Search"] = q.Overview(Dataset.Request(new AnalyticsFilters(Channel: "Paid Search"))),
            ["overview stage=awareness"] = q.Overview(Dataset.Request(new AnalyticsFilters(Stage: "awareness"))),
            ["overview stage=consideration"] = q.Overview(Dataset.Request(new AnalyticsFilters(Stage: "consideration"))),
            ["funnel"] = q.Funnel(request),
            ["funnel by=channel"] = q.Funnel(request, by: "channel"),
            ["journeys search=v-"] = q.SearchJourneys(request, "v-"),
        };
        foreach (var d in VisitorDays.Dimensions)
        {
            views[$"breakdown by={d}"] = q.Breakdown(request, d);
        }
        return views.ToDictionary(v => v.Key, v => JsonSerializer.Serialize(v.Value));
    }

    [Test]
    public async Task A_live_stream_merged_holds_what_one_batch_writes_and_every_view_answers_the_same()
    {
        using var dir = new TempDir();
        using var batchStore = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("batch.duckdb") });
        await using (var writer = new AnalyticsWriter(batchStore))
        {
            await Dataset.WriteAsync(writer);
        }
        using var liveStore = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("live.duckdb") });
        await using var live = new AnalyticsWriter(liveStore);
        await WriteLiveAsync(live);
        var splitRows = SqlRows(liveStore, SessionsSql).Count;
        var split = Views(liveStore);
        var attributionRowsWhileSplit = SqlRows(liveStore, AttributionPathsSql).Count;

        var merged = await live.MergeSplitSessionsAsync(Dataset.At(3, 10, 12, 0));

        var batch = Views(batchStore);
        var differingWhileSplit = split.Where(v => v.Value != batch[v.Key]).Select(v => v.Key).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(SqlRows(batchStore, SessionsSql), Has.Count.EqualTo(6), "the batch write: one row per session and day");
            Assert.That(splitRows, Is.EqualTo(9), "the live write: one row per touchpoint");
            Assert.That(merged, Is.EqualTo(3));
            Assert.That(SqlRows(liveStore, SessionsSql), Is.EqualTo(SqlRows(batchStore, SessionsSql)));
            Assert.That(SqlRows(liveStore, VisitorDaysSql), Is.EqualTo(SqlRows(batchStore, VisitorDaysSql)));
            Assert.That(SqlRows(liveStore, AttributionPathsSql), Is.EqualTo(SqlRows(batchStore, AttributionPathsSql)).And.Not.Empty,
                "the attribution roll-up: one row per group, as one flush leaves it");
            Assert.That(attributionRowsWhileSplit, Is.GreaterThan(SqlRows(batchStore, AttributionPathsSql).Count), "a row per flush before");
            Assert.That(Views(liveStore), Is.EqualTo(batch), "merged, every view answers as over the batch write");
            // Split, a session's parts each carry their own highest stage, so only the stage filter reads them differently.
            Assert.That(differingWhileSplit, Is.EqualTo(new[] { "overview stage=awareness", "overview stage=consideration" }));
        });
    }

    [Test]
    public async Task A_session_whose_touches_differ_in_a_dimension_becomes_one_row_with_its_first_touch_values()
    {
        // v-b's session sB1: b1 with no country, b2 seen in another country on another device
        static List<Touchpoint> Touches()
        {
            var tps = Dataset.Build().Touchpoints;
            tps.Single(t => t.EventId == "b1").Geo = null;
            var b2 = tps.Single(t => t.EventId == "b2");
            b2.Geo = new GeoInfo { Country = "FR" };
            b2.Device = new DeviceInfo { Browser = "Safari", Os = "iOS", Family = "Tablet" };
            return tps;
        }
        using var dir = new TempDir();
        using var batchStore = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("batch.duckdb") });
        await using (var writer = new AnalyticsWriter(batchStore))
        {
            foreach (var tp in Touches())
            {
                await writer.AddAsync(tp);
            }
        }
        using var liveStore = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("live.duckdb") });
        await using var live = new AnalyticsWriter(liveStore);
        foreach (var tp in Touches())
        {
            await live.AddAsync(tp);
            await live.FlushAsync();
        }
        const string SB1 = "SELECT count(*), any_value(country), any_value(device) FROM sessions WHERE skey = (SELECT skey FROM touchpoints WHERE event_id = 'b1')";
        var split = SqlRows(liveStore, SB1).Single();
        await live.MergeSplitSessionsAsync(Dataset.At(3, 10, 0, 0));
        var again = await live.MergeSplitSessionsAsync(Dataset.At(3, 10, 1, 0));

        Assert.Multiple(() =>
        {
            Assert.That(split, Does.StartWith("2|"), "two rows while split");
            Assert.That(SqlRows(liveStore, SB1).Single(), Is.EqualTo("1|null|Mobile"), "one row, with b1's values (no country)");
            Assert.That(SqlRows(liveStore, SessionsSql), Is.EqualTo(SqlRows(batchStore, SessionsSql)));
            Assert.That(SqlRows(liveStore, VisitorDaysSql), Is.EqualTo(SqlRows(batchStore, VisitorDaysSql)));
            Assert.That(again, Is.Zero, "nothing left to merge at the next run");
        });
    }

    /// <summary>A later touch of v-c's session sC2 (03-03 08:00), flushed on its own as a live stream would.</summary>
    internal static Touchpoint LaterTouch(string eventId, int minutes, int touchIndex)
    {
        var tp = Dataset.Build().Touchpoints.Single(t => t.EventId == "c3");
        tp.EventId = eventId;
        tp.DerivedTs = tp.ReceivedTs = Dataset.At(3, 3, 8, minutes);
        tp.Journey!.TouchIndex = touchIndex;
        return tp;
    }

    [Test]
    public async Task A_session_still_going_on_is_merged_again_with_its_later_rows()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("live.duckdb") });
        await using var writer = new AnalyticsWriter(store);
        await WriteLiveAsync(writer);
        const string SC2 = "SELECT count(*), sum(touches), sum(starts), max(end_ts) FROM sessions WHERE skey = (SELECT skey FROM touchpoints WHERE event_id = 'c3')";

        var first = await writer.MergeSplitSessionsAsync(Dataset.At(3, 3, 8, 5));
        var rowsAfterFirst = SqlRows(store, SessionsSql).Count;
        foreach (var (id, minutes, index) in new[] { ("c4", 10, 4), ("c5", 20, 5) })
        {
            await writer.AddAsync(LaterTouch(id, minutes, index));
            await writer.FlushAsync();
        }
        var split = SqlRows(store, SC2).Single();
        var second = await writer.MergeSplitSessionsAsync(Dataset.At(3, 3, 9, 5));
        var again = await writer.MergeSplitSessionsAsync(Dataset.At(3, 3, 10, 5));

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(3), "sA1, sB1 and sC1 were two rows each");
            Assert.That(rowsAfterFirst, Is.EqualTo(6));
            Assert.That(split, Does.StartWith("3|3|1|"), "sC2's later touches came as rows of their own");
            Assert.That(second, Is.EqualTo(2));
            Assert.That(SqlRows(store, SC2).Single(), Does.StartWith("1|3|1|").And.Contain("08:20:00"), "one row: three touches, one start, its last touch");
            Assert.That(SqlRows(store, SessionsSql), Has.Count.EqualTo(6));
            Assert.That(again, Is.Zero, "nothing left to merge");
            Assert.That(SqlRows(store, VisitorDaysSql), Has.Count.EqualTo(6), "visitor_days follows: one row per sessions row");
        });
    }
}
