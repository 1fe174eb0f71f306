using StackExchange.Redis;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.State;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.State;

/// <summary>
/// The in-process journey state cache in front of a real Redis: it serves what this instance saved while its claim
/// stands, and never a state another owner may have changed since (a claim again, a revoke, a refused or failed save,
/// a state lent to a batch that did not save it, a state past its time to live).
/// </summary>
[NonParallelizable]
public sealed class StateCacheTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(31);
    private readonly JourneyProcessor _journeys = new(StageEngine.CreateDefault(), JourneySettings.Default);
    private RedisServer _server = null!;
    private ConnectionMultiplexer _redis = null!;
    private string _group = "";
    private int _event;

    [OneTimeSetUp]
    public async Task StartRedis()
    {
        _server = await RedisServer.StartAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(_server.Configuration);
    }

    [OneTimeTearDown]
    public async Task StopRedis()
    {
        await _redis.DisposeAsync();
        await _server.DisposeAsync();
    }

    [SetUp]
    public void NewGroup() => _group = "g" + Guid.NewGuid().ToString("N")[..8];

    private RedisJourneyStateStore Redis() => new(_redis, "tt:journey", _group, "tt.touchpoints", Retention, TimeProvider.System);

    private CachingJourneyStateStore Cached(IJourneyStateStore? inner = null, int capacity = 1000, TimeProvider? clock = null) =>
        new(inner ?? Redis(), capacity, Retention, clock ?? TimeProvider.System);

    /// <summary>One batch: loads the visitors' states, stages a page for each, saves. Returns the save's answer and the loaded states.</summary>
    private async Task<(bool Saved, Dictionary<string, JourneyState?> States)> Batch(IJourneyStateStore store, PartitionClaim claim, params string[] visitors)
    {
        var states = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
        await store.LoadAsync(claim, [.. visitors.Select(v => "acme:" + v)], states, CancellationToken.None);
        var changed = new Dictionary<string, JourneyState>(StringComparer.Ordinal);
        foreach (var v in visitors)
        {
            var key = "acme:" + v;
            var state = states[key] ?? new JourneyState();
            var n = ++_event;
            _journeys.Apply(Touch.Page("/p" + n).At(Touch.T0.AddMinutes(n)).Id($"e-{n}").Build(v), state);
            changed[key] = state;
        }
        return (await store.SaveAsync(claim, _event, changed, CancellationToken.None), states);
    }

    private async Task<JourneyState?> InRedis(string visitor)
    {
        var value = await _redis.GetDatabase().HashGetAsync(Redis().VisitorKey(0, "acme:" + visitor), "state");
        return value.IsNull ? null : JourneyStateCodec.Decode((byte[])value!);
    }

    [Test]
    public async Task The_next_batch_reads_the_saved_states_from_the_cache_and_they_are_what_redis_holds()
    {
        var cache = Cached();
        var claim = await cache.ClaimAsync(0, CancellationToken.None);
        await Batch(cache, claim, "a", "b");
        var (_, loaded) = await Batch(cache, claim, "a", "b", "c");

        await Assert.MultipleAsync(async () =>
        {
            Assert.That((cache.Hits, cache.Misses), Is.EqualTo((2L, 3L)), "first batch: 2 misses; second: a and b hit, c missed");
            Assert.That(loaded["acme:a"]!.Touches, Is.EqualTo(2), "the cached state as the first batch saved it, staged on by the second");
            foreach (var v in new[] { "a", "b", "c" })
            {
                var cached = new Dictionary<string, JourneyState?>();
                await cache.LoadAsync(claim, ["acme:" + v], cached, CancellationToken.None);
                Assert.That(JourneyStateCodec.Encode(cached["acme:" + v]!), Is.EqualTo(JourneyStateCodec.Encode((await InRedis(v))!)), v);
            }
            Assert.That(cache.Hits, Is.EqualTo(5));
        });
    }

    [Test]
    public async Task An_instance_whose_partition_was_claimed_by_another_never_writes_and_never_serves_its_old_states()
    {
        var first = Cached();
        var old = await first.ClaimAsync(0, CancellationToken.None);
        await Batch(first, old, "a");

        // Another instance takes the partition (the first one, paused, has not heard of it) and stages a touch of a.
        var second = Cached();
        var claim = await second.ClaimAsync(0, CancellationToken.None);
        var (savedBySecond, _) = await Batch(second, claim, "a");

        // The first instance wakes up with its old claim: its save is refused and its cached states go.
        var (savedByFirst, _) = await Batch(first, old, "a");
        Assert.Multiple(() =>
        {
            Assert.That(savedBySecond, Is.True);
            Assert.That(savedByFirst, Is.False, "fenced by the epoch");
            Assert.That(first.Count, Is.Zero, "the refused partition's cache is dropped");
        });
        Assert.That((await InRedis("a"))!.Touches, Is.EqualTo(2), "the old owner's touch never reached Redis");

        // Claimed back later: the state comes from Redis, with the other owner's touch.
        var again = await first.ClaimAsync(0, CancellationToken.None);
        var misses = first.Misses;
        var (saved, states) = await Batch(first, again, "a");
        Assert.Multiple(() =>
        {
            Assert.That(first.Misses, Is.EqualTo(misses + 1));
            Assert.That(states["acme:a"]!.Touches, Is.EqualTo(3), "loaded with the other owner's touch, then one more");
            Assert.That(saved, Is.True);
        });
    }

    [Test]
    public async Task A_revoked_partition_and_a_new_claim_start_from_redis()
    {
        var cache = Cached();
        var claim = await cache.ClaimAsync(0, CancellationToken.None);
        await Batch(cache, claim, "a", "b");
        Assert.That(cache.Count, Is.EqualTo(2));
        cache.Release(0);
        Assert.That(cache.Count, Is.Zero, "revoked or lost");

        await Batch(cache, claim, "a");
        var reclaimed = await cache.ClaimAsync(0, CancellationToken.None);
        Assert.That(cache.Count, Is.Zero, "a claim drops what the partition held");
        var misses = cache.Misses;
        await Batch(cache, reclaimed, "a");
        Assert.That(cache.Misses, Is.EqualTo(misses + 1));
    }

    [Test]
    public async Task A_state_lent_to_a_batch_that_did_not_save_it_is_read_from_redis_again()
    {
        var cache = Cached();
        var claim = await cache.ClaimAsync(0, CancellationToken.None);
        await Batch(cache, claim, "a", "b");

        // A batch loads a and b, changes a in place, but saves only b (say a's touch was a duplicate).
        var states = new Dictionary<string, JourneyState?>();
        await cache.LoadAsync(claim, ["acme:a", "acme:b"], states, CancellationToken.None);
        states["acme:a"]!.Touches = 99;
        Assert.That(await cache.SaveAsync(claim, 100, new Dictionary<string, JourneyState> { ["acme:b"] = states["acme:b"]! }, CancellationToken.None), Is.True);

        var again = new Dictionary<string, JourneyState?>();
        await cache.LoadAsync(claim, ["acme:a"], again, CancellationToken.None);
        Assert.That(again["acme:a"]!.Touches, Is.EqualTo(1), "as stored, not as the batch left it in memory");
    }

    [Test]
    public async Task A_save_that_fails_drops_the_partition_so_the_retry_reads_redis()
    {
        var faulty = new FaultyStateStore(Redis(), 2);
        var cache = Cached(faulty);
        var claim = await cache.ClaimAsync(0, CancellationToken.None);
        await Batch(cache, claim, "a");
        Assert.ThrowsAsync<IOException>(() => Batch(cache, claim, "a"));
        Assert.That(cache.Count, Is.Zero);

        var states = new Dictionary<string, JourneyState?>();
        await cache.LoadAsync(claim, ["acme:a"], states, CancellationToken.None);
        Assert.That(states["acme:a"]!.Touches, Is.EqualTo(1), "the failed batch's touch is not in the state");
    }

    [Test]
    public async Task A_state_past_its_time_to_live_is_not_served_and_the_capacity_holds()
    {
        var clock = new ManualClock(Touch.T0.AddHours(1));
        var cache = Cached(capacity: 16, clock: clock);
        var claim = await cache.ClaimAsync(0, CancellationToken.None);
        await Batch(cache, claim, "a");
        clock.Now += Retention + TimeSpan.FromDays(1);
        var hits = cache.Hits;
        var states = new Dictionary<string, JourneyState?>();
        await cache.LoadAsync(claim, ["acme:a"], states, CancellationToken.None);
        Assert.That(cache.Hits, Is.EqualTo(hits), "expired in the cache: asked from Redis");

        for (var i = 0; i < 10; i++)
        {
            await Batch(cache, claim, [.. Enumerable.Range(0, 5).Select(v => $"v{i}-{v}")]);
            Assert.That(cache.Count, Is.LessThanOrEqualTo(16));
        }
        Assert.That(cache.Count, Is.GreaterThanOrEqualTo(5), "the latest batch's states stay");
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
