using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The hosts' upkeep service over a clock that hours and days pass on: a minute after start-up, then hourly; split
/// sessions merged at every run, retention once a day (and at the next hour after a failure), each run acting on what
/// the clock says then.
/// </summary>
public sealed class AnalyticsUpkeepTests
{
    /// <summary>A fake clock that tells the test each wait the service arms, and for how long.</summary>
    private sealed class WatchedClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        public BlockingCollection<TimeSpan> Armed { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Armed.Add(dueTime);
            return timer;
        }

        /// <summary>Waits until the service has finished its run and armed its next wait.</summary>
        public TimeSpan NextWait()
        {
            Assert.That(Armed.TryTake(out var wait, TimeSpan.FromSeconds(30)), Is.True, "the service armed its next wait");
            return wait;
        }
    }

    /// <summary>The upkeep's instruments as the metrics endpoint would read them: name{labels} to value.</summary>
    private static Dictionary<string, double> Read(IMeterFactory meters)
    {
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "TouchpointTracker" && instrument.Meter.Scope == meters)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            seen[$"{instrument.Name}{{{string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))}}}"] = value;
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static (long Touchpoints, long Sessions) Counts(AnalyticsStore store) =>
        (BruteForce.SqlLong(store, "SELECT count(*) FROM touchpoints"), BruteForce.SqlLong(store, "SELECT count(*) FROM sessions"));

    [Test]
    [CancelAfter(120_000)]
    public async Task Merges_hourly_and_enforces_retention_daily_from_a_minute_after_start()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb"), RetentionDays = 10 });
        var writer = new AnalyticsWriter(store);
        foreach (var tp in Dataset.Build().Touchpoints) // 9 touchpoints 02-20 11:00 .. 03-03 08:00, each flushed alone
        {
            await writer.AddAsync(tp);
            await writer.FlushAsync();
        }
        var clock = new WatchedClock(Dataset.At(3, 3, 12, 0));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var upkeep = new AnalyticsUpkeep(writer, clock, NullLogger<AnalyticsUpkeep>.Instance, services.GetRequiredService<IMeterFactory>());

        await upkeep.StartAsync(CancellationToken.None);
        var waits = new List<TimeSpan> { clock.NextWait() };
        var counts = new List<(long, long)> { Counts(store) };

        clock.Advance(TimeSpan.FromMinutes(1)); // 03-03 12:01: retention (cutoff 02-21 12:01: v-d's touch goes) and the merge
        waits.Add(clock.NextWait());
        counts.Add(Counts(store));

        foreach (var (id, minutes, index) in new[] { ("c4", 10, 4), ("c5", 20, 5) }) // sC2 goes on, a row per flush
        {
            await writer.AddAsync(SessionsCompactionTests.LaterTouch(id, minutes, index));
            await writer.FlushAsync();
        }
        counts.Add(Counts(store));
        clock.Advance(TimeSpan.FromHours(1)); // 13:01: the merge only
        waits.Add(clock.NextWait());
        counts.Add(Counts(store));

        clock.Advance(TimeSpan.FromHours(22)); // 03-04 11:01: a merge, not yet a day since retention
        waits.Add(clock.NextWait());
        var beforeADay = Counts(store);
        clock.SetUtcNow(Dataset.At(3, 11, 12, 5)); // days later, one run: retention, cutoff 03-01 12:05 (a1, a2, b1 go)
        waits.Add(clock.NextWait());
        counts.Add(Counts(store));

        await writer.DisposeAsync(); // the next runs fail: the writer is gone; the service goes on
        clock.Advance(TimeSpan.FromHours(1));
        waits.Add(clock.NextWait());
        clock.Advance(TimeSpan.FromHours(1));
        waits.Add(clock.NextWait());
        await upkeep.StopAsync(CancellationToken.None);
        var metrics = Read(services.GetRequiredService<IMeterFactory>());

        var hour = AnalyticsUpkeep.Every;
        Assert.Multiple(() =>
        {
            Assert.That(AnalyticsUpkeep.FirstRun, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(AnalyticsUpkeep.Every, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(AnalyticsUpkeep.RetentionEvery, Is.EqualTo(TimeSpan.FromDays(1)));
            Assert.That(waits, Is.EqualTo(new[] { AnalyticsUpkeep.FirstRun, hour, hour, hour, hour, hour, hour }));
            Assert.That(counts, Is.EqualTo(new[]
            {
                (9L, 9L), // as written: a sessions row per touchpoint
                (8L, 5L), // v-d gone; sA1, sB1, sC1 merged: sA1, sA2, sB1, sC1, sC2
                (10L, 7L), // sC2's later touches
                (10L, 5L), // merged again
                (7L, 4L), // retention: a1, a2 (sA1) and b1 gone; sB1 (ended 12:10) stays
            }));
            Assert.That(beforeADay, Is.EqualTo((10L, 5L)), "no retention before a day had passed");
            Assert.That(upkeep.Runs, Is.EqualTo((2L, 0L, 2L, 2L)), "retention at 03-03 12:01 and 03-11 12:05; merges at 13:01 and 03-04 11:01; two failed merges");
            var lastRetention = Dataset.At(3, 11, 12, 5).ToUnixTimeSeconds();
            Assert.That(metrics, Is.EquivalentTo(new Dictionary<string, double>
            {
                ["tt_analytics_upkeep_runs_total{run=retention,outcome=ok}"] = 2,
                ["tt_analytics_upkeep_runs_total{run=retention,outcome=failed}"] = 0,
                ["tt_analytics_upkeep_runs_total{run=merge,outcome=ok}"] = 2,
                ["tt_analytics_upkeep_runs_total{run=merge,outcome=failed}"] = 2,
                ["tt_analytics_upkeep_last_success_seconds{run=retention}"] = lastRetention,
                ["tt_analytics_upkeep_last_success_seconds{run=merge}"] = lastRetention,
                ["tt_analytics_retention_deleted_total{}"] = 4, // d1, then a1, a2, b1
                ["tt_analytics_session_rows_merged_total{}"] = 5, // 3 at the first run, 2 at 13:01
            }));
        });
    }
}
