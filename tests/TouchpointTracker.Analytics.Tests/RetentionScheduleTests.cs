using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The hosts' retention service over a clock that days pass on: a minute after start-up, then daily, an hour after a
/// failure, each run deleting what has aged past the window by then.
/// </summary>
public sealed class RetentionScheduleTests
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

        public TimeSpan NextWait()
        {
            Assert.That(Armed.TryTake(out var wait, TimeSpan.FromSeconds(30)), Is.True, "the service armed its next wait");
            return wait;
        }
    }

    private static long Touchpoints(AnalyticsStore store)
    {
        using var c = store.OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM touchpoints";
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Retention_runs_a_minute_after_start_then_daily_and_an_hour_after_a_failure()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb"), RetentionDays = 10 });
        var writer = new AnalyticsWriter(store);
        await Dataset.WriteAsync(writer); // 9 touchpoints, 02-20 11:00 .. 03-03 08:00
        var clock = new WatchedClock(Dataset.At(3, 3, 12, 0));
        using var service = new AnalyticsRetention(writer, clock, NullLogger<AnalyticsRetention>.Instance);

        await service.StartAsync(CancellationToken.None);
        var waits = new List<TimeSpan> { clock.NextWait() };
        var counts = new List<long> { Touchpoints(store) };

        clock.Advance(TimeSpan.FromMinutes(1)); // 03-03 12:01, cutoff 02-21 12:01: v-d's touch of 02-20 goes
        waits.Add(clock.NextWait());
        counts.Add(Touchpoints(store));

        clock.SetUtcNow(Dataset.At(3, 11, 12, 5)); // days later, one run: cutoff 03-01 12:05 (a1, a2, b1 go; b2 at 12:10 stays)
        waits.Add(clock.NextWait());
        counts.Add(Touchpoints(store));

        clock.Advance(TimeSpan.FromHours(23)); // not yet a day since the last run
        var earlyWaits = clock.Armed.Count;
        var early = Touchpoints(store);
        clock.Advance(TimeSpan.FromHours(1)); // 03-12 12:05, cutoff 03-02 12:05: b2 and a3 go
        waits.Add(clock.NextWait());
        counts.Add(Touchpoints(store));

        await writer.DisposeAsync(); // the next run fails: the writer is gone
        clock.Advance(TimeSpan.FromDays(1));
        waits.Add(clock.NextWait());
        await service.StopAsync(CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(waits, Is.EqualTo(new[]
            {
                AnalyticsRetention.FirstRun, AnalyticsRetention.Every, AnalyticsRetention.Every, AnalyticsRetention.Every,
                AnalyticsRetention.AfterFailure,
            }));
            Assert.That(AnalyticsRetention.FirstRun, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(AnalyticsRetention.Every, Is.EqualTo(TimeSpan.FromDays(1)));
            Assert.That(AnalyticsRetention.AfterFailure, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(counts, Is.EqualTo(new long[] { 9, 8, 5, 3 }));
            Assert.That(early, Is.EqualTo(5), "nothing deleted before a day had passed");
            Assert.That(earlyWaits, Is.Zero, "no run before a day had passed");
        });
    }
}
