using System.Net;
using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment.Channels;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Tests.Support;
using TouchpointTracker.Enrichment.Tests.UserAgents;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests;

public class EnricherTests
{
    private const string Chrome = "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36";

    private static GeoLocator _geo = null!;
    private static Enricher _enricher = null!;

    [OneTimeSetUp]
    public static void Build()
    {
        _geo = GeoLocator.Open(new MemoryStream(GeoFixture.BuildCityDatabase()));
        var parser = new CachedUserAgentParser(new UserAgentParser(UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = false })), 100);
        _enricher = new Enricher(new EnricherOptions
        {
            SiteDomains = new Dictionary<string, string[]> { ["shop"] = ["shop.example", "shop-example.fr"] },
            ExtraClickIds = new Dictionary<string, string> { ["yclid"] = "yandex_direct" },
            UserAgentParser = parser,
            GeoLocator = _geo,
        });
    }

    [OneTimeTearDown]
    public static void Dispose() => _geo.Dispose();

    [Test]
    public void Fills_every_part_for_a_landing_page_view()
    {
        var r = _enricher.Enrich("shop", "https://www.shop.example/shoes?utm_source=newsletter&utm_medium=email&utm_campaign=spring&color=red",
            "https://mail.google.com/", null, null, Chrome, IPAddress.Parse("81.2.69.1"));

        Assert.Multiple(() =>
        {
            Assert.That(r.Page.Url, Does.StartWith("https://www.shop.example/shoes?"));
            Assert.That(r.Page.Host, Is.EqualTo("www.shop.example"));
            Assert.That(r.Page.Path, Is.EqualTo("/shoes"));
            Assert.That(r.Page.Query, Does.Contain("color=red"));
            Assert.That((r.Referrer.Host, r.Referrer.Medium, r.Referrer.Source), Is.EqualTo(("mail.google.com", "email", "gmail")));
            Assert.That((r.Campaign.Source, r.Campaign.Medium, r.Campaign.Name), Is.EqualTo(("newsletter", "email", "spring")));
            Assert.That(r.Channel, Is.EqualTo("Email"));
            Assert.That(r.Device!.Browser, Is.EqualTo("Chrome"));
            Assert.That(r.Device.BrowserVersion, Is.EqualTo("119.0.6045.163"));
            Assert.That(r.Device.Os, Is.EqualTo("Android"));
            Assert.That(r.Device.OsVersion, Is.EqualTo("13"));
            Assert.That(r.Device.Family, Is.EqualTo("Samsung SM-G991B"));
            Assert.That(r.Device.IsBot, Is.False);
            Assert.That(r.UserAgent!.Device.Brand, Is.EqualTo("Samsung"));
            Assert.That((r.Geo!.Country, r.Geo.Region, r.Geo.City), Is.EqualTo(("FR", "IDF", "Paris")));
        });
    }

    [Test]
    public void Internal_navigation_keeps_the_landing_campaign()
    {
        // SPA route change: the event's own referrer is the previous route, the session landed from Google Ads.
        var r = _enricher.Enrich("shop", "https://www.shop.example/checkout", "https://www.shop.example/cart",
            "https://www.shop.example/?gclid=Cj0K&utm_campaign=brand", "https://www.google.fr/", Chrome, null);

        Assert.Multiple(() =>
        {
            Assert.That(r.Referrer.Medium, Is.EqualTo("internal"));
            Assert.That(r.Referrer.Source, Is.Null);
            Assert.That(r.Referrer.Host, Is.EqualTo("www.shop.example"));
            Assert.That((r.Campaign.Source, r.Campaign.Medium, r.Campaign.Name), Is.EqualTo(("google", "cpc", "brand")));
            Assert.That((r.Campaign.ClickId, r.Campaign.ClickPlatform), Is.EqualTo(("Cj0K", "google_ads")));
            Assert.That(r.ChannelGroup, Is.EqualTo(DefaultChannel.PaidSearch));
            Assert.That(r.Geo, Is.Null);
        });
    }

    [Test]
    public void Landing_without_referrer_is_direct_even_if_the_event_came_from_elsewhere_in_the_site()
    {
        var r = _enricher.Enrich("shop", "https://www.shop.example/b", "https://blog.shop-example.fr/post", "https://www.shop.example/a", null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That(r.Referrer.Medium, Is.EqualTo("internal"), "configured site domains are internal");
            Assert.That(r.Channel, Is.EqualTo("Direct"));
            Assert.That((r.Campaign.Source, r.Campaign.Medium), Is.EqualTo(("(direct)", "(none)")));
        });
    }

    [Test]
    public void Without_landing_the_event_url_and_referrer_decide()
    {
        var r = _enricher.Enrich("shop", "https://www.shop.example/", "https://www.bing.com/search?q=chaussures", null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That((r.Referrer.Medium, r.Referrer.Source, r.Referrer.Term), Is.EqualTo(("search", "bing", "chaussures")));
            Assert.That((r.Campaign.Source, r.Campaign.Medium, r.Campaign.Term), Is.EqualTo(("bing", "organic", "chaussures")));
            Assert.That(r.Channel, Is.EqualTo("Organic Search"));
        });
    }

    [Test]
    public void Extra_click_ids_are_reported()
    {
        var r = _enricher.Enrich(null, "https://x.example/?yclid=123", null, null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That((r.Campaign.ClickId, r.Campaign.ClickPlatform), Is.EqualTo(("123", "yandex_direct")));
            Assert.That(r.Channel, Is.EqualTo("Direct"));
        });
    }

    [Test]
    public void Unknown_site_uses_the_page_host_only()
    {
        var r = _enricher.Enrich("other", "https://www.shop.example/", "https://shop-example.fr/", null, null, null, null);
        Assert.That(r.Referrer.Medium, Is.EqualTo("referral"));
    }

    [Test]
    public void Bots_are_flagged()
    {
        var r = _enricher.Enrich(null, "https://x.example/", null, null, null, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", null);
        Assert.That(r.Device!.IsBot, Is.True);
    }

    [Test]
    public void Works_with_nothing_configured_and_nothing_given()
    {
        var bare = new Enricher(new EnricherOptions());
        var r = bare.Enrich(null, null, null, null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That(r.Page.Url, Is.Null);
            Assert.That(r.Referrer.Medium, Is.Null);
            Assert.That(r.Channel, Is.EqualTo("Direct"));
            Assert.That(r.Device, Is.Null);
            Assert.That(r.Geo, Is.Null);
            Assert.That(r.UserAgent, Is.Null);
        });

        var withUa = bare.Enrich(null, "https://x.example/", null, null, null, "curl/8.0", IPAddress.Loopback);
        Assert.Multiple(() =>
        {
            Assert.That(withUa.Device!.IsBot, Is.True, "keyword check runs without a parser");
            Assert.That(withUa.Device.Browser, Is.Null);
            Assert.That(withUa.Geo, Is.Null);
        });
    }

    [Test]
    public void Garbage_input_does_not_throw()
    {
        var random = new Random(7);
        const string alphabet = "htps:/?#&=%.@[]\\ +utm_sourcegclid\u00e9\u0000\ud83d";
        string Garbage()
        {
            var chars = new char[random.Next(0, 80)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = alphabet[random.Next(alphabet.Length)];
            }

            return new string(chars);
        }

        for (var i = 0; i < 5_000; i++)
        {
            _ = _enricher.Enrich(Garbage(), Garbage(), Garbage(), Garbage(), Garbage(), Garbage(), null);
        }

        Assert.Pass();
    }

    [Test]
    public void ApplyTo_fills_a_touchpoint_and_keeps_the_title()
    {
        var touchpoint = new Touchpoint { Page = new PageInfo { Title = "Shoes" } };
        _enricher.Enrich("shop", "https://www.shop.example/shoes", null, null, null, Chrome, IPAddress.Parse("2001:db8::1")).ApplyTo(touchpoint);
        Assert.Multiple(() =>
        {
            Assert.That(touchpoint.Page.Title, Is.EqualTo("Shoes"));
            Assert.That(touchpoint.Page.Path, Is.EqualTo("/shoes"));
            Assert.That(touchpoint.Channel, Is.EqualTo("Direct"));
            Assert.That(touchpoint.Device!.Os, Is.EqualTo("Android"));
            Assert.That(touchpoint.Geo!.City, Is.EqualTo("Berlin"));
        });
    }

    [Test]
    public void Is_safe_to_share_between_threads()
    {
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var r = _enricher.Enrich("shop", $"https://www.shop.example/p{i % 50}?utm_source=s{i % 3}&utm_medium=cpc", null, null, null, Chrome, IPAddress.Parse("81.2.69.200"));
            if (r.Campaign.Source != $"s{i % 3}" || r.Geo?.City != "Lyon" || r.Device?.Browser != "Chrome")
            {
                throw new InvalidOperationException("inconsistent result");
            }
        });
        Assert.Pass();
    }

    [Test]
    public void A_spam_referrer_is_flagged_as_automated_and_counted_by_reason()
    {
        var enricher = new Enricher(new EnricherOptions());
        var r = enricher.Enrich("s", "https://www.shop.example/", "https://semalt.semalt.com/crawler.php?u=x", null, null, null, null);
        var clean = enricher.Enrich("s", "https://www.shop.example/", "https://www.google.fr/", null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That((r.Referrer.Medium, r.Referrer.Source), Is.EqualTo(("spam", "semalt.semalt.com")));
            Assert.That((r.Campaign.Source, r.Campaign.Medium, r.Channel), Is.EqualTo(("semalt.semalt.com", "spam", "Unassigned")));
            Assert.That(r.Device?.IsBot, Is.True);
            Assert.That(clean.Device, Is.Null);
            Assert.That(enricher.SpamReferrerCounts().Single(c => c.Key == "seo-offer").Value, Is.EqualTo(1));
            Assert.That(enricher.SpamReferrerCounts().Sum(c => c.Value), Is.EqualTo(1));
        });
    }

    [Test]
    public void Ai_assistants_have_their_channel_unless_strict_ga4_is_asked_for()
    {
        var extended = new Enricher(new EnricherOptions()).Enrich("s", "https://www.shop.example/", "https://chatgpt.com/", null, null, null, null);
        var strict = new Enricher(new EnricherOptions { StrictGa4Channels = true }).Enrich("s", "https://www.shop.example/", "https://chatgpt.com/", null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That((extended.Referrer.Medium, extended.Campaign.Medium, extended.Channel), Is.EqualTo(("ai", "ai", "AI Assistants")));
            Assert.That((strict.Referrer.Medium, strict.Campaign.Medium, strict.Channel), Is.EqualTo(("ai", "referral", "Referral")));
        });
    }

    [Test]
    public void An_override_table_is_used_and_reported()
    {
        var table = TouchpointTracker.Enrichment.Referrers.ReferrerTable.BuiltIn.WithOverride(new StringReader("sources:\n  - source: acme\n    medium: social\n    hosts: [acme.example]\n"), "acme.yaml");
        var enricher = new Enricher(new EnricherOptions { Referrers = table });
        var r = enricher.Enrich("s", "https://www.shop.example/", "https://www.acme.example/", null, null, null, null);
        Assert.Multiple(() =>
        {
            Assert.That((r.Referrer.Medium, r.Campaign.Source, r.Channel), Is.EqualTo(("social", "acme", "Organic Social")));
            Assert.That(enricher.Referrers.Description, Does.EndWith("+ acme.yaml"));
        });
    }
}
