using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>Pools read from configuration: validation messages naming the setting, and which pool serves which session.</summary>
public class CallTrackingCatalogTests
{
    private static SiteOptions Site(params (string Name, PoolOptions Pool)[] pools) => new()
    {
        Domains = ["shop.example"],
        CallTracking = new CallTrackingOptions { Pools = pools.ToDictionary(p => p.Name, p => p.Pool) },
    };

    private static PoolOptions Pool(string[] numbers, params string[] channels) =>
        new() { ReplacesNumber = "+33 1 23 45 67 89", Numbers = [.. numbers], Channels = [.. channels] };

    private static (CallTrackingCatalog Catalog, List<string> Errors) Build(SiteOptions site)
    {
        var errors = new List<string>();
        var catalog = CallTrackingCatalog.Build(new Dictionary<string, SiteOptions> { ["shop"] = site }, errors);
        return (catalog, errors);
    }

    [Test]
    public void A_paid_pool_serves_paid_sessions_and_the_default_pool_the_rest()
    {
        var (catalog, errors) = Build(Site(
            ("paid", Pool(["+33 1 23 45 67 01", "+33 1 23 45 67 02"], "Paid Search", "paid social")),
            ("main", Pool(["01 23 45 67 03".Replace("01 ", "+33 1 ", StringComparison.Ordinal)]))));
        Assert.That(errors, Is.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(catalog.Select("shop", null, "Paid Search")?.Name, Is.EqualTo("paid"));
            Assert.That(catalog.Select("shop", "+33123456789", "Paid Social")?.Name, Is.EqualTo("paid"), "channel names are matched as the reports spell them");
            Assert.That(catalog.Select("shop", null, "Organic Search")?.Name, Is.EqualTo("main"));
            Assert.That(catalog.Select("shop", null, null)?.Name, Is.EqualTo("main"));
            Assert.That(catalog.Select("shop", "+33999999999", null), Is.Null, "another published number");
            Assert.That(catalog.Select("other", null, null), Is.Null);
            Assert.That(catalog.PoolOfNumber("shop", "+33123456702")?.Name, Is.EqualTo("paid"));
            Assert.That(catalog.PoolOfTrackingNumber("shop", "01.23.45.67.02", out var e164)?.Name, Is.EqualTo("paid"));
            Assert.That(e164, Is.EqualTo("+33123456702"));
            Assert.That(catalog.PoolsOf("shop").Single(p => p.Name == "paid").Source, Is.EqualTo("Paid Search"));
            Assert.That(catalog.PoolsOf("shop").Single(p => p.Name == "main").Source, Is.EqualTo(NumberPool.DefaultSource));
            Assert.That(catalog.PoolsOf("shop").Single(p => p.Name == "main").DisplayOf("+33123456703"), Is.EqualTo("01 23 45 67 03"));
        });
    }

    [Test]
    public void Every_mistake_is_reported_with_its_setting()
    {
        var bad = Pool(["+33 1 23 45 67 01", "01 23 45 67 02", "+33 1 23 45 67 01", "+33 1 23 45 67 89"], "Paid Serch");
        bad.HoldMinutes = 0;
        bad.MatchWindowDays = 400;
        var noReplace = Pool([]);
        noReplace.ReplacesNumber = "01 23";
        var (_, errors) = Build(Site(("paid", bad), ("bad name!", noReplace)));
        var text = string.Join("\n", errors);
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("Collector:Sites:shop:CallTracking:Pools:paid:Numbers:1 must be a phone number in international form"));
            Assert.That(text, Does.Contain("Pools:paid:Numbers:2 (+33123456701) is already a number of pool 'paid'"));
            Assert.That(text, Does.Contain("Pools:paid:Numbers:3 is the published number itself"));
            Assert.That(text, Does.Contain("Pools:paid:Channels: 'Paid Serch' is not a channel"));
            Assert.That(text, Does.Contain("Pools:paid:HoldMinutes must be between 1 and 1440"));
            Assert.That(text, Does.Contain("Pools:paid:MatchWindowDays must be between 1 and 365"));
            Assert.That(text, Does.Contain("Pools:bad name!: a pool name is"));
            Assert.That(text, Does.Contain("Pools:bad name!:ReplacesNumber must be the site's published number in international form"));
            Assert.That(text, Does.Contain("Pools:bad name!:Numbers must list at least one tracking number"));
        });
    }

    [Test]
    public void Two_default_pools_or_a_channel_in_two_pools_of_one_published_number_are_refused()
    {
        var (_, errors) = Build(Site(
            ("a", Pool(["+33 1 23 45 67 01"])), ("b", Pool(["+33 1 23 45 67 02"])),
            ("c", Pool(["+33 1 23 45 67 03"], "Paid Search")), ("d", Pool(["+33 1 23 45 67 04"], "Paid Search"))));
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Collector:Sites:shop:CallTracking: pools a and b both replace +33123456789 without Channels; one default pool per published number",
            "Collector:Sites:shop:CallTracking: channel 'Paid Search' is in pools c and d of the same published number; list it in one",
        }));
    }
}
