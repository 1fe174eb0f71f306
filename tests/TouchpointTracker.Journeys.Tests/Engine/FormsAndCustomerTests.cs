using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>
/// Lead forms against other forms, site search, and the customer stages as the seeds read them
///, on the default rules.
/// </summary>
public sealed class FormsAndCustomerTests
{
    private static JourneyInfo Stage(JourneyRunner runner, Touch touch, string visitor = "v") => runner.Apply(touch.Build(visitor)).Staged!.Journey!;

    private static JourneyInfo FormOn(string path, string? form, bool? lead = null)
    {
        var runner = new JourneyRunner();
        Stage(runner, Page(path).At(T0));
        var props = new List<(string, string)> { ("form", System.Text.Json.JsonSerializer.Serialize(form ?? "")) };
        if (lead is { } l)
        {
            props.Add(("lead", l ? "true" : "false"));
        }
        return Stage(runner, Event("form_submit", path).At(T0.AddMinutes(1)).Props([.. props]));
    }

    [TestCase("/contact", "")]
    [TestCase("/contact.html", "contact-form")]
    [TestCase("/request-a-demo", "hs-form-7")]
    [TestCase("/fr/devis", "")]
    [TestCase("/about", "quote-request")]
    [TestCase("/", "demo")]
    public void A_form_on_a_contact_demo_quote_or_trial_page_or_named_so_is_a_lead(string path, string form)
    {
        var info = FormOn(path, form);
        Assert.Multiple(() =>
        {
            Assert.That(info.Stage, Is.EqualTo("decision"));
            Assert.That(info.Reasons, Does.Contain("decision.lead-form"));
        });
    }

    [Test]
    public void A_form_marked_as_a_lead_form_is_a_lead_wherever_it_is()
    {
        var info = FormOn("/blog/guide", "download-gate", lead: true);
        Assert.Multiple(() =>
        {
            Assert.That(info.Stage, Is.EqualTo("decision"));
            Assert.That(info.Reasons, Does.Contain("decision.lead-form"));
            Assert.That(info.Reasons, Does.Not.Contain("consideration.newsletter-signup"));
        });
    }

    [Test]
    public void The_lead_command_is_a_lead()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/").At(T0));
        var info = Stage(runner, Event("lead", "/").At(T0.AddMinutes(1)));
        Assert.That(info.Reasons, Does.Contain("decision.conversion-event"));
        Assert.That(info.Stage, Is.EqualTo("decision"));
    }

    [TestCase("/", "newsletter")]
    [TestCase("/contact", "footer-newsletter")]
    [TestCase("/pricing", "mc-subscribe")]
    [TestCase("/fr/", "inscription-lettre")]
    [TestCase("/newsletter", "")]
    public void A_newsletter_sign_up_is_consideration_even_in_the_footer_of_a_contact_page(string path, string form)
    {
        var info = FormOn(path, form);
        Assert.Multiple(() =>
        {
            Assert.That(info.Reasons, Does.Contain("consideration.newsletter-signup"));
            Assert.That(info.Reasons, Does.Not.Contain("decision.lead-form"));
            Assert.That(info.Reasons, Does.Not.Contain("decision.conversion-event"));
        });
    }

    [TestCase("/", "search")]
    [TestCase("/contact", "site-search")]
    [TestCase("/blog", "recherche")]
    [TestCase("/blog", "")]
    [TestCase("/account", "login")]
    public void A_search_box_or_another_form_fires_nothing(string path, string form) =>
        Assert.That(FormOn(path, form).Reasons, Is.Empty);

    [Test]
    public void A_site_search_records_its_term_on_the_touch_and_the_session()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/").At(T0));
        Stage(runner, Event("form_submit", "/").At(T0.AddMinutes(1)).Props(("form", "\"search\"")));
        var results = Page("/search").At(T0.AddMinutes(1)).Build("v");
        results.Page.Query = "q=prix+logiciel%20CRM";
        var info = runner.Apply(results).Staged!.Journey!;
        var wordpress = Page("/").At(T0.AddMinutes(2)).Build("v");
        wordpress.Page.Query = "s=attribution";
        var second = runner.Apply(wordpress).Staged!.Journey!;
        Assert.Multiple(() =>
        {
            Assert.That(info.SiteSearch, Is.EqualTo("prix logiciel CRM"));
            Assert.That(info.Reasons, Is.EqualTo(new[] { "record.site-search" }), "a reason, no stage, no points");
            Assert.That(info.Stage, Is.EqualTo("awareness"));
            Assert.That(second.SiteSearch, Is.EqualTo("attribution"));
            Assert.That(runner.StateOf("v").CurrentSession!.SiteSearchTerms, Is.EqualTo(new[] { "prix logiciel CRM", "attribution" }));
            Assert.That(runner.Staged[0].Journey!.SiteSearch, Is.Null);
        });
    }

    [Test]
    public void After_the_first_purchase_the_next_touch_is_retention_and_a_review_is_advocacy()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/pricing").At(T0));
        var purchase = Stage(runner, Event("purchase", "/checkout/thanks").At(T0.AddMinutes(5)));
        var next = Stage(runner, Page("/account").At(T0.AddDays(3)).Session("s2"));
        var review = Stage(runner, Event("review", "/account").At(T0.AddDays(3).AddMinutes(1)).Session("s2"));
        Assert.Multiple(() =>
        {
            Assert.That(purchase.Stage, Is.EqualTo("decision"), "the purchase itself is the decision");
            Assert.That(next.Stage, Is.EqualTo("retention"));
            Assert.That(next.Reasons, Does.Contain("retention.customer"));
            Assert.That(review.Stage, Is.EqualTo("advocacy"));
        });
    }

    [Test]
    public void A_won_deal_makes_a_customer_too_but_a_share_before_any_purchase_is_not_advocacy()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/contact").At(T0));
        var share = Stage(runner, Event("share", "/blog/x").At(T0.AddMinutes(1)));
        Stage(runner, Event("won", "/").At(T0.AddDays(10)).Session("s2"));
        var next = Stage(runner, Page("/").At(T0.AddDays(12)).Session("s3"));
        var customerShare = Stage(runner, Event("share", "/blog/x").At(T0.AddDays(12).AddMinutes(1)).Session("s3"));
        Assert.Multiple(() =>
        {
            Assert.That(share.Reasons, Does.Not.Contain("advocacy.customer-share"));
            Assert.That(share.Stage, Is.EqualTo("decision"));
            Assert.That(next.Stage, Is.EqualTo("retention"));
            Assert.That(customerShare.Stage, Is.EqualTo("advocacy"));
        });
    }

    [Test]
    public void The_older_reading_retention_at_a_second_purchase_is_the_default_rules_without_retention_customer()
    {
        var yaml = Journeys.Rules.StageRulesLoader.DefaultText();
        var start = yaml.IndexOf("  - id: retention.customer", StringComparison.Ordinal);
        var end = yaml.IndexOf("  - id: retention.repeat-purchase", StringComparison.Ordinal);
        var engine = Journeys.Rules.StageRulesLoader.Parse(yaml.Remove(start, end - start), "older reading");
        var runner = new JourneyRunner(new JourneyProcessor(engine, JourneySettings.Default));
        Stage(runner, Event("purchase", "/checkout/thanks").At(T0));
        var next = Stage(runner, Page("/").At(T0.AddDays(3)).Session("s2"));
        var second = Stage(runner, Event("purchase", "/checkout/thanks").At(T0.AddDays(3).AddMinutes(1)).Session("s2"));
        Assert.Multiple(() =>
        {
            Assert.That(next.Stage, Is.EqualTo("decision"));
            Assert.That(second.Stage, Is.EqualTo("retention"));
        });
    }
}

/// <summary><c>journey.stages_passed</c>: every stage up to the furthest reached, skipped ones included.</summary>
public sealed class StagesPassedTests
{
    [Test]
    public void A_transactional_search_on_a_first_visit_has_passed_awareness_and_consideration()
    {
        var runner = new JourneyRunner();
        var info = runner.Apply(Page("/pricing").At(T0).FromSearch("Google", "crm pricing").Build("v")).Staged!.Journey!;
        Assert.Multiple(() =>
        {
            Assert.That(info.Stage, Is.EqualTo("decision"));
            Assert.That(info.StagesPassed, Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
        });
    }

    [Test]
    public void Stages_passed_follow_the_stages_in_use_and_never_shrink_when_stages_may_move_back()
    {
        var yaml = Journeys.Rules.StageRulesLoader.DefaultText().Replace("forward_only: true", "forward_only: false", StringComparison.Ordinal);
        var runner = new JourneyRunner(new JourneyProcessor(Journeys.Rules.StageRulesLoader.Parse(yaml, "backwards"), JourneySettings.Default));
        var pricing = runner.Apply(Page("/pricing").At(T0).Build("v")).Staged!.Journey!;
        var blog = runner.Apply(Page("/blog/x").At(T0.AddMinutes(1)).Build("v")).Staged!.Journey!;
        var home = runner.Apply(Page("/").At(T0.AddMinutes(2)).Build("v")).Staged!.Journey!;
        Assert.Multiple(() =>
        {
            Assert.That(pricing.StagesPassed, Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
            Assert.That(blog.Stage, Is.EqualTo("awareness"), "moved back");
            Assert.That(blog.StagesPassed, Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
            Assert.That(home.StagesPassed, Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
        });
    }
}
