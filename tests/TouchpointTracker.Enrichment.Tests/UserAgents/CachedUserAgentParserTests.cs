using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests.UserAgents;

public class CachedUserAgentParserTests
{
    private sealed class CountingParser : IUserAgentParser
    {
        private int _calls;

        public int Calls => _calls;

        public UserAgentInfo Parse(string? userAgent)
        {
            Interlocked.Increment(ref _calls);
            return new UserAgentInfo(new VersionedName(userAgent ?? "?"), VersionedName.Other, DeviceName.Other, false);
        }
    }

    [Test]
    public void Repeated_user_agents_are_parsed_once()
    {
        var inner = new CountingParser();
        var cached = new CachedUserAgentParser(inner, 16);
        for (var i = 0; i < 100; i++)
        {
            Assert.That(cached.Parse("UA-" + (i % 4)).Browser.Family, Is.EqualTo("UA-" + (i % 4)));
        }

        Assert.Multiple(() =>
        {
            Assert.That(inner.Calls, Is.EqualTo(4));
            Assert.That(cached.Cache.Hits, Is.EqualTo(96));
            Assert.That(cached.Cache.Misses, Is.EqualTo(4));
        });
    }

    [Test]
    public void Blank_user_agents_skip_the_cache()
    {
        var inner = new CountingParser();
        var cached = new CachedUserAgentParser(inner, 16);
        Assert.That(cached.Parse(" "), Is.SameAs(UserAgentInfo.Unknown));
        Assert.That(inner.Calls, Is.Zero);
    }

    [Test]
    public void Keys_are_bounded()
    {
        var inner = new CountingParser();
        var cached = new CachedUserAgentParser(inner, 16);
        var prefix = new string('a', EnrichmentLimits.MaxUserAgentLength);
        cached.Parse(prefix + "one");
        cached.Parse(prefix + "two");
        Assert.That(inner.Calls, Is.EqualTo(1));
    }

    [Test]
    public void Is_safe_under_concurrency()
    {
        var inner = new CountingParser();
        var cached = new CachedUserAgentParser(inner, 64);
        Parallel.For(0, 100_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var ua = "UA-" + (i % 200);
            if (cached.Parse(ua).Browser.Family != ua)
            {
                throw new InvalidOperationException("wrong entry for " + ua);
            }
        });
        Assert.That(cached.Cache.Count, Is.LessThanOrEqualTo(64));
    }
}
