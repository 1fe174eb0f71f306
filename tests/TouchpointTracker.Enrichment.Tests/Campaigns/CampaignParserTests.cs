using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Campaigns;

public class CampaignParserTests
{
    private static readonly string[] ReferenceClickIds =
    [
        "gclid", "gbraid", "wbraid", "dclid", "gclsrc", "msclkid", "fbclid", "ttclid", "li_fat_id", "twclid",
        "rdt_cid", "epik", "sccid", "qclid", "irclid", "mc_cid", "_kx",
    ];

    private static CampaignParameters Parse(string url) => CampaignParser.Default.Parse(UrlParser.Parse(url));

    [Test]
    public void Reads_all_utm_fields()
    {
        var c = Parse("https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale&utm_term=running+shoes&utm_content=header&utm_id=abc.123");
        Assert.Multiple(() =>
        {
            Assert.That(c.Source, Is.EqualTo("newsletter"));
            Assert.That(c.Medium, Is.EqualTo("email"));
            Assert.That(c.Campaign, Is.EqualTo("spring_sale"));
            Assert.That(c.Term, Is.EqualTo("running shoes"));
            Assert.That(c.Content, Is.EqualTo("header"));
            Assert.That(c.Id, Is.EqualTo("abc.123"));
            Assert.That(c.IsTagged, Is.True);
            Assert.That(c.ClickId, Is.Null);
        });
    }

    [Test]
    public void Names_are_case_insensitive_and_may_be_escaped()
    {
        var c = Parse("https://example.com/?UTM_Source=Google&utm%5Fmedium=CPC&Utm_Campaign=Soldes%20d%27%C3%A9t%C3%A9");
        Assert.Multiple(() =>
        {
            Assert.That(c.Source, Is.EqualTo("Google"));
            Assert.That(c.Medium, Is.EqualTo("CPC"));
            Assert.That(c.Campaign, Is.EqualTo("Soldes d'été"));
        });
    }

    [Test]
    public void First_non_empty_value_wins_and_values_are_trimmed()
    {
        var c = Parse("https://example.com/?utm_source=&utm_source=%20%20first%20&utm_source=second");
        Assert.That(c.Source, Is.EqualTo("first"));
    }

    [Test]
    public void Values_are_bounded()
    {
        var c = Parse("https://example.com/?utm_campaign=" + new string('x', 1000));
        Assert.That(c.Campaign, Has.Length.EqualTo(EnrichmentLimits.MaxValueLength));
    }

    [Test]
    public void Fragment_is_not_read()
    {
        Assert.That(Parse("https://example.com/#utm_source=x").IsEmpty, Is.True);
    }

    [Test]
    public void Untagged_url_gives_empty()
    {
        Assert.That(Parse("https://example.com/products?id=5&color=red"), Is.SameAs(CampaignParameters.Empty));
        Assert.That(Parse("https://example.com/"), Is.SameAs(CampaignParameters.Empty));
    }

    [TestCase("gclid", "google_ads")]
    [TestCase("gbraid", "google_ads")]
    [TestCase("wbraid", "google_ads")]
    [TestCase("dclid", "google_ads")]
    [TestCase("gclsrc", "google_ads")]
    [TestCase("msclkid", "microsoft_ads")]
    [TestCase("fbclid", "meta")]
    [TestCase("ttclid", "tiktok")]
    [TestCase("li_fat_id", "linkedin")]
    [TestCase("twclid", "x")]
    [TestCase("rdt_cid", "reddit")]
    [TestCase("epik", "pinterest")]
    [TestCase("sccid", "snapchat")]
    [TestCase("qclid", "quora")]
    [TestCase("irclid", "impact")]
    [TestCase("mc_cid", "mailchimp")]
    [TestCase("_kx", "klaviyo")]
    [TestCase("GCLID", "google_ads")]
    public void Recognises_click_ids(string name, string platform)
    {
        var c = Parse($"https://example.com/?a=b&{name}=Cj0KCQ-abc_123");
        Assert.Multiple(() =>
        {
            Assert.That(c.ClickId, Is.EqualTo("Cj0KCQ-abc_123"));
            Assert.That(c.ClickIdDefinition!.Platform, Is.EqualTo(platform));
            Assert.That(c.IsTagged, Is.False);
            Assert.That(c.IsEmpty, Is.False);
        });
    }

    [Test]
    public void Built_in_list_covers_the_reference_click_ids()
    {
        var names = ClickIdRegistry.BuiltIn.Select(d => d.Parameter).ToArray();
        Assert.That(names, Is.EquivalentTo(ReferenceClickIds));
    }

    [Test]
    public void First_click_id_in_url_order_wins_and_empty_ones_are_skipped()
    {
        var c = Parse("https://example.com/?gclid=&fbclid=IwAR1&gclid=later");
        Assert.Multiple(() =>
        {
            Assert.That(c.ClickId, Is.EqualTo("IwAR1"));
            Assert.That(c.ClickIdDefinition!.Platform, Is.EqualTo("meta"));
        });
    }

    [Test]
    public void Extra_click_ids_are_configurable()
    {
        var parser = new CampaignParser(ClickIdRegistry.WithExtra(new Dictionary<string, string>
        {
            ["yclid"] = "yandex_direct",
            ["gclid"] = "overridden?",
            [" "] = "ignored",
        }));
        var c = parser.Parse(UrlParser.Parse("https://example.com/?YCLID=777"));
        var g = parser.Parse(UrlParser.Parse("https://example.com/?gclid=1"));
        Assert.Multiple(() =>
        {
            Assert.That(c.ClickId, Is.EqualTo("777"));
            Assert.That(c.ClickIdDefinition!.Platform, Is.EqualTo("yandex_direct"));
            Assert.That(c.ClickIdDefinition.Implication, Is.EqualTo(ClickIdImplication.None));
            Assert.That(g.ClickIdDefinition!.Platform, Is.EqualTo("google_ads"), "built-in definitions are kept");
        });
    }

    [Test]
    public void Never_throws_on_garbage_queries()
    {
        var random = new Random(42);
        const string alphabet = "utm_source=&%+gclid#?\u00e9\ud83d\ude00\u0000 ";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 60)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            _ = CampaignParser.Default.ParseQuery(chars);
        }

        Assert.Pass();
    }
}
