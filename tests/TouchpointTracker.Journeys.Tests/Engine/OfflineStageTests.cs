using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>Offline touchpoints (calls, meetings, CRM stages) move journeys on the default rules.</summary>
public sealed class OfflineStageTests
{
    private static JourneyInfo Stage(JourneyRunner runner, Touch touch) => runner.Apply(touch.Build("v")).Staged!.Journey!;

    private static string Text(string value) => JsonSerializer.Serialize(value);

    [TestCase("call")]
    [TestCase("meeting")]
    [TestCase("chat")]
    [TestCase("form")]
    public void A_conversation_with_sales_is_a_decision_touch(string type)
    {
        var runner = new JourneyRunner();
        Assert.That(Stage(runner, Page("/blog/what-is-a-customer-journey").At(T0)).Stage, Is.EqualTo("awareness"));
        var info = Stage(runner, Offline(type).At(T0.AddDays(3)).Id("off-" + type));
        Assert.Multiple(() =>
        {
            Assert.That(info.Stage, Is.EqualTo("decision"));
            Assert.That(info.Reasons, Does.Contain("decision.offline-conversation"));
        });
    }

    [Test]
    public void An_email_reply_is_consideration_and_other_offline_types_fire_nothing()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/").At(T0));
        var reply = Stage(runner, Offline("email_reply").At(T0.AddDays(1)).Id("r-1"));
        var other = Stage(runner, Offline("webinar_attended_in_person").At(T0.AddDays(2)).Id("o-1"));
        Assert.Multiple(() =>
        {
            Assert.That(reply.Stage, Is.EqualTo("consideration"));
            Assert.That(reply.Reasons, Does.Contain("consideration.offline-reply"));
            Assert.That(other.Reasons.Where(r => r.Contains("offline", StringComparison.Ordinal)), Is.Empty);
        });
    }

    [TestCase("sql", true)]
    [TestCase("opportunity", true)]
    [TestCase("won", true)]
    [TestCase("mql", false)]
    [TestCase("lost", false)]
    public void A_crm_stage_counts_from_sales_qualified_on(string stage, bool decision)
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/").At(T0));
        var info = Stage(runner, Offline("crm_stage", ("stage", Text(stage))).At(T0.AddDays(5)).Id("crm-" + stage));
        Assert.That(info.Reasons.Contains("decision.crm-qualified"), Is.EqualTo(decision), string.Join(", ", info.Reasons));
    }

    [Test]
    public void After_a_deal_won_in_the_crm_the_next_touch_is_retention()
    {
        var runner = new JourneyRunner();
        Stage(runner, Page("/pricing").At(T0));
        Stage(runner, Offline("crm_stage", ("stage", Text("won")), ("value", "12000"), ("currency", Text("EUR"))).At(T0.AddDays(20)).Id("won-1"));
        var next = Stage(runner, Page("/blog/onboarding").At(T0.AddDays(21)));
        Assert.Multiple(() =>
        {
            Assert.That(next.Stage, Is.EqualTo("retention"));
            Assert.That(next.Reasons, Does.Contain("retention.customer"));
        });
    }

    [Test]
    public void Offline_conditions_are_checked_like_the_others()
    {
        var yaml = """
            version: 1
            rules:
              - id: decision.calls
                stage: decision
                points: 1
                when: { offline: [call], type: [offline] }
            """;
        var rules = TouchpointTracker.Journeys.Rules.StageRulesLoader.Parse(yaml, "test.yaml");
        Assert.That(rules.Rules.Select(r => r.Id), Does.Contain("decision.calls"));
    }
}
