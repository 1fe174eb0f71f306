using TouchpointTracker.Journeys.Signals;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Signals;

/// <summary>Brand terms per site, from configuration or derived from the site's domains.</summary>
public sealed class BrandTermsTests
{
    [TestCase("acme.fr", "acme")]
    [TestCase("www.acme.fr", "acme")]
    [TestCase("shop.acme.co.uk", "acme")]
    [TestCase("acme.com.au", "acme")]
    [TestCase("Globex.IO:8443", "globex")]
    [TestCase("acme-shop.de", "acme-shop,acmeshop")]
    [TestCase("*", "")]
    [TestCase("localhost", "")]
    [TestCase("127.0.0.1", "")]
    public void A_default_is_derived_from_the_site_domain(string domain, string expected) =>
        Assert.That(string.Join(",", BrandTerms.FromDomains([domain])), Is.EqualTo(expected));

    private static readonly Dictionary<string, string?> Configuration = new()
    {
        ["Collector:Sites:acme:Domains:0"] = "www.acme.fr",
        ["Collector:Sites:acme:Domains:1"] = "acme.com",
        ["Collector:Sites:globex:Domains:0"] = "globex.example",
        ["Collector:Sites:demo:Domains:0"] = "*",
        ["Journeys:InactivityDays"] = "30",
    };

    [Test]
    public void Configured_terms_win_domains_fill_in_and_a_site_without_either_is_warned_about()
    {
        var options = new JourneyOptions { Sites = { ["globex"] = new JourneySiteOptions { BrandTerms = ["Globex Corporation", "globex"] } } };
        var brands = options.BuildBrandTerms(Configuration, out var warnings);
        Assert.Multiple(() =>
        {
            Assert.That(brands.For("acme"), Is.EqualTo(new[] { "acme" }));
            Assert.That(brands.For("globex"), Is.EqualTo(new[] { "Globex Corporation", "globex" }));
            Assert.That(brands.For("demo"), Is.Empty);
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain("Site 'demo' has no brand terms").And.Contain("Journeys:Sites:demo:BrandTerms"));
        });
    }

    [Test]
    public void Without_any_site_the_warning_says_how_to_set_them()
    {
        new JourneyOptions().BuildBrandTerms([], out var warnings);
        Assert.That(warnings, Has.One.Contains("Journeys:Sites:<site>:BrandTerms"));
    }

    [Test]
    public void A_search_naming_the_site_brand_is_branded_for_that_site_only()
    {
        var options = new JourneyOptions();
        var settings = JourneySettings.Default with { BrandTerms = options.BuildBrandTerms(Configuration, out _) };
        var runner = new JourneyRunner(new JourneyProcessor(StageEngine.CreateDefault(), settings));
        var acme = runner.Apply(Page("/").At(T0).FromSearch("Google", "Acme avis").Build("v1")).Staged!.Journey!;
        var other = runner.Apply(Page("/").At(T0).Site("globex").FromSearch("Google", "acme avis").Build("v2")).Staged!.Journey!;
        Assert.Multiple(() =>
        {
            Assert.That(acme.Reasons, Does.Contain("consideration.branded-search"));
            Assert.That(other.Reasons, Does.Not.Contain("consideration.branded-search"));
        });
    }
}
