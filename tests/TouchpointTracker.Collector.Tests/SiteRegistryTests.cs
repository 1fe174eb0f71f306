using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Tests;

public class SiteRegistryTests
{
    private static readonly SiteOptions Shop = new() { Domains = ["shop.example", "boutique.example"] };

    [TestCase("https://shop.example", true)]
    [TestCase("https://www.shop.example", true)]
    [TestCase("http://blog.boutique.example:8080", true)]
    [TestCase("https://evilshop.example", false)]
    [TestCase("https://shop.example.evil.test", false)]
    [TestCase("not an origin", false)]
    [TestCase("", true)]
    [TestCase("null", false)]
    [TestCase("https://evil.test/?next=https://shop.example", false)]
    [TestCase("https://shop.example@evil.test/", false)]
    [TestCase("https://evil.test\\@shop.example/", false)]
    [TestCase("https://SHOP.EXAMPLE.:443/a", true)]
    [TestCase("javascript://shop.example/%0Aalert(1)", false)]
    [TestCase("https://[::1]/", false)]
    public void Origins_are_matched_on_the_domain_and_its_subdomains(string origin, bool allowed) =>
        Assert.That(SiteRegistry.OriginAllowed(Shop, origin), Is.EqualTo(allowed));

    [Test]
    public void A_star_allows_any_origin() =>
        Assert.That(SiteRegistry.OriginAllowed(new SiteOptions { Domains = ["*"] }, "https://anything.test"), Is.True);

    [Test]
    public void The_demo_site_exists_only_in_the_embedded_mode()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new CollectorOptions());

        Assert.Multiple(() =>
        {
            Assert.That(new SiteRegistry(options, new CollectorRuntime(CollectorMode.Embedded)).TryGet("demo", out _), Is.True);
            Assert.That(new SiteRegistry(options, new CollectorRuntime(CollectorMode.Distributed)).TryGet("demo", out _), Is.False);
        });
    }
}
