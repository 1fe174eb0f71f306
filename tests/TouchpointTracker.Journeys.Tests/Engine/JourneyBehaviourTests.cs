using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>Sessions, late events, duplicates, expiry, scoring and repeat limits of the journey engine.</summary>
public sealed class JourneyBehaviourTests
{
    [Test]
    public void The_same_event_id_twice_is_staged_once_and_leaves_the_state_as_it_was()
    {
        var runner = new JourneyRunner();
        var first = Page("/pricing").At(T0).Id("dup-1").Build("v");
        runner.Apply(first);
        var touches = runner.StateOf("v").Touches;

        var again = runner.Apply(Page("/pricing").At(T0).Id("dup-1").Build("v"));

        Assert.Multiple(() =>
        {
            Assert.That(again.Outcome, Is.EqualTo(TouchOutcome.Duplicate));
            Assert.That(again.Staged, Is.Null);
            Assert.That(runner.StateOf("v").Touches, Is.EqualTo(touches));
            Assert.That(runner.Staged, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void A_bot_is_counted_apart_and_starts_no_journey()
    {
        var runner = new JourneyRunner();
        var step = runner.Apply(Page("/pricing").At(T0).Bot().Build("crawler"));
        Assert.Multiple(() =>
        {
            Assert.That(step.Outcome, Is.EqualTo(TouchOutcome.Bot));
            Assert.That(runner.StateOf("crawler").Touches, Is.Zero);
            Assert.That(runner.Transitions, Is.Empty);
        });
    }

    [Test]
    public void Later_events_of_a_session_carry_its_landing_campaign_channel_and_referrer()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/landing").At(T0).Campaign("google", "cpc", "spring-sale", channel: "Paid Search").Build("v"));
        var later = Page("/pricing").At(T0.AddMinutes(5)).Internal("/landing").Build("v");
        later.Landing = null; // as a touchpoint whose beacon had no landing info
        var step = runner.Apply(later);

        Assert.Multiple(() =>
        {
            Assert.That(step.Staged!.Channel, Is.EqualTo("Paid Search"));
            Assert.That(step.Staged.Campaign.Name, Is.EqualTo("spring-sale"));
            Assert.That(step.Staged.Campaign.Medium, Is.EqualTo("cpc"));
            Assert.That(step.Staged.Landing!.Url, Does.Contain("/landing?utm_source=google"));
            Assert.That(step.Staged.Referrer.Medium, Is.EqualTo("internal"), "the page's own referrer stays");
            Assert.That(step.Staged.Journey!.SessionIndex, Is.EqualTo(1));
        });
    }

    [Test]
    public void Thirty_minutes_without_a_touch_or_a_new_campaign_start_a_new_session()
    {
        var runner = new JourneyRunner();
        var a = runner.Apply(Page("/").At(T0).Build("v")).Staged!.Journey!;
        var b = runner.Apply(Page("/a").At(T0.AddMinutes(29)).Build("v")).Staged!.Journey!;
        var c = runner.Apply(Page("/b").At(T0.AddMinutes(29 + 31)).Build("v")).Staged!.Journey!;
        var d = runner.Apply(Page("/c").At(T0.AddMinutes(61)).Campaign("news", "email", "may").Build("v")).Staged!.Journey!;

        Assert.That(new[] { a.SessionIndex, b.SessionIndex, c.SessionIndex, d.SessionIndex }, Is.EqualTo(new int?[] { 1, 1, 2, 3 }));
        Assert.That(runner.StateOf("v").Sessions, Is.EqualTo(3));
    }

    [Test]
    public void A_late_event_within_the_window_lands_in_the_session_it_belongs_to()
    {
        var runner = new JourneyRunner();
        var first = runner.Apply(Page("/a").At(T0).FromSearch("Google", "running shoes").Build("v")).Staged!;
        runner.Apply(Page("/b").At(T0.AddHours(3)).Campaign("news", "email", "june").Session("s2").Build("v"));

        // Sent late by the tag (stored batch retried on the next visit): it happened during the first session.
        var late = Event("download", "/a").At(T0.AddMinutes(10)).Build("v");
        late.Landing = null;
        late.Channel = "Direct";
        var step = runner.Apply(late);

        Assert.Multiple(() =>
        {
            Assert.That(step.Lateness, Is.EqualTo(Lateness.Late));
            Assert.That(step.Staged!.Journey!.SessionId, Is.EqualTo(first.Journey!.SessionId), "placed in the first session");
            Assert.That(step.Staged.Journey.SessionIndex, Is.EqualTo(1));
            Assert.That(step.Staged.Channel, Is.EqualTo("Organic Search"), "with the first session's channel, not the current one's");
            Assert.That(step.Staged.Campaign.Name, Is.Null, "nor its campaign");
            Assert.That(step.Staged.Journey.Reasons, Does.Contain("consideration.content-download"));
            Assert.That(runner.StateOf("v").LastSeen, Is.EqualTo(T0.AddHours(3)), "the journey's latest touch does not move back");
        });
    }

    [Test]
    public void A_late_event_between_two_sessions_opens_a_session_of_its_own_in_between()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/a").At(T0).Build("v"));
        runner.Apply(Page("/c").At(T0.AddHours(5)).Session("s3").Build("v"));
        var late = runner.Apply(Page("/b").At(T0.AddHours(2)).Session("s2").Build("v"));

        var state = runner.StateOf("v");
        Assert.Multiple(() =>
        {
            Assert.That(late.Lateness, Is.EqualTo(Lateness.Late));
            Assert.That(state.Sessions, Is.EqualTo(3));
            Assert.That(state.RecentSessions.Select(s => s.Start), Is.Ordered, "sessions kept in time order");
            Assert.That(state.CurrentSession!.Start, Is.EqualTo(T0.AddHours(5)), "the current session is still the latest");
        });
    }

    [Test]
    public void An_event_older_than_the_late_window_is_placed_at_its_own_time()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/a").At(T0).Build("v"));
        var current = runner.Apply(Page("/b").At(T0.AddDays(3)).Session("s2").Build("v")).Staged!.Journey!;
        var old = runner.Apply(Page("/c").At(T0.AddDays(1)).Session("s-old").Build("v"));

        var state = runner.StateOf("v");
        Assert.Multiple(() =>
        {
            Assert.That(old.Lateness, Is.EqualTo(Lateness.TooLate));
            Assert.That(old.Staged!.Journey!.SessionId, Is.Not.EqualTo(current.SessionId), "a session of its own");
            Assert.That(state.Sessions, Is.EqualTo(3));
            Assert.That(state.RecentSessions.Select(s => s.Start), Is.Ordered, "sessions kept in time order");
            Assert.That(state.CurrentSession!.Start, Is.EqualTo(T0.AddDays(3)), "the current session is still the latest");
            Assert.That(state.LastSeen, Is.EqualTo(T0.AddDays(3)));
        });
    }

    [Test]
    public void After_the_inactivity_window_a_new_journey_starts_in_awareness()
    {
        var runner = new JourneyRunner();
        var first = runner.Apply(Page("/pricing").At(T0).Build("v")).Staged!.Journey!;
        var next = runner.Apply(Page("/").At(T0.AddDays(31)).Session("s2").Build("v")).Staged!.Journey!;

        Assert.Multiple(() =>
        {
            Assert.That(first.Stage, Is.EqualTo("decision"));
            Assert.That(next.Id, Is.Not.EqualTo(first.Id));
            Assert.That(next.Stage, Is.EqualTo("awareness"));
            Assert.That(next.PreviousStage, Is.Null);
            Assert.That(next.TouchIndex, Is.EqualTo(1));
            Assert.That(runner.Transitions.Select(t => (t.FromStage, t.ToStage)), Is.EqualTo(new (string?, string)[] { (null, "decision"), (null, "awareness") }));
        });
    }

    [Test]
    public void Stages_move_forward_only_and_once_per_session_rules_fire_once_per_session()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/pricing").At(T0).Build("v"));
        var again = runner.Apply(Page("/pricing").At(T0.AddMinutes(1)).Build("v")).Staged!.Journey!;
        var blog = runner.Apply(Page("/blog/news").At(T0.AddMinutes(2)).Build("v")).Staged!.Journey!;
        var nextSession = runner.Apply(Page("/pricing").At(T0.AddHours(2)).Session("s2").Build("v")).Staged!.Journey!;

        Assert.Multiple(() =>
        {
            Assert.That(again.Reasons, Does.Not.Contain("decision.pricing-page"));
            Assert.That(blog.Stage, Is.EqualTo("decision"));
            Assert.That(blog.Reasons, Does.Contain("awareness.top-of-funnel-content"));
            Assert.That(nextSession.Reasons, Does.Contain("decision.pricing-page"));
        });
    }

    [Test]
    public void The_score_adds_the_points_of_fired_rules_and_halves_after_the_half_life()
    {
        var engine = StageRulesLoader.Parse("""
            score_half_life_days: 10
            rules:
              - { id: a, stage: awareness, points: 10, when: { type: [pageview] } }
            """, "test");
        var runner = new JourneyRunner(new JourneyProcessor(engine, JourneySettings.Default));
        runner.Apply(Page("/").At(T0).Build("v"));
        var second = runner.Apply(Page("/").At(T0.AddMinutes(5)).Build("v")).Staged!.Journey!;
        var later = runner.Apply(Page("/").At(T0.AddMinutes(5).AddDays(10)).Session("s2").Build("v")).Staged!.Journey!;

        Assert.That(second.Score, Is.EqualTo(20).Within(0.01));
        Assert.That(later.Score, Is.EqualTo(20 / 2.0 + 10).Within(0.01));
    }

    [Test]
    public void A_score_band_moves_the_journey_and_is_named_in_the_reasons_once()
    {
        var engine = StageRulesLoader.Parse("""
            rules:
              - { id: page, points: 10, when: { type: [pageview] } }
              - { id: first, stage: awareness, when: { first_touch: true } }
            score_bands:
              - { id: band.decision, stage: decision, min_score: 30 }
            """, "test");
        var runner = new JourneyRunner(new JourneyProcessor(engine, JourneySettings.Default));
        var stages = Enumerable.Range(0, 4).Select(i => runner.Apply(Page("/").At(T0.AddMinutes(i)).Build("v")).Staged!.Journey!).ToList();

        Assert.That(stages.Select(s => s.Stage), Is.EqualTo(new[] { "awareness", "awareness", "decision", "decision" }));
        Assert.That(stages.Select(s => s.Reasons.Contains("band.decision")), Is.EqualTo(new[] { false, false, true, false }));
    }

    [Test]
    public void Without_forward_only_the_stage_follows_the_latest_rule()
    {
        var engine = StageRulesLoader.Parse("""
            forward_only: false
            rules:
              - { id: pricing, stage: decision, when: { path: ['^/pricing'] } }
              - { id: blog, stage: awareness, when: { path: ['^/blog'] } }
            """, "test");
        var runner = new JourneyRunner(new JourneyProcessor(engine, JourneySettings.Default));
        var stages = new[] { "/pricing", "/blog/x", "/about" }.Select((p, i) => runner.Apply(Page(p).At(T0.AddMinutes(i)).Build("v")).Staged!.Journey!.Stage).ToList();

        Assert.That(stages, Is.EqualTo(new[] { "decision", "awareness", "awareness" }));
    }

    [Test]
    public void Engaged_time_adds_up_from_engagement_events()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/").At(T0).Build("v"));
        runner.Apply(Engagement(100_000).At(T0.AddMinutes(2)).Build("v"));
        var step = runner.Apply(Engagement(90_000).At(T0.AddMinutes(4)).Build("v"));

        Assert.That(runner.StateOf("v").EngagedMs, Is.EqualTo(190_000));
        Assert.That(step.Staged!.Journey!.Reasons, Does.Contain("consideration.engaged-visit"));
    }

    [Test]
    public void A_replay_of_the_same_touches_on_the_same_state_gives_the_same_outputs()
    {
        // What the processor's recovery relies on: staging is deterministic.
        var touches = Enumerable.Range(0, 30).Select(i => (i % 7 == 3 ? Event("download", "/g") : Page(i % 5 == 0 ? "/pricing" : $"/blog/p{i}"))
            .At(T0.AddHours(i * 5)).Session("s" + (i / 3)).Id("r" + i)).ToList();
        var a = new JourneyRunner();
        var b = new JourneyRunner();
        foreach (var t in touches)
        {
            a.Apply(t.Build("v"));
        }
        foreach (var t in touches)
        {
            b.Apply(t.Build("v"));
        }
        Assert.That(b.Staged.Select(Describe), Is.EqualTo(a.Staged.Select(Describe)));
        static string Describe(TouchpointTracker.Contracts.Touchpoint tp) =>
            $"{tp.EventId} {tp.Journey!.Id} {tp.Journey.Stage} {tp.Journey.Score} {tp.Journey.TouchIndex} {tp.Journey.SessionId} {string.Join(",", tp.Journey.Reasons)}";
    }
}
