using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests.UserAgents;

public class LruCacheTests
{
    [Test]
    public void Evicts_the_least_recently_used()
    {
        var cache = new LruCache<string, int>(2);
        cache.Set("a", 1);
        cache.Set("b", 2);
        Assert.That(cache.TryGet("a", out _), Is.True); // a is now most recent
        cache.Set("c", 3);                               // evicts b
        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet("b", out _), Is.False);
            Assert.That(cache.TryGet("a", out var a) ? a : -1, Is.EqualTo(1));
            Assert.That(cache.TryGet("c", out var c) ? c : -1, Is.EqualTo(3));
            Assert.That(cache.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void Set_replaces_and_refreshes()
    {
        var cache = new LruCache<string, int>(2);
        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.Set("a", 10);
        cache.Set("c", 3); // evicts b, not a
        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet("a", out var a) ? a : -1, Is.EqualTo(10));
            Assert.That(cache.TryGet("b", out _), Is.False);
        });
    }

    [Test]
    public void Zero_capacity_caches_nothing()
    {
        var cache = new LruCache<string, int>(0);
        var calls = 0;
        cache.GetOrAdd("a", _ => ++calls);
        cache.GetOrAdd("a", _ => ++calls);
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(2));
            Assert.That(cache.Count, Is.Zero);
        });
    }

    [Test]
    public void Negative_capacity_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LruCache<string, int>(-1));
    }

    [Test]
    public void Stays_bounded_and_consistent_under_concurrency()
    {
        var cache = new LruCache<int, int>(100);
        Parallel.For(0, 200_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var key = i % 1000;
            if (cache.GetOrAdd(key, k => k * 2) != key * 2)
            {
                throw new InvalidOperationException("wrong value");
            }
        });
        Assert.That(cache.Count, Is.EqualTo(100));
    }
}
