using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Channels;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Channels;

public class TrafficSourceResolverTests
{
    private static readonly ChannelClassifier Strict = new(SourceCatalog.Default, strictGa4: true);

    private static (TrafficSource Traffic, DefaultChannel Channel) Resolve(string landing, string? referrer, bool strict = false)
    {
        var page = UrlParser.Parse(landing);
        var campaign = CampaignParser.Default.Parse(page);
        var classification = ReferrerClassifier.Default.Classify(UrlParser.Parse(referrer), page.Host, SiteDomains.None);
        var traffic = TrafficSourceResolver.Resolve(campaign, classification, strict);
        return (traffic, (strict ? Strict : ChannelClassifier.Default).Classify(traffic));
    }

    [TestCase("https://s.example/", null, "(direct)", "(none)", DefaultChannel.Direct)]
    [TestCase("https://s.example/", "https://s.example/other", "(direct)", "(none)", DefaultChannel.Direct)]
    [TestCase("https://s.example/", "https://www.google.fr/", "google", "organic", DefaultChannel.OrganicSearch)]
    [TestCase("https://s.example/", "https://l.facebook.com/", "facebook", "social", DefaultChannel.OrganicSocial)]
    [TestCase("https://s.example/", "https://www.youtube.com/", "youtube", "referral", DefaultChannel.OrganicVideo)]
    [TestCase("https://s.example/", "https://www.amazon.fr/", "amazon", "referral", DefaultChannel.OrganicShopping)]
    [TestCase("https://s.example/", "https://mail.google.com/", "gmail", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/", "https://www.lemonde.fr/a", "lemonde.fr", "referral", DefaultChannel.Referral)]
    [TestCase("https://s.example/", "https://chatgpt.com/", "chatgpt", "ai", DefaultChannel.AiAssistants)]
    [TestCase("https://s.example/", "https://www.perplexity.ai/search/x", "perplexity", "ai", DefaultChannel.AiAssistants)]
    [TestCase("https://s.example/", "https://www.bing.com/chat", "copilot", "ai", DefaultChannel.AiAssistants)]
    [TestCase("https://s.example/?utm_source=chatgpt.com", "https://chatgpt.com/", "chatgpt.com", "(not set)", DefaultChannel.AiAssistants)]
    [TestCase("https://s.example/", "https://deref-gmx.net/mail/client/x/dereferrer/", "gmx", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/", "https://mail01.orange.fr/", "orange mail", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/", "https://e.mail.ru/", "mail.ru", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/", "https://go.mail.ru/search?q=x", "mail.ru", "organic", DefaultChannel.OrganicSearch)]
    [TestCase("https://s.example/", "https://googleads.g.doubleclick.net/pagead/ads", "google", "display", DefaultChannel.Display)]
    [TestCase("https://s.example/", "https://syndicatedsearch.goog/afs/ads", "google", "cpc", DefaultChannel.PaidSearch)]
    [TestCase("https://s.example/", "https://paid.outbrain.com/network/redir", "outbrain", "cpc", DefaultChannel.PaidOther)]
    [TestCase("https://s.example/", "https://semalt.com/", "semalt.com", "spam", DefaultChannel.Unassigned)]
    [TestCase("https://s.example/", "https://www.pricerunner.com/search?q=tv", "pricerunner", "referral", DefaultChannel.OrganicShopping)]
    [TestCase("https://s.example/?utm_source=newsletter&utm_medium=email", "https://mail.google.com/", "newsletter", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/?utm_source=facebook&utm_medium=paid_social", "https://l.facebook.com/", "facebook", "paid_social", DefaultChannel.PaidSocial)]
    [TestCase("https://s.example/?utm_source=newsletter", null, "newsletter", "(not set)", DefaultChannel.Unassigned)]
    [TestCase("https://s.example/?utm_medium=cpc", null, "(not set)", "cpc", DefaultChannel.PaidOther)]
    [TestCase("https://s.example/?gclid=abc", "https://www.google.com/", "google", "cpc", DefaultChannel.PaidSearch)]
    [TestCase("https://s.example/?gclid=abc", null, "google", "cpc", DefaultChannel.PaidSearch)]
    [TestCase("https://s.example/?gbraid=abc", "https://www.google.com/", "google", "cpc", DefaultChannel.PaidSearch)]
    [TestCase("https://s.example/?msclkid=abc", "https://www.bing.com/", "bing", "cpc", DefaultChannel.PaidSearch)]
    [TestCase("https://s.example/?dclid=abc", null, "dv360", "cpm", DefaultChannel.Display)]
    [TestCase("https://s.example/?fbclid=abc", "https://l.facebook.com/", "facebook", "social", DefaultChannel.OrganicSocial)]
    [TestCase("https://s.example/?fbclid=abc", "https://l.instagram.com/", "instagram", "social", DefaultChannel.OrganicSocial)]
    [TestCase("https://s.example/?fbclid=abc", null, "facebook", "social", DefaultChannel.OrganicSocial)]
    [TestCase("https://s.example/?ttclid=abc", "https://www.tiktok.com/", "tiktok", "cpc", DefaultChannel.PaidSocial)]
    [TestCase("https://s.example/?li_fat_id=abc", null, "linkedin", "cpc", DefaultChannel.PaidSocial)]
    [TestCase("https://s.example/?irclid=abc", null, "impact", "affiliate", DefaultChannel.Affiliates)]
    [TestCase("https://s.example/?mc_cid=abc", null, "mailchimp", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/?_kx=abc", null, "klaviyo", "email", DefaultChannel.Email)]
    [TestCase("https://s.example/?utm_campaign=spring", null, "(direct)", "(none)", DefaultChannel.Direct)]
    [TestCase("https://s.example/?utm_campaign=spring", "https://www.google.com/", "google", "organic", DefaultChannel.OrganicSearch)]
    [TestCase("https://s.example/?utm_source=google&utm_medium=cpc&utm_campaign=pmax_cross-network&gclid=x", null, "google", "cpc", DefaultChannel.CrossNetwork)]
    [TestCase("https://s.example/?utm_source=google&utm_medium=cpc&utm_campaign=shopping&gclid=x", null, "google", "cpc", DefaultChannel.PaidShopping)]
    public void Resolves_source_medium_and_channel(string landing, string? referrer, string source, string medium, DefaultChannel channel)
    {
        var (traffic, actual) = Resolve(landing, referrer);
        Assert.That((traffic.Source, traffic.Medium, actual), Is.EqualTo((source, medium, channel)));
    }

    [TestCase("https://chatgpt.com/", "chatgpt", "referral", DefaultChannel.Referral)]
    [TestCase("https://claude.ai/chat/1", "claude", "referral", DefaultChannel.Referral)]
    [TestCase("https://www.google.fr/", "google", "organic", DefaultChannel.OrganicSearch)]
    public void Strict_ga4_mode_files_ai_assistants_as_referrals(string referrer, string source, string medium, DefaultChannel channel)
    {
        var (traffic, actual) = Resolve("https://s.example/", referrer, strict: true);
        Assert.That((traffic.Source, traffic.Medium, actual), Is.EqualTo((source, medium, channel)));
    }

    [TestCase("https://googleads.g.doubleclick.net/pagead/ads", "https://s.example/", "google_ads")]
    [TestCase("https://www.bing.com/aclk?ld=x", "https://s.example/", "microsoft_ads")]
    [TestCase("https://googleads.g.doubleclick.net/pagead/ads", "https://s.example/?msclkid=1", "microsoft_ads")]
    public void Ad_serving_hosts_record_their_platform_unless_a_click_id_names_one(string referrer, string landing, string platform)
    {
        Assert.That(Resolve(landing, referrer).Traffic.ClickPlatform, Is.EqualTo(platform));
    }

    [Test]
    public void Organic_keyword_becomes_the_term_unless_utm_term_is_set()
    {
        Assert.That(Resolve("https://s.example/", "https://www.bing.com/search?q=crm+b2b").Traffic.Term, Is.EqualTo("crm b2b"));
        Assert.That(Resolve("https://s.example/?utm_campaign=c&utm_term=paid", "https://www.bing.com/search?q=crm").Traffic.Term, Is.EqualTo("paid"));
    }

    [Test]
    public void Keeps_campaign_fields_and_click_platform()
    {
        var (traffic, _) = Resolve("https://s.example/?utm_source=g&utm_medium=cpc&utm_campaign=c&utm_content=v&utm_id=7&gclid=G", null);
        Assert.Multiple(() =>
        {
            Assert.That(traffic.Campaign, Is.EqualTo("c"));
            Assert.That(traffic.Content, Is.EqualTo("v"));
            Assert.That(traffic.Id, Is.EqualTo("7"));
            Assert.That(traffic.ClickId, Is.EqualTo("G"));
            Assert.That(traffic.ClickPlatform, Is.EqualTo("google_ads"));
            Assert.That(traffic.HasSearchAdClickId, Is.True);
        });
    }
}
