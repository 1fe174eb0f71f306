using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>
/// Whole journeys through the default rules, one table per journey: each step is a touch and the stage
/// and reasons expected after it. A null stage means the touch is not staged (a bot).
/// </summary>
public sealed class JourneyTableTests
{
    public sealed record Step(Touch Touch, string? Stage, string[] Reasons, string? Channel = null, string? CampaignName = null, bool NewJourney = false);

    public sealed record JourneyCase(string Name, string Visitor, Step[] Steps)
    {
        public override string ToString() => Name;
    }

    private static Step S(Touch touch, string? stage, params string[] reasons) => new(touch, stage, reasons);

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return Case(new JourneyCase("search to purchase", "v-search",
        [
            S(Page("/blog/how-to-choose-running-shoes").At(T0).FromSearch("Google", "how to choose running shoes"),
                "awareness", "awareness.first-touch", "awareness.top-of-funnel-content", "awareness.informational-search"),
            S(Page("/compare/trail-vs-road").At(T0.AddMinutes(2)).Internal("/blog/how-to-choose-running-shoes"),
                "consideration", "consideration.comparison-content"),
            S(Page("/pricing").At(T0.AddDays(3)).FromSearch("Bing", "trail shoes price", paid: true).Session("s2"),
                "decision", "decision.pricing-page", "decision.transactional-search", "consideration.returning-visitor", "consideration.visit-within-a-week"),
            S(Event("add_to_cart", "/products/trail-1").At(T0.AddDays(3).AddMinutes(1)).Session("s2"), "decision", "decision.conversion-event"),
            S(Page("/checkout").At(T0.AddDays(3).AddMinutes(2)).Internal("/cart").Session("s2"), "decision", "decision.cart-or-checkout"),
            new(Event("purchase", "/checkout/thanks").At(T0.AddDays(3).AddMinutes(3)).Session("s2"), "decision", ["decision.conversion-event"], Channel: "Paid Search"),
            S(Page("/").At(T0.AddDays(20)).Session("s3"), "retention", "consideration.returning-visitor", "retention.customer"),
            S(Event("purchase", "/checkout/thanks").At(T0.AddDays(20).AddMinutes(4)).Session("s3"), "retention", "retention.repeat-purchase", "decision.conversion-event"),
            S(Event("review", "/reviews/new").At(T0.AddDays(21)).Session("s4"), "advocacy", "advocacy.referral-or-review"),
        ]));

        yield return Case(new JourneyCase("newsletter-nurtured B2B lead ending with a phone call", "v-b2b",
        [
            S(Page("/resources/crm-migration-guide").At(T0).FromSite("https://www.linkedin.com/", "social", "Organic Social", "LinkedIn"),
                "awareness", "awareness.first-touch", "awareness.top-of-funnel-content"),
            S(Event("newsletter_signup", "/resources/crm-migration-guide").At(T0.AddMinutes(4)), "consideration", "consideration.newsletter-signup"),
            new(Page("/blog/5-signs-you-need-a-new-crm").At(T0.AddDays(7)).Campaign("newsletter", "email", "nurture-1").Session("s2"),
                "consideration", ["consideration.nurture-email", "consideration.returning-visitor", "consideration.visit-within-a-week", "score.consideration"], Channel: "Email", CampaignName: "nurture-1"),
            S(Page("/case-studies/globex").At(T0.AddDays(14)).Campaign("newsletter", "email", "nurture-2").Session("s3"),
                "consideration", "consideration.case-study", "consideration.nurture-email"),
            S(Page("/pricing").At(T0.AddDays(21)).Campaign("newsletter", "email", "nurture-3").Session("s4"),
                "decision", "decision.pricing-page", "consideration.nurture-email", "score.decision"),
            new(Page("/contact").At(T0.AddDays(21).AddMinutes(3)).Internal("/pricing").Session("s4"),
                "decision", ["decision.contact-or-demo-page"], Channel: "Email", CampaignName: "nurture-3"),
            new(Event("lead", "/contact").At(T0.AddDays(21).AddMinutes(5)).Session("s4"), "decision", ["decision.conversion-event"], Channel: "Email", CampaignName: "nurture-3"),
            S(Event("call", "/contact").At(T0.AddDays(23)).Session("s5"), "decision", "decision.conversion-event", "consideration.returning-visitor"),
        ]));

        var direct = new List<Step>
        {
            S(Page("/").At(T0), "awareness", "awareness.first-touch"),
            S(Page("/products/widget").At(T0.AddMinutes(1)).Internal(), "awareness", "score.product-pages"),
            S(Page("/").At(T0.AddDays(2)).Session("s2"), "consideration", "consideration.returning-visitor", "consideration.visit-within-a-week"),
        };
        for (var i = 2; i <= 8; i++)
        {
            var page = Page($"/products/item-{i}").At(T0.AddDays(2).AddMinutes(i)).Internal().Session("s2");
            direct.Add(i == 2 ? S(page, "consideration", "score.product-pages") : S(page, "consideration"));
        }
        direct.Add(S(Page("/about").At(T0.AddDays(2).AddMinutes(10)).Internal().Session("s2"), "consideration", "consideration.deep-visit"));
        direct.Add(S(Engagement(200_000, "/about").At(T0.AddDays(2).AddMinutes(11)).Session("s2"), "consideration", "consideration.engaged-visit"));
        direct.Add(new(Page("/").At(T0.AddDays(45)).Session("s3"), "awareness", ["awareness.first-touch"], NewJourney: true));
        yield return Case(new JourneyCase("direct returning visitor", "v-direct", [.. direct]));

        yield return Case(new JourneyCase("a bot", "v-bot",
        [
            S(Page("/pricing").At(T0).Bot(), null),
            S(Page("/contact").At(T0.AddMinutes(1)).Bot(), null),
            S(Page("/").At(T0.AddMinutes(2)), "awareness", "awareness.first-touch"),
        ]));

        yield return Case(new JourneyCase("French-language keywords", "v-fr",
        [
            S(Page("/blog/parcours-client").At(T0).FromSearch("Google", "Qu'est-ce qu'un parcours client ?"),
                "awareness", "awareness.first-touch", "awareness.top-of-funnel-content", "awareness.informational-search"),
            S(Page("/comparatif/crm").At(T0.AddDays(1)).FromSearch("Qwant", "meilleur logiciel CRM avis").Session("s2"),
                "consideration", "consideration.commercial-search", "consideration.comparison-content"),
            S(Page("/tarifs").At(T0.AddDays(2)).FromSearch("Google", "prix démo logiciel crm").Session("s3"),
                "decision", "decision.transactional-search", "decision.pricing-page"),
            S(Page("/essai-gratuit").At(T0.AddDays(2).AddMinutes(2)).Internal("/tarifs").Session("s3"),
                "decision", "decision.contact-or-demo-page"),
        ]));
    }

    private static TestCaseData Case(JourneyCase c) => new TestCaseData(c).SetName("Journey: " + c.Name);

    [TestCaseSource(nameof(Cases))]
    public void Each_touch_gets_the_expected_stage_and_reasons(JourneyCase journey)
    {
        var runner = new JourneyRunner();
        string? previous = null;
        string? journeyId = null;
        var touchIndex = 0;
        for (var i = 0; i < journey.Steps.Length; i++)
        {
            var step = journey.Steps[i];
            var tp = step.Touch.Build(journey.Visitor);
            var result = runner.Apply(tp);
            var where = $"step {i + 1} ({tp.Type} {tp.Name ?? tp.Page.Path})";
            if (step.Stage is null)
            {
                Assert.That(result.Outcome, Is.EqualTo(TouchOutcome.Bot), where);
                Assert.That(result.Staged, Is.Null, where);
                continue;
            }
            Assert.That(result.Outcome, Is.EqualTo(TouchOutcome.Staged), where);
            var info = result.Staged!.Journey!;
            if (step.NewJourney)
            {
                Assert.That(info.Id, Is.Not.EqualTo(journeyId), where + ": a new journey");
                previous = null;
                touchIndex = 0;
            }
            else if (journeyId is not null)
            {
                Assert.That(info.Id, Is.EqualTo(journeyId), where + ": same journey");
            }
            Assert.Multiple(() =>
            {
                Assert.That(info.Stage, Is.EqualTo(step.Stage), where + ": stage; reasons " + string.Join(", ", info.Reasons));
                Assert.That(info.Reasons, Is.SupersetOf(step.Reasons), where + ": reasons");
                Assert.That(info.PreviousStage, Is.EqualTo(previous), where + ": previous stage");
                Assert.That(info.TouchIndex, Is.EqualTo(touchIndex + 1), where + ": touch index");
                Assert.That(result.StageChanged, Is.EqualTo(previous != step.Stage), where + ": transition");
                if (step.Channel is not null)
                {
                    Assert.That(result.Staged.Channel, Is.EqualTo(step.Channel), where + ": channel carried from the session's landing");
                }
                if (step.CampaignName is not null)
                {
                    Assert.That(result.Staged.Campaign.Name, Is.EqualTo(step.CampaignName), where + ": campaign carried from the session's landing");
                }
            });
            if (step.Reasons.Length == 0)
            {
                Assert.That(info.Reasons, Is.Empty, where + ": no rule fires");
            }
            journeyId = info.Id;
            previous = info.Stage;
            touchIndex = info.TouchIndex;
        }
        Assert.That(runner.Transitions.Select(t => t.ToStage), Is.EqualTo(ExpectedTransitions(journey)), "one transition per change");
    }

    private static IEnumerable<string> ExpectedTransitions(JourneyCase journey)
    {
        string? previous = null;
        foreach (var step in journey.Steps.Where(s => s.Stage is not null))
        {
            if (step.NewJourney)
            {
                previous = null;
            }
            if (step.Stage != previous)
            {
                yield return step.Stage!;
            }
            previous = step.Stage;
        }
    }
}
