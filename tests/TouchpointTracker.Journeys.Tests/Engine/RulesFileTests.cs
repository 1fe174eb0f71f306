using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>The rules file: the defaults, validation messages, JSON, and reloading on change.</summary>
public sealed class RulesFileTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tt-rules-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void The_default_rules_cover_every_stage_and_the_signals_of_the_brief()
    {
        var engine = StageEngine.CreateDefault();
        Assert.Multiple(() =>
        {
            Assert.That(engine.Stages, Is.EqualTo(new[] { "awareness", "consideration", "decision", "retention", "advocacy" }));
            Assert.That(engine.Rules.Select(r => r.Stage).Where(s => s is not null).Distinct(), Is.EquivalentTo(engine.Stages));
            Assert.That(engine.PathGroups.Names, Is.SupersetOf(new[] { "content", "product", "comparison", "case_study", "pricing", "contact_demo", "cart", "checkout" }));
            Assert.That(engine.CountedEvents, Is.SupersetOf(new[] { "purchase", "won" }), "counted inside retention.customer's any");
        });
    }

    [Test]
    public void The_default_rules_text_is_what_a_site_owner_copies()
    {
        var path = Path.Combine(_dir, "rules.yaml");
        File.WriteAllText(path, StageRulesLoader.DefaultText());
        Assert.That(StageEngine.Load(path).Rules.Select(r => r.Id), Is.EqualTo(StageEngine.CreateDefault().Rules.Select(r => r.Id)));
    }

    [Test]
    public void Every_problem_of_a_bad_file_is_reported_at_once_with_where_it_is()
    {
        var ex = Assert.Throws<StageRulesException>(() => StageRulesLoader.Parse("""
            stages: [awareness, consideration, decision]
            path_groups:
              pricing: ['(^|/)pricing(/|$']
            rules:
              - { id: a, stage: awarenes, when: { first_touch: true } }
              - { id: a, stage: decision, when: { path_group: [pricng] } }
              - { id: c, stage: retention, when: { event: [purchase] } }
              - { id: d, stage: decision, when: { } }
              - { id: e, stage: decision, repeat: sometimes, when: { keyword_intent: [curious] } }
            """, "site.yaml"))!;

        Assert.That(ex.Message, Does.StartWith("site.yaml: "));
        Assert.That(ex.Message, Does.Contain("path_groups.pricing: '(^|/)pricing(/|$' is not a valid regular expression"));
        Assert.That(ex.Message, Does.Contain("rules[0] 'a': 'stage' must be one of awareness, consideration, decision, retention, advocacy (got 'awarenes')"));
        Assert.That(ex.Message, Does.Contain("rules[1] 'a': duplicate id"));
        Assert.That(ex.Message, Does.Contain("when.path_group: unknown group 'pricng'"));
        Assert.That(ex.Message, Does.Contain("rules[2] 'c': stage 'retention' is not in use"));
        Assert.That(ex.Message, Does.Contain("rules[3] 'd': 'when' needs at least one condition"));
        Assert.That(ex.Message, Does.Contain("'repeat' must be every_touch, once_per_session or once_per_journey (got 'sometimes')"));
        Assert.That(ex.Message, Does.Contain("when.keyword_intent: 'curious' is not an intent"));
    }

    [Test]
    public void Nested_any_and_not_conditions_are_checked_and_named_where_they_are()
    {
        var ex = Assert.Throws<StageRulesException>(() => StageRulesLoader.Parse("""
            path_groups:
              pricing: ['pricing']
            rules:
              - id: a
                stage: decision
                when: { event: [form_submit], any: [ { path_group: [pricng] }, { props: { form: '(' } } ], not: { } }
              - { id: b, when: { first_touch: true } }
              - { id: c, points: 0, when: { site_search: true } }
            site_search_params: ['q=']
            """, "site.yaml"))!;

        Assert.Multiple(() =>
        {
            Assert.That(ex.Message, Does.Contain("rules[0] 'a': when.any[0].path_group: unknown group 'pricng'"));
            Assert.That(ex.Message, Does.Contain("rules[0] 'a': when.any[1].props.form: '(' is not a valid regular expression"));
            Assert.That(ex.Message, Does.Contain("rules[0] 'a': 'when.not' needs at least one condition"));
            Assert.That(ex.Message, Does.Contain("rules[1] 'b': give a 'stage', 'points', or both"));
            Assert.That(ex.Message, Does.Not.Contain("rules[2]"), "points: 0 given explicitly is a rule that records its reason");
            Assert.That(ex.Message, Does.Contain("site_search_params: 'q=' is not a query parameter name"));
        });
    }

    [Test]
    public void An_unknown_key_is_an_error_with_its_line()
    {
        var ex = Assert.Throws<StageRulesException>(() => StageRulesLoader.Parse("""
            rules:
              - id: a
                stage: awareness
                whenn: { first_touch: true }
            """, "typo.yaml"))!;
        Assert.That(ex.Message, Does.Contain("typo.yaml: line 4"));
        Assert.That(ex.Message, Does.Contain("whenn"));
    }

    [Test]
    public void A_json_rules_file_works_too()
    {
        var path = Path.Combine(_dir, "rules.json");
        File.WriteAllText(path, """
            { "rules": [
                { "id": "start", "stage": "awareness", "points": 1, "when": { "first_touch": true } },
                { "id": "docs", "stage": "consideration", "when": { "path": ["^/docs"] } }
            ] }
            """);
        var runner = new JourneyRunner(new JourneyProcessor(StageEngine.Load(path), JourneySettings.Default));
        runner.Apply(Page("/").At(T0).Build("v"));
        Assert.That(runner.Apply(Page("/docs/api").At(T0.AddMinutes(1)).Build("v")).Staged!.Journey!.Stage, Is.EqualTo("consideration"));
    }

    [Test]
    public void A_changed_file_is_reloaded_and_a_broken_one_keeps_the_rules_in_use()
    {
        var path = Path.Combine(_dir, "rules.yaml");
        File.WriteAllText(path, "rules:\n  - { id: v1, stage: awareness, when: { first_touch: true } }\n");
        using var source = new StageRulesSource(path, JourneySettings.Default, pollInterval: TimeSpan.Zero);
        var reloaded = new List<string>();
        var failed = new List<string>();
        source.Reloaded += reloaded.Add;
        source.ReloadFailed += ex => failed.Add(ex.Message);

        File.WriteAllText(path, "rules:\n  - { id: v2, stage: decision, when: { first_touch: true } }\n  - { id: v2b, stage: awareness, when: { type: [event] } }\n");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(1));
        Assert.That(source.CheckForChange(), Is.True);
        Assert.That(source.Current.Engine.Rules.Select(r => r.Id), Is.EqualTo(new[] { "v2", "v2b" }));

        File.WriteAllText(path, "rules:\n  - { id: v3, stage: nowhere, when: { first_touch: true } }\n");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(2));
        Assert.That(source.CheckForChange(), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(source.Current.Engine.Rules.Select(r => r.Id), Is.EqualTo(new[] { "v2", "v2b" }), "the rules in use stay");
            Assert.That(reloaded, Has.Count.EqualTo(1));
            Assert.That(failed.Single(), Does.Contain("'nowhere'"));
            Assert.That(source.CheckForChange(), Is.False, "nothing changed since");
        });
    }

    [Test]
    public void The_timer_picks_up_a_change_without_being_asked()
    {
        var path = Path.Combine(_dir, "rules.yaml");
        File.WriteAllText(path, "rules:\n  - { id: v1, stage: awareness, when: { first_touch: true } }\n");
        using var source = new StageRulesSource(path, JourneySettings.Default, pollInterval: TimeSpan.FromMilliseconds(50));
        File.WriteAllText(path, "rules:\n  - { id: v2, stage: awareness, when: { first_touch: true } }\n");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(1));

        Assert.That(() => source.Current.Engine.Rules[0].Id, Is.EqualTo("v2").After(5000, 20));
    }
}
