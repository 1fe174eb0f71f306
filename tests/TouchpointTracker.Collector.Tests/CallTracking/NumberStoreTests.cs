using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Messaging;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>
/// Both assignment stores: the Redis one against a real redis-server, the embedded one on a real file. Generated
/// visit sequences go through each store and through the policy's model: decisions and call matches must agree.
/// </summary>
[NonParallelizable]
public sealed class NumberStoreTests
{
    private RedisServer _redis = null!;
    private RedisConnections _connections = null!;
    private int _pools;

    [OneTimeSetUp]
    public async Task Start()
    {
        _redis = await RedisServer.StartAsync();
        _connections = new RedisConnections(Options.Create(new RedisOptions { Configuration = _redis.Configuration }), NullLogger<RedisConnections>.Instance);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _connections.Dispose();
        await _redis.DisposeAsync();
    }

    private NumberPool NewPool(int numbers, int holdMinutes = 30) => new()
    {
        Site = "shop",
        Name = "p" + Interlocked.Increment(ref _pools),
        Numbers = [.. Enumerable.Range(1, numbers).Select(i => $"+3310000{i:0000}")],
        Replaces = "+33123456789",
        ReplacesText = "+33 1 23 45 67 89",
        CountryCode = "33",
        Channels = System.Collections.Frozen.FrozenSet<string>.Empty,
        Hold = TimeSpan.FromMinutes(holdMinutes),
        MatchWindow = TimeSpan.FromDays(30),
        Source = NumberPool.DefaultSource,
    };

    private RedisNumberStore Redis() => new(_connections, new RedisOptions { Configuration = _redis.Configuration, KeyPrefix = "tt-test" });

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static Gen<List<(int Visitor, int Minutes)>> Visits => Gen.Choose(1, 40).SelectMany(n => Gen.ListOf(
        Gen.Zip(Gen.Choose(0, 5), Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Choose(4, 50)))), n)).Select(l => l.ToList());

    /// <summary>Runs the visits through the store and the model; false at the first disagreement.</summary>
    private static bool AgreesWithModel(INumberStore store, NumberPool pool, List<(int Visitor, int Minutes)> visits, int callMinute)
    {
        var model = new AssignmentPolicyTests.Model(pool.Numbers);
        var now = T0;
        foreach (var (v, minutes) in visits)
        {
            now = now.AddMinutes(minutes);
            var expected = model.Visit("v" + v, now.ToUnixTimeMilliseconds());
            var got = store.AssignAsync(pool, "v" + v, "s-v" + v, now, CancellationToken.None).GetAwaiter().GetResult();
            if (got.Number != expected.Number || got.Kind != expected.Kind || got.InUse != model.ActiveHolders(now.ToUnixTimeMilliseconds()))
            {
                return false;
            }
        }
        var at = T0.AddMinutes(callMinute);
        foreach (var number in pool.Numbers)
        {
            var all = model.Log.Concat(model.Current.Values).Where(h => h.Number == number);
            var expected = AssignmentPolicy.Match(all, at.ToUnixTimeMilliseconds(), (long)pool.Hold.TotalMilliseconds);
            var got = store.FindHolderAsync(pool, number, at, now, CancellationToken.None).GetAwaiter().GetResult();
            if (got != expected)
            {
                return false;
            }
        }
        return true;
    }

    [Test]
    public void The_Redis_script_decides_and_matches_as_the_policy_does() =>
        Prop.ForAll(Gen.Zip(Visits, Gen.Choose(0, 400)).ToArbitrary(), t => AgreesWithModel(Redis(), NewPool(3), t.Item1, t.Item2))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(150));

    [Test]
    public void The_embedded_store_decides_and_matches_as_the_policy_does() =>
        Prop.ForAll(Gen.Zip(Visits, Gen.Choose(0, 400)).ToArbitrary(), t =>
        {
            var pool = NewPool(3);
            using var store = new InProcessNumberStore([pool], null, TimeProvider.System);
            return AgreesWithModel(store, pool, t.Item1, t.Item2);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    [Test]
    public async Task Concurrent_first_visits_from_many_collectors_get_distinct_numbers()
    {
        var pool = NewPool(40);
        var stores = Enumerable.Range(0, 4).Select(_ => Redis()).ToArray();
        var given = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => stores[i % 4].AssignAsync(pool, "v" + i, "s" + i, T0, CancellationToken.None)));
        Assert.Multiple(() =>
        {
            Assert.That(given.Select(g => g.Number).Distinct().Count(), Is.EqualTo(40), "one script per assignment: no two visitors got the same number");
            Assert.That(given.All(g => g.Kind == AssignmentKind.Free));
            Assert.That(given.Max(g => g.InUse), Is.EqualTo(40));
        });
    }

    [Test]
    public async Task The_Redis_log_keeps_the_match_window_and_expires_with_the_pool()
    {
        var pool = NewPool(1, holdMinutes: 1);
        var store = Redis();
        // Forty holds a day apart, each ending the previous one.
        for (var day = 0; day < 40; day++)
        {
            await store.AssignAsync(pool, "v" + day, "s", T0.AddDays(day), CancellationToken.None);
        }
        var db = _connections.Ingest.GetDatabase();
        var keys = store.KeysOf(pool);
        var logged = await db.SortedSetLengthAsync(keys[2]);
        Assert.Multiple(async () =>
        {
            // The latest assignment was on day 39: holds that started before day 39 − 30 − 1 are gone.
            Assert.That(logged, Is.EqualTo(39 - 8));
            Assert.That(await db.KeyTimeToLiveAsync(keys[0]), Is.GreaterThan(TimeSpan.FromDays(30)).And.LessThanOrEqualTo(TimeSpan.FromDays(31)));
            Assert.That(await db.HashLengthAsync(keys[1]), Is.EqualTo(1), "one visitor holds the one number");
            // A call on day 20, 30 s after that day's assignment, is that day's visitor's; one on day 5 is too old for the window.
            var now = T0.AddDays(39);
            Assert.That((await store.FindHolderAsync(pool, pool.Numbers[0], T0.AddDays(20).AddSeconds(30), now, CancellationToken.None))?.Visitor, Is.EqualTo("v20"));
            Assert.That(await store.FindHolderAsync(pool, pool.Numbers[0], T0.AddDays(5).AddSeconds(30), now, CancellationToken.None), Is.Null);
            Assert.That(await store.FindHolderAsync(pool, pool.Numbers[0], T0.AddDays(20).AddMinutes(5), now, CancellationToken.None), Is.Null, "after the hold, before the next visitor");
        });
    }

    [Test]
    public async Task Redis_down_is_reported_as_unavailable_not_as_an_error()
    {
        await using var redis = await RedisServer.StartAsync();
        using var connections = new RedisConnections(Options.Create(new RedisOptions { Configuration = redis.Configuration }), NullLogger<RedisConnections>.Instance);
        var store = new RedisNumberStore(connections, new RedisOptions { Configuration = redis.Configuration, AppendTimeoutMs = 500 });
        var pool = NewPool(2);
        await store.AssignAsync(pool, "v", "s", T0, CancellationToken.None);
        await redis.StopAsync();
        Assert.ThrowsAsync<NumberStoreUnavailableException>(() => store.AssignAsync(pool, "v", "s", T0, CancellationToken.None));
    }

    [Test]
    public async Task The_embedded_store_survives_a_restart_and_drops_pools_no_longer_configured()
    {
        var folder = CollectorHost.NewDataFolder();
        var path = Path.Combine(folder, CallTrackingExtensions.FileName);
        var pool = NewPool(2);
        var gone = NewPool(2);
        string alice;
        using (var store = new InProcessNumberStore([pool, gone], path, TimeProvider.System))
        {
            alice = (await store.AssignAsync(pool, "alice", "s1", T0, CancellationToken.None)).Number;
            await store.AssignAsync(pool, "bob", "s2", T0.AddMinutes(1), CancellationToken.None);
            await store.AssignAsync(pool, "alice", "s1", T0.AddMinutes(2), CancellationToken.None);
            await store.AssignAsync(gone, "carol", "s3", T0, CancellationToken.None);
        }
        using (var store = new InProcessNumberStore([pool], path, TimeProvider.System))
        {
            var again = await store.AssignAsync(pool, "alice", "s1", T0.AddMinutes(3), CancellationToken.None);
            Assert.Multiple(async () =>
            {
                Assert.That((again.Number, again.Kind, again.InUse), Is.EqualTo((alice, AssignmentKind.Kept, 2)));
                Assert.That((await store.FindHolderAsync(pool, alice, T0.AddMinutes(20), T0.AddMinutes(20), CancellationToken.None))?.Visitor, Is.EqualTo("alice"));
                Assert.That(File.ReadAllLines(path).Where(l => l.Contains("carol", StringComparison.Ordinal)), Is.Empty, "the file was rewritten without the removed pool");
            });
        }
        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public async Task The_embedded_file_stays_bounded_while_a_visitor_keeps_their_number()
    {
        var folder = CollectorHost.NewDataFolder();
        var path = Path.Combine(folder, CallTrackingExtensions.FileName);
        var pool = NewPool(2);
        using (var store = new InProcessNumberStore([pool], path, TimeProvider.System))
        {
            // Every ask of an active visitor writes a line (the extended hold): 10,000 asks.
            for (var i = 0; i < 10_000; i++)
            {
                await store.AssignAsync(pool, "alice", "s", T0.AddSeconds(i), CancellationToken.None);
            }
        }
        var lines = File.ReadAllLines(path).Length;
        Directory.Delete(folder, recursive: true);
        Assert.That(lines, Is.LessThanOrEqualTo(4 * 1024 + 1024), "compacted: one live hold, a few thousand lines at most");
    }

    /// <summary>
    /// Figures for docs/call-tracking.md, printed: assignments per second through the Redis script (a 100-number
    /// pool, 2,000 visitors coming back at random, 16 at a time) and through the embedded store. Only sanity is
    /// asserted.
    /// </summary>
    [Test]
    public async Task Measure_assignments_per_second()
    {
        const int Ops = 5_000;
        var pool = NewPool(100);
        async Task<double> RunAsync(INumberStore store)
        {
            var random = new Random(7);
            var visitors = Enumerable.Range(0, Ops).Select(_ => "v" + random.Next(2_000)).ToArray();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Ops)
                {
                    await store.AssignAsync(pool, visitors[i], "s", T0.AddMilliseconds(i * 100), CancellationToken.None);
                }
            }));
            return Ops / sw.Elapsed.TotalSeconds;
        }
        var redis = await RunAsync(Redis());
        var folder = CollectorHost.NewDataFolder();
        double embedded;
        using (var store = new InProcessNumberStore([pool], Path.Combine(folder, CallTrackingExtensions.FileName), TimeProvider.System))
        {
            embedded = await RunAsync(store);
        }
        Directory.Delete(folder, recursive: true);
        TestContext.Out.WriteLine($"assignments/s, 100-number pool, 16 concurrent: Redis script {redis:0}, embedded store (file) {embedded:0}");
        Assert.That(redis, Is.GreaterThan(0));
    }
}
