using TouchpointTracker.Enrichment.Channels;

namespace TouchpointTracker.Enrichment.Tests.Channels;

public class ChannelClassifierTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(DefaultChannel expected, string? source, string? medium, string? campaign = null, bool searchClick = false) =>
            new TestCaseData(source, medium, campaign, searchClick).Returns(expected)
                .SetName($"{expected}: {source ?? "-"} / {medium ?? "-"} / {campaign ?? "-"}{(searchClick ? " +click" : "")}");

        // 1. Direct
        yield return Case(DefaultChannel.Direct, "(direct)", "(none)");
        yield return Case(DefaultChannel.Direct, "(DIRECT)", "(not set)");
        // 2. Cross-network
        yield return Case(DefaultChannel.CrossNetwork, "google", "cpc", "pmax-cross-network-fr");
        yield return Case(DefaultChannel.CrossNetwork, "newsletter", "email", "Cross-Network test");
        // 3. Paid Shopping
        yield return Case(DefaultChannel.PaidShopping, "amazon", "cpc");
        yield return Case(DefaultChannel.PaidShopping, "google", "cpc", "shopping_fr");
        yield return Case(DefaultChannel.PaidShopping, "google", "ppc", "eshop-promo");
        yield return Case(DefaultChannel.PaidShopping, "partner", "paid", "summer-shop");
        yield return Case(DefaultChannel.PaidShopping, "ebay", "retargeting");
        // 4. Paid Search
        yield return Case(DefaultChannel.PaidSearch, "google", "cpc");
        yield return Case(DefaultChannel.PaidSearch, "bing", "ppc");
        yield return Case(DefaultChannel.PaidSearch, "www.google.fr", "paidsearch");
        yield return Case(DefaultChannel.PaidSearch, "qwant", "CPC");
        yield return Case(DefaultChannel.PaidSearch, "google", "cpc", "workshop-leads"); // "workshop": 'k' before "shop" is no shopping campaign
        yield return Case(DefaultChannel.PaidSearch, "newsletter", "email", null, true);
        yield return Case(DefaultChannel.PaidSearch, "google", "cpc", null, true);
        // 5. Paid Social
        yield return Case(DefaultChannel.PaidSocial, "facebook", "cpc");
        yield return Case(DefaultChannel.PaidSocial, "fb", "paid_social");
        yield return Case(DefaultChannel.PaidSocial, "linkedin", "cpm");
        yield return Case(DefaultChannel.PaidSocial, "tiktok", "cpc");
        // 6. Paid Video
        yield return Case(DefaultChannel.PaidVideo, "youtube", "cpv");
        yield return Case(DefaultChannel.PaidVideo, "vimeo", "paid");
        // 7. Display
        yield return Case(DefaultChannel.Display, "criteo", "display");
        yield return Case(DefaultChannel.Display, "dv360", "cpm");
        yield return Case(DefaultChannel.Display, "partner", "banner");
        yield return Case(DefaultChannel.Display, "partner", "Interstitial");
        yield return Case(DefaultChannel.Display, "partner", "expandable");
        // 8. Paid Other
        yield return Case(DefaultChannel.PaidOther, "partner", "cpc");
        yield return Case(DefaultChannel.PaidOther, "partner", "paid");
        yield return Case(DefaultChannel.PaidOther, "partner", "ppc");
        // 8a. AI Assistants (the project's extension; strict GA4 mode: see Strict_mode_*)
        yield return Case(DefaultChannel.AiAssistants, "chatgpt", "ai");
        yield return Case(DefaultChannel.AiAssistants, "chatgpt.com", "(not set)"); // ChatGPT adds utm_source=chatgpt.com
        yield return Case(DefaultChannel.AiAssistants, "perplexity", "referral");
        yield return Case(DefaultChannel.AiAssistants, "claude.ai", "referral");
        yield return Case(DefaultChannel.AiAssistants, "assistant", "ai");
        yield return Case(DefaultChannel.PaidOther, "chatgpt", "cpc");
        // 8b. Ad-serving hosts and webmail names are no site list: the medium decides
        yield return Case(DefaultChannel.Display, "google", "display");
        yield return Case(DefaultChannel.PaidOther, "outbrain", "cpc");
        yield return Case(DefaultChannel.Email, "gmx", "email");
        yield return Case(DefaultChannel.Email, "web.de", "email");
        yield return Case(DefaultChannel.Email, "mail.ru", "email");
        yield return Case(DefaultChannel.OrganicSearch, "gmx", "organic");
        yield return Case(DefaultChannel.Unassigned, "semalt.com", "spam");
        // 9. Organic Shopping
        yield return Case(DefaultChannel.OrganicShopping, "amazon", "referral");
        yield return Case(DefaultChannel.OrganicShopping, "partner", "email", "Shopping week");
        yield return Case(DefaultChannel.OrganicShopping, "newsletter", "referral", "shop");
        // 10. Organic Social
        yield return Case(DefaultChannel.OrganicSocial, "facebook", "social");
        yield return Case(DefaultChannel.OrganicSocial, "t.co", "referral");
        yield return Case(DefaultChannel.OrganicSocial, "partner", "social-network");
        yield return Case(DefaultChannel.OrganicSocial, "partner", "social media");
        yield return Case(DefaultChannel.OrganicSocial, "partner", "sm");
        yield return Case(DefaultChannel.OrganicSocial, "linkedin", "(not set)");
        // 11. Organic Video
        yield return Case(DefaultChannel.OrganicVideo, "youtube", "referral");
        yield return Case(DefaultChannel.OrganicVideo, "partner", "video-embed");
        // 12. Organic Search
        yield return Case(DefaultChannel.OrganicSearch, "google", "organic");
        yield return Case(DefaultChannel.OrganicSearch, "partner", "organic");
        yield return Case(DefaultChannel.OrganicSearch, "ecosia", "referral");
        // 13. Email
        yield return Case(DefaultChannel.Email, "newsletter", "email");
        yield return Case(DefaultChannel.Email, "newsletter", "E-Mail");
        yield return Case(DefaultChannel.Email, "e_mail", "(not set)");
        yield return Case(DefaultChannel.Email, "crm", "e mail");
        // 14. Affiliates
        yield return Case(DefaultChannel.Affiliates, "impact", "affiliate");
        // 15. Referral
        yield return Case(DefaultChannel.Referral, "lemonde.fr", "referral");
        // 16. Audio
        yield return Case(DefaultChannel.Audio, "spotify", "audio");
        // 17. SMS
        yield return Case(DefaultChannel.Sms, "brevo", "sms");
        // 18. Mobile Push
        yield return Case(DefaultChannel.MobilePush, "app", "web-push");
        yield return Case(DefaultChannel.MobilePush, "app", "mobile-app");
        yield return Case(DefaultChannel.MobilePush, "app", "notification");
        // 19. Unassigned
        yield return Case(DefaultChannel.Unassigned, "newsletter", "(not set)");
        yield return Case(DefaultChannel.Unassigned, "(not set)", "qr");
        yield return Case(DefaultChannel.Unassigned, null, null);
        yield return Case(DefaultChannel.Unassigned, "(direct)", "print");
    }

    [TestCaseSource(nameof(Cases))]
    public DefaultChannel Classifies(string? source, string? medium, string? campaign, bool searchClick) =>
        ChannelClassifier.Default.Classify(source, medium, campaign, searchClick);

    [TestCase("chatgpt", "ai", DefaultChannel.Unassigned)]
    [TestCase("chatgpt", "referral", DefaultChannel.Referral)]
    [TestCase("chatgpt.com", "(not set)", DefaultChannel.Unassigned)]
    [TestCase("perplexity", "referral", DefaultChannel.Referral)]
    [TestCase("google", "organic", DefaultChannel.OrganicSearch)]
    public void Strict_mode_assigns_only_ga4_groups(string source, string medium, DefaultChannel expected)
    {
        var strict = new ChannelClassifier(TouchpointTracker.Enrichment.Referrers.SourceCatalog.Default, strictGa4: true);
        Assert.That(strict.Classify(source, medium, null), Is.EqualTo(expected));
    }

    [Test]
    public void Every_channel_has_a_test_case()
    {
        var covered = Cases().Select(c => (DefaultChannel)c.ExpectedResult!).ToHashSet();
        Assert.That(covered, Is.EquivalentTo(Enum.GetValues<DefaultChannel>()));
    }

    [TestCase(DefaultChannel.Direct, "Direct")]
    [TestCase(DefaultChannel.CrossNetwork, "Cross-network")]
    [TestCase(DefaultChannel.PaidShopping, "Paid Shopping")]
    [TestCase(DefaultChannel.OrganicSearch, "Organic Search")]
    [TestCase(DefaultChannel.Sms, "SMS")]
    [TestCase(DefaultChannel.MobilePush, "Mobile Push")]
    [TestCase(DefaultChannel.Unassigned, "Unassigned")]
    public void Display_names_follow_ga4(DefaultChannel channel, string name)
    {
        Assert.That(channel.ToDisplayName(), Is.EqualTo(name));
    }

    [Test]
    public void Every_channel_has_a_distinct_display_name()
    {
        var names = Enum.GetValues<DefaultChannel>().Select(c => c.ToDisplayName()).ToList();
        Assert.That(names, Is.Unique);
    }

    [TestCase("shop", true)]
    [TestCase("SHOP-fr", true)]
    [TestCase("eshop", true)]
    [TestCase("e-shop", true)]
    [TestCase("2024_shop", true)]
    [TestCase("Shopping", true)]
    [TestCase("workshop", false)]
    [TestCase("bishop", false)]
    [TestCase("brand", false)]
    [TestCase("", false)]
    public void Shopping_campaign_pattern(string campaign, bool expected)
    {
        Assert.That(ChannelClassifier.IsShoppingCampaign(campaign), Is.EqualTo(expected));
    }

    [TestCase("cpc", true)]
    [TestCase("cpm", true)]
    [TestCase("xcpx", true)]
    [TestCase("ppc", true)]
    [TestCase("retargeting", true)]
    [TestCase("paid_social", true)]
    [TestCase("Paid", true)]
    [TestCase("prepaid", false)]
    [TestCase("email", false)]
    [TestCase("ppc2", false)]
    public void Paid_medium_pattern(string medium, bool expected)
    {
        Assert.That(ChannelClassifier.IsPaid(medium), Is.EqualTo(expected));
    }
}
