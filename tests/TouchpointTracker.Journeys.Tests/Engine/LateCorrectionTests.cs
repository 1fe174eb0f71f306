using System.Text.Json;
using System.Text.Json.Nodes;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>
/// Touches older than the late event window (offline events sent weeks later, mostly) are evaluated at their own
/// time and correct the journey's stage history, publishing corrected transitions.
/// </summary>
public sealed class LateCorrectionTests
{
    private static (string Stage, DateTimeOffset At)[] History(JourneyRunner runner) =>
        [.. runner.StateOf("v").StageHistory!.Select(e => (e.Stage, e.At))];

    /// <summary>Blog at day 0 (awareness), pricing at day 10 (decision).</summary>
    private static JourneyRunner BlogThenPricing()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/what-is-a-customer-journey").At(T0).Build("v"));
        runner.Apply(Page("/pricing").At(T0.AddDays(10)).Session("s2").Build("v"));
        Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("decision", T0.AddDays(10)) }), "the journey before the late touch");
        return runner;
    }

    [Test]
    public void A_call_that_happened_before_the_pricing_visit_moves_decision_back_to_its_time()
    {
        var runner = BlogThenPricing();
        var before = runner.Transitions.Count;
        // sent at day 12 by the CRM: the call happened at day 3
        var step = runner.Apply(Offline("call").At(T0.AddDays(3)).Id("call-1").Build("v"));

        var state = runner.StateOf("v");
        var corrected = runner.Transitions.Skip(before).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(step.Lateness, Is.EqualTo(Lateness.TooLate));
            Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("decision", T0.AddDays(3)) }));
            Assert.That(corrected, Has.Count.EqualTo(1), "one corrected transition");
            Assert.That(corrected[0].Kind, Is.EqualTo("corrected"));
            Assert.That(corrected[0].FromStage, Is.EqualTo("awareness"));
            Assert.That(corrected[0].ToStage, Is.EqualTo("decision"));
            Assert.That(corrected[0].Ts, Is.EqualTo(T0.AddDays(3)));
            Assert.That(corrected[0].ReplacesTs, Is.EqualTo(T0.AddDays(10)));
            Assert.That(corrected[0].EventId, Is.EqualTo("call-1"));
            Assert.That(step.Staged!.Journey!.Stage, Is.EqualTo("decision"), "the stage at its own time, after the touch");
            Assert.That(step.Staged.Journey.PreviousStage, Is.EqualTo("awareness"), "the stage at its own time, before the touch");
            Assert.That(state.Stage, Is.EqualTo("decision"));
            Assert.That(state.LastSeen, Is.EqualTo(T0.AddDays(10)), "the journey's latest touch does not move back");
            Assert.That(state.Sessions, Is.EqualTo(3), "the call has a session of its own, between the two visits");
            Assert.That(state.RecentSessions.Select(s => s.Start), Is.Ordered);
        });
    }

    [Test]
    public void The_tally_counts_the_touch_as_too_late_and_no_stage_change()
    {
        var runner = BlogThenPricing();
        var tally = new StagingTally();
        tally.Count(runner.Apply(Offline("call").At(T0.AddDays(3)).Id("call-1").Build("v")));
        Assert.Multiple(() =>
        {
            Assert.That(tally.TooLate, Is.EqualTo(1));
            Assert.That(tally.TransitionsTo, Is.Empty, "a correction is not a stage change");
        });
    }

    [Test]
    public void A_late_touch_that_changes_nothing_publishes_nothing()
    {
        var runner = BlogThenPricing();
        var before = runner.Transitions.Count;
        var step = runner.Apply(Page("/blog/another-post").At(T0.AddMinutes(10)).Build("v"));
        var duplicateCall = runner.Apply(Offline("call").At(T0.AddDays(11)).Id("call-2").Build("v"));
        Assert.Multiple(() =>
        {
            Assert.That(step.Lateness, Is.EqualTo(Lateness.TooLate));
            Assert.That(step.Transition, Is.Null);
            Assert.That(step.Staged!.Journey!.Stage, Is.EqualTo("awareness"), "the stage at its own time");
            Assert.That(step.Staged.Journey.SessionIndex, Is.EqualTo(1), "placed in the session it belongs to");
            Assert.That(duplicateCall.Transition, Is.Null, "in order, already in decision");
            Assert.That(runner.Transitions, Has.Count.EqualTo(before));
            Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("decision", T0.AddDays(10)) }));
        });
    }

    [Test]
    public void A_late_touch_reaching_a_stage_the_journey_never_reached_moves_it_forward_dated_at_its_time()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/what-is-a-customer-journey").At(T0).Build("v"));
        runner.Apply(Page("/blog/another-post").At(T0.AddDays(10)).Session("s2").Build("v")); // returning: consideration
        Assert.That(runner.StateOf("v").Stage, Is.EqualTo("consideration"));
        var step = runner.Apply(Offline("meeting").At(T0.AddDays(3)).Id("meet-1").Build("v"));

        Assert.Multiple(() =>
        {
            Assert.That(step.Transition, Is.Not.Null);
            Assert.That(step.Transition!.Kind, Is.Null, "an ordinary transition");
            Assert.That(step.Transition.FromStage, Is.EqualTo("consideration"), "from the current stage");
            Assert.That(step.Transition.ToStage, Is.EqualTo("decision"));
            Assert.That(step.Transition.Ts, Is.EqualTo(T0.AddDays(3)));
            Assert.That(runner.StateOf("v").Stage, Is.EqualTo("decision"));
            Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("decision", T0.AddDays(3)) }),
                "consideration at day 10 is superseded: the journey was in decision from day 3");
        });
    }

    [Test]
    public void A_late_touch_in_a_stage_the_journey_skipped_adds_it_to_the_history()
    {
        var runner = BlogThenPricing();
        var step = runner.Apply(Offline("email_reply").At(T0.AddMinutes(20)).Id("reply-1").Build("v"));
        Assert.Multiple(() =>
        {
            Assert.That(step.Transition!.Kind, Is.EqualTo("corrected"));
            Assert.That(step.Transition.ReplacesTs, Is.Null, "nothing replaced: the stage is new in the history");
            Assert.That(step.Transition.ToStage, Is.EqualTo("consideration"));
            Assert.That(runner.StateOf("v").Stage, Is.EqualTo("decision"), "the current stage stays");
            Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("consideration", T0.AddMinutes(20)), ("decision", T0.AddDays(10)) }));
        });
    }

    [Test]
    public void The_points_of_a_late_touch_are_decayed_from_its_time_to_the_journeys_latest()
    {
        var engine = StageRulesLoader.Parse("""
            score_half_life_days: 10
            rules:
              - { id: page, stage: awareness, points: 10, when: { type: [pageview] } }
              - { id: call, stage: decision, points: 20, when: { type: [offline] } }
            """, "test");
        var runner = new JourneyRunner(new JourneyProcessor(engine, JourneySettings.Default));
        runner.Apply(Page("/").At(T0).Build("v"));
        runner.Apply(Page("/").At(T0.AddDays(20)).Session("s2").Build("v"));
        var call = runner.Apply(Offline("call").At(T0.AddDays(10)).Id("call-1").Build("v"));
        Assert.Multiple(() =>
        {
            Assert.That(runner.StateOf("v").Score, Is.EqualTo(10 / 4.0 + 10 + 20 / 2.0).Within(0.01));
            Assert.That(call.Transition!.ToStage, Is.EqualTo("decision"));
            Assert.That(call.Transition.Kind, Is.Null, "decision was never reached: an ordinary transition");
        });
    }

    [Test]
    public void A_touch_before_the_journeys_first_one_is_its_first_touch()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/what-is-a-customer-journey").At(T0.AddDays(5)).Build("v"));
        runner.Apply(Page("/blog/another-post").At(T0.AddDays(5).AddMinutes(5)).Build("v"));
        var step = runner.Apply(Offline("email_reply").At(T0).Id("reply-0").Build("v"));
        var state = runner.StateOf("v");
        Assert.Multiple(() =>
        {
            Assert.That(state.Started, Is.EqualTo(T0));
            Assert.That(step.Staged!.Journey!.PreviousStage, Is.Null, "no stage before the journey's start");
            Assert.That(step.Transition!.ToStage, Is.EqualTo("consideration"));
            Assert.That(History(runner), Is.EqualTo(new[] { ("consideration", T0) }),
                "awareness at day 5 is superseded: the journey was in consideration from its new start");
            Assert.That(state.Stage, Is.EqualTo("consideration"));
        });
    }

    [Test]
    public void The_corrected_transition_carries_its_kind_and_the_time_it_replaces_on_the_topic()
    {
        var runner = BlogThenPricing();
        var ordinary = JsonSerializer.Serialize(runner.Transitions[^1], JourneysJsonContext.Default.StageTransition);
        var step = runner.Apply(Offline("call").At(T0.AddDays(3)).Id("call-1").Build("v"));
        var json = JsonNode.Parse(JsonSerializer.Serialize(step.Transition!, JourneysJsonContext.Default.StageTransition))!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)json["kind"], Is.EqualTo("corrected"));
            Assert.That(DateTimeOffset.Parse((string)json["replaces_ts"]!), Is.EqualTo(T0.AddDays(10)));
            Assert.That(DateTimeOffset.Parse((string)json["ts"]!), Is.EqualTo(T0.AddDays(3)));
            Assert.That(ordinary, Does.Not.Contain("\"kind\"").And.Not.Contain("replaces_ts"), "an ordinary transition has neither");
        });
    }

    [Test]
    public void A_deal_won_weeks_late_is_a_conversion_at_its_time()
    {
        var runner = BlogThenPricing();
        var step = runner.Apply(Offline("crm_stage", ("stage", "\"won\""), ("value", "12000"), ("currency", "\"EUR\""), ("deal_id", "\"D-1\""))
            .At(T0.AddDays(4)).Id("deal-1").Build("v"));
        var state = runner.StateOf("v");
        Assert.Multiple(() =>
        {
            Assert.That(step.Lateness, Is.EqualTo(Lateness.TooLate));
            Assert.That(step.Conversion, Is.Not.Null);
            Assert.That(step.Conversion!.Type, Is.EqualTo("won"));
            Assert.That(step.Conversion.Value, Is.EqualTo(12000));
            Assert.That(step.Transition!.Kind, Is.EqualTo("corrected"), "a qualified CRM stage is a decision touch: decision moves to day 4");
            Assert.That(History(runner), Is.EqualTo(new[] { ("awareness", T0), ("decision", T0.AddDays(4)) }));
            Assert.That(state.CountOf("won"), Is.EqualTo(1), "counted for retention");
        });
    }
}
