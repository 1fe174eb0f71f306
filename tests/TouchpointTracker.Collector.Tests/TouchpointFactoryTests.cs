using System.Net;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment;
using TouchpointTracker.Enrichment.Geo;

namespace TouchpointTracker.Collector.Tests;

public class TouchpointFactoryTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public void Derived_time_removes_the_client_clock_error()
    {
        // The client's clock is a day behind; the event happened 3 s before the batch was sent.
        var sent = Received.AddDays(-1).ToUnixTimeMilliseconds();
        var created = sent - 3_000;

        var derived = TouchpointFactory.DerivedTimestamp(created, sent, Received);

        Assert.That(derived, Is.EqualTo(Received.AddSeconds(-3)));
    }

    [TestCase(null, 1_000L)]
    [TestCase(1_000L, null)]
    [TestCase(2_000L, 1_000L)]
    public void Derived_time_falls_back_to_the_received_time(long? created, long? sent) =>
        Assert.That(TouchpointFactory.DerivedTimestamp(created, sent, Received), Is.EqualTo(Received));

    /// <summary>A location that knows its time zone (a City database's answer).</summary>
    private sealed class ParisLocator : IGeoLocator
    {
        public GeoInfo? Locate(IPAddress? address) => new() { Country = "FR", City = "Paris", TimeZone = "Europe/Paris" };
    }

    private static Touchpoint Create(string? browserZone)
    {
        var factory = new TouchpointFactory(new Enricher(new EnricherOptions { GeoLocator = new ParisLocator() }), Options.Create(new EnrichmentOptions()));
        var beacon = new Beacon { Version = 1, Site = "shop", VisitorId = "v-1", SessionId = "s-1", Context = browserZone is null ? null : new BeaconContext { TimeZone = browserZone } };
        var e = new BeaconEvent { Id = "e-1", Type = "pageview", Url = "https://shop.example/", Timestamp = Received.ToUnixTimeMilliseconds() };
        return factory.Create(beacon, e, new RequestFacts(Received, "Mozilla/5.0", IPAddress.Parse("81.2.69.1")));
    }

    [Test]
    public void Without_the_browsers_time_zone_the_locations_stands_in()
    {
        var tp = Create(browserZone: null);
        Assert.Multiple(() =>
        {
            Assert.That(tp.Context?.TimeZone, Is.EqualTo("Europe/Paris"));
            Assert.That(tp.Geo?.City, Is.EqualTo("Paris"));
        });
    }

    [Test]
    public void The_browsers_time_zone_wins_when_sent() =>
        Assert.That(Create(browserZone: "America/Montreal").Context?.TimeZone, Is.EqualTo("America/Montreal"));

    [Test]
    public void The_location_time_zone_is_not_written_twice_on_the_wire()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Create(browserZone: null), ContractsJsonContext.Default.Touchpoint);
        Assert.That(json, Does.Contain("\"timezone\":\"Europe/Paris\"").And.Not.Contain("time_zone"));
    }

    [TestCase("https://shop.example/p?utm_source=news", "https://www.google.com/", "https://www.google.com/")]
    [TestCase("https://shop.example/p", "https://blog.shop.example/post", "https://blog.shop.example/post")] // another origin of the site
    [TestCase("https://shop.example/p", "http://shop.example/home", "http://shop.example/home")] // another scheme: another origin
    [TestCase("https://shop.example:8443/p", "https://shop.example/home", "https://shop.example/home")] // another port
    [TestCase("https://shop.example/p", "https://shop.example.evil.example/", "https://shop.example.evil.example/")]
    [TestCase("https://shop.example/p", "https://shop.example/home", null)] // an internal link after 30 idle minutes
    [TestCase("https://shop.example/b", "https://shop.example/a", null)] // an SPA route change
    [TestCase("https://shop.example/p", "https://shop.example/p", null)] // a back/forward cache restore
    [TestCase("https://Shop.Example:443/p", "https://shop.example/home", null)]
    [TestCase("https://shop.example:8443/p", "https://shop.example:8443/home", null)]
    [TestCase("https://shop.example/p", "", null)] // what tags sent for any of the above before the collector decided
    [TestCase("https://shop.example/p", null, null)]
    [TestCase(null, "https://www.google.com/", "https://www.google.com/")]
    [TestCase("not a url", "https://www.google.com/", "https://www.google.com/")]
    public void The_session_referrer_is_kept_only_from_another_origin(string? landingUrl, string? referrer, string? expected) =>
        Assert.That(TouchpointFactory.ExternalReferrer(landingUrl, referrer), Is.EqualTo(expected));

    [Test]
    public void A_landing_referrer_of_the_sites_own_origin_is_no_session_referrer()
    {
        var factory = new TouchpointFactory(new Enricher(new EnricherOptions()), Options.Create(new EnrichmentOptions()));
        var beacon = new Beacon
        {
            Version = 1, Site = "shop", VisitorId = "v-1", SessionId = "s-1",
            Landing = new BeaconLanding { Url = "https://shop.example/pricing", Referrer = "https://shop.example/" },
        };
        var e = new BeaconEvent { Id = "e-1", Type = "pageview", Url = "https://shop.example/pricing", Referrer = "https://shop.example/", Timestamp = Received.ToUnixTimeMilliseconds() };
        var tp = factory.Create(beacon, e, new RequestFacts(Received, "Mozilla/5.0", null));
        Assert.Multiple(() =>
        {
            Assert.That(tp.Landing?.Url, Is.EqualTo("https://shop.example/pricing"));
            Assert.That(tp.Landing?.Referrer, Is.Null);
            Assert.That(tp.Referrer?.Url, Is.EqualTo("https://shop.example/"), "the page view's own referrer stays");
        });
    }
}
