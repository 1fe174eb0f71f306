using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Journeys.Tests.Support;

namespace TouchpointTracker.Journeys.Tests.Identity;

/// <summary>Identity resolution as pure logic: hashing, guard rails, linking, merging, offline matching.</summary>
public class IdentityTests
{
    private static readonly DateTimeOffset T0 = Touch.T0;

    /// <summary>Stages touches with identity over in-memory state; the reference model of the hosts' tests.</summary>
    internal sealed class Runner : IJourneyStateLookup
    {
        private readonly Dictionary<string, JourneyState> _visitors = new(StringComparer.Ordinal);

        public Runner(IdentitySettings? settings = null)
        {
            Stager = new IdentityStager(new JourneyProcessor(StageEngine.CreateDefault(), JourneySettings.Default), new IdentityResolver(settings ?? IdentitySettings.Default));
            State = new InMemoryIdentityState(this);
        }

        public IdentityStager Stager { get; }
        public InMemoryIdentityState State { get; }
        public StagingTally Tally { get; } = new();
        public IdentityTally Identity { get; } = new();
        public List<Touchpoint> Staged { get; } = [];

        public JourneyState GetOrCreate(Touchpoint tp)
        {
            var key = tp.SiteId + ":" + tp.VisitorId;
            if (!_visitors.TryGetValue(key, out var s))
            {
                _visitors[key] = s = new JourneyState();
            }
            return s;
        }

        public JourneyState Visitor(string v, string site = "acme") => _visitors[site + ":" + v];

        public void Apply(Touchpoint tp)
        {
            var step = Stager.Stage(tp, State, Tally, Identity);
            if (step.Step.Staged is { } staged)
            {
                Schemas.AssertValid(staged);
                Staged.Add(staged);
            }
            foreach (var again in step.Rekeyed)
            {
                Apply(again);
            }
        }

        public PersonState Person(string userId, string site = "acme") =>
            State.FindPerson(site, IdentityResolver.PersonIdFor(site, IdentityHashing.UserId(userId)))!;
    }

    [Test]
    public void Hashes_are_of_normalised_values_and_never_the_clear_value()
    {
        Assert.That(IdentityHashing.Email("  Jane.Doe@Example.COM "), Is.EqualTo(IdentityHashing.Sha256Hex("jane.doe@example.com")));
        Assert.That(IdentityHashing.Email("not-an-address"), Is.Null);
        Assert.That(IdentityHashing.Phone("+33 6 12-34.56 78"), Is.EqualTo(IdentityHashing.Sha256Hex("+33612345678")));
        Assert.That(IdentityHashing.Phone("(06) 12 34 56 78"), Is.EqualTo(IdentityHashing.Sha256Hex("0612345678")));
        Assert.That(IdentityHashing.Phone("12+34"), Is.Null);
        Assert.That(IdentityHashing.Phone("123"), Is.Null);
        Assert.That(IdentityHashing.UserId(" u-42 "), Is.EqualTo(IdentityHashing.Sha256Hex("u-42")));
        Assert.That(IdentityHashing.UserId("U-42"), Is.Not.EqualTo(IdentityHashing.UserId("u-42")), "user ids are case-sensitive");
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("null")]
    [TestCase("NULL")]
    [TestCase(" undefined ")]
    [TestCase("0")]
    [TestCase("Anonymous")]
    [TestCase("GUEST")]
    [TestCase("distinct_id")]
    [TestCase("[object Object]")]
    [TestCase("[OBJECT OBJECT]")]
    public void Junk_user_ids_identify_nobody(string id)
    {
        Assert.That(UserIdPolicy.Default.IsJunk(id), Is.True);
        Assert.That(UserIdPolicy.Default.Hash(id), Is.Null);
    }

    [Test]
    public void The_blocklist_is_configurable_and_known_by_its_hashes()
    {
        var policy = new UserIdPolicy(["test-user"]);
        Assert.That(policy.IsJunk("Test-User"), Is.True);
        Assert.That(policy.IsJunk("null"), Is.False, "a configured list replaces the default");
        Assert.That(policy.IsJunkHash(IdentityHashing.UserId("test-user")), Is.True);
        Assert.That(UserIdPolicy.Default.IsJunkHash(IdentityHashing.UserId("undefined")), Is.True);
        Assert.That(UserIdPolicy.Default.IsJunkHash(IdentityHashing.UserId("u-42")), Is.False);
        Assert.That(UserIdPolicy.Default.IsJunkHash("not a hash"), Is.True);
    }

    [Test]
    public void Person_ids_are_derived_from_site_and_user_id()
    {
        var uid = IdentityHashing.UserId("u-42");
        Assert.That(IdentityResolver.PersonIdFor("acme", uid), Is.EqualTo(IdentityResolver.PersonIdFor("acme", uid.ToUpperInvariant())));
        Assert.That(IdentityResolver.PersonIdFor("acme", uid), Does.Match("^p_[0-9a-f]{32}$"));
        Assert.That(IdentityResolver.PersonIdFor("other", uid), Is.Not.EqualTo(IdentityResolver.PersonIdFor("acme", uid)));
    }

    [Test]
    public void Identify_joins_the_anonymous_journey_and_a_second_device_merges_in_time_order()
    {
        var r = new Runner();
        r.Apply(Touch.Page("/blog/what-is-crm").At(T0).FromSearch("Google", "what is a crm").Build("laptop"));
        r.Apply(Touch.Page("/compare/acme-vs-other").At(T0.AddDays(1)).Click("gclid-1").Build("phone"));
        r.Apply(Touch.Page("/pricing").At(T0.AddDays(1).AddMinutes(2)).Build("phone"));
        r.Apply(Touch.Identify("u-42", email: "Jane@Example.com", phone: "+33612345678").At(T0.AddDays(2)).Build("laptop"));
        r.Apply(Touch.Identify("u-42").At(T0.AddDays(2).AddHours(1)).Build("phone"));
        r.Apply(Touch.Page("/demo").At(T0.AddDays(2).AddHours(2)).Build("phone"));

        var person = r.Person("u-42");
        Assert.That(person.Visitors, Is.EqualTo(new[] { "laptop", "phone" }));
        Assert.That(person.Journey.Touches, Is.EqualTo(6));
        Assert.That(person.Journey.Pages, Is.EqualTo(4));
        Assert.That(person.Journey.Started, Is.EqualTo(T0), "the journey starts at the laptop's first touch");
        Assert.That(person.Journey.RecentSessions.Select(s => s.Start), Is.Ordered, "sessions in time order");
        Assert.That(person.Journey.RecentSessions.Select(s => s.Index), Is.EqualTo(Enumerable.Range(1, person.Journey.RecentSessions.Count)));
        Assert.That(person.Emails, Is.EqualTo(new[] { IdentityHashing.Email("jane@example.com") }));
        Assert.That(r.Identity.Linked, Is.EqualTo(2));
        Assert.That(r.Identity.Merged, Is.EqualTo(2));
        Assert.That(r.Visitor("laptop").PersonId, Is.EqualTo(person.PersonId));
        Assert.That(r.Visitor("laptop").Touches, Is.Zero, "the visitor's own journey moved into the person's");

        var last = r.Staged[^1];
        Assert.That(last.Journey!.PersonId, Is.EqualTo(person.PersonId));
        Assert.That(last.Journey.Id, Is.EqualTo(r.Staged[0].Journey!.Id), "the person's journey keeps the id of the journey that started first");
        Assert.That(last.Journey.Stage, Is.EqualTo(JourneyStages.Decision));
        Assert.That(r.Staged[0].Journey!.PersonId, Is.Null, "touches before the identify were anonymous when staged");
    }

    [Test]
    public void Merging_approximates_a_replay_of_both_devices_in_time_order()
    {
        Touchpoint[] Touches() =>
        [
            Touch.Page("/blog/guide").At(T0).FromSearch("Google", "crm guide").Id("a1").Build("a"),
            Touch.Page("/case-studies/x").At(T0.AddHours(5)).Id("b1").Build("b"),
            Touch.Page("/pricing").At(T0.AddHours(6)).Id("b2").Build("b"),
            Touch.Page("/blog/more").At(T0.AddDays(1)).Id("a2").Build("a"),
        ];
        var replay = new JourneyRunner();
        foreach (var tp in Touches().OrderBy(t => t.DerivedTs))
        {
            tp.VisitorId = "one";
            replay.Apply(tp);
        }
        var r = new Runner();
        foreach (var tp in Touches())
        {
            r.Apply(tp);
        }
        r.Apply(Touch.Identify("u-1").At(T0.AddDays(1).AddMinutes(1)).Id("ia").Build("a"));
        r.Apply(Touch.Identify("u-1").At(T0.AddDays(1).AddMinutes(2)).Id("ib").Build("b"));
        var merged = r.Person("u-1").Journey;
        var reference = replay.StateOf("one");
        Assert.That(merged.Touches, Is.EqualTo(reference.Touches + 2));
        Assert.That(merged.Pages, Is.EqualTo(reference.Pages));
        Assert.That(JourneyStages.Rank(merged.Stage), Is.GreaterThanOrEqualTo(JourneyStages.Rank(reference.Stage)));
        Assert.That(merged.Started, Is.EqualTo(reference.Started));
    }

    [Test]
    public void Two_user_ids_on_one_device_never_share_a_person()
    {
        var r = new Runner();
        r.Apply(Touch.Identify("alice").At(T0).Build("shared-pc"));
        r.Apply(Touch.Page("/pricing").At(T0.AddMinutes(1)).Build("shared-pc"));
        r.Apply(Touch.Identify("bob").At(T0.AddMinutes(5)).Build("shared-pc"));
        r.Apply(Touch.Page("/demo").At(T0.AddMinutes(6)).Build("shared-pc"));
        var alice = r.Person("alice");
        var bob = r.Person("bob");
        Assert.That(alice.PersonId, Is.Not.EqualTo(bob.PersonId));
        Assert.That(alice.Journey.Touches, Is.EqualTo(2));
        Assert.That(bob.Journey.Touches, Is.EqualTo(2), "bob's journey has his own touches only");
        Assert.That(r.Identity.Relinked, Is.EqualTo(1));
        Assert.That(r.Staged[^1].Journey!.PersonId, Is.EqualTo(bob.PersonId));
    }

    [Test]
    public void Junk_user_ids_merge_nobody()
    {
        var r = new Runner();
        var junk = IdentityHashing.UserId("undefined");
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            r.Apply(Touch.Page("/").At(T0).Build(v));
            r.Apply(Touch.Event("x").At(T0.AddMinutes(1)).Props(("user_id_sha256", JsonSerializer.Serialize(junk))).Build(v) is var tp ? Identify(tp) : null!);
        }
        Assert.That(r.State.PersonCount, Is.Zero);
        Assert.That(r.Identity.Junk, Is.EqualTo(3));
        Assert.That(r.Staged.All(s => s.Journey!.PersonId is null), Is.True);
        Assert.That(r.Staged.Select(s => s.Journey!.Id).Distinct().Count(), Is.EqualTo(3));

        static Touchpoint Identify(Touchpoint tp)
        {
            tp.Type = "identify";
            tp.Name = null;
            return tp;
        }
    }

    [Test]
    public void The_visitor_cap_holds_and_refusals_are_counted()
    {
        var r = new Runner(IdentitySettings.Default with { MaxVisitorsPerPerson = 3 });
        for (var i = 0; i < 5; i++)
        {
            r.Apply(Touch.Identify("u-cap").At(T0.AddMinutes(i)).Build("v" + i));
        }
        var person = r.Person("u-cap");
        Assert.That(person.Visitors, Is.EqualTo(new[] { "v0", "v1", "v2" }));
        Assert.That(person.RefusedVisitors, Is.EqualTo(2));
        Assert.That(r.Identity.CapRefused, Is.EqualTo(2));
        Assert.That(r.Staged[^1].Journey!.PersonId, Is.Null, "a refused visitor stays anonymous");
    }

    [Test]
    public void An_offline_event_matches_by_phone_learnt_from_identify_traits()
    {
        var r = new Runner();
        r.Apply(Touch.Page("/contact").At(T0).Build("laptop"));
        r.Apply(Touch.Identify("u-9", phone: "+33 6 12 34 56 78").At(T0.AddMinutes(1)).Build("laptop"));
        r.Apply(Touch.Offline("call", ("phone_sha256", JsonSerializer.Serialize(IdentityHashing.Phone("+33612345678"))))
            .At(T0.AddHours(3)).Id("call-1").Build("~t"));
        var call = r.Staged.Single(s => s.EventId == "call-1");
        Assert.That(call.VisitorId, Is.EqualTo("laptop"));
        Assert.That(call.Journey!.PersonId, Is.EqualTo(r.Person("u-9").PersonId));
        Assert.That(call.Props!["matched_by"].GetString(), Is.EqualTo("phone"));
        Assert.That(r.Identity.Matched, Is.EqualTo(1));
    }

    [Test]
    public void An_offline_event_matches_a_landing_click_id_by_its_hash()
    {
        var r = new Runner();
        r.Apply(Touch.Page("/landing").At(T0).Click("Cj0KCQ-abc").Build("anon"));
        r.Apply(Touch.Offline("call", ("gclid_sha256", JsonSerializer.Serialize(IdentityHashing.ClickId("Cj0KCQ-abc")))).At(T0.AddHours(1)).Id("call-2").Build("~c"));
        Assert.That(r.Staged.Single(s => s.EventId == "call-2").VisitorId, Is.EqualTo("anon"));
        Assert.That(r.Staged.Single(s => s.EventId == "call-2").Journey!.PersonId, Is.Null, "an anonymous visitor's journey");
    }

    [Test]
    public void An_unmatched_event_is_kept_and_placed_when_its_identifier_appears()
    {
        var r = new Runner();
        var email = JsonSerializer.Serialize(IdentityHashing.Email("late@example.com"));
        r.Apply(Touch.Offline("meeting", ("email_sha256", email)).At(T0.AddHours(1)).Id("m-1").Build("~e"));
        Assert.That(r.Staged, Is.Empty);
        Assert.That(r.Identity.Unmatched, Is.EqualTo(1));
        Assert.That(r.State.Unmatched("acme").Select(u => u.Touchpoint.EventId), Is.EqualTo(new[] { "m-1" }));

        r.Apply(Touch.Page("/").At(T0.AddHours(2)).Build("v"));
        r.Apply(Touch.Identify("u-late", email: "LATE@example.com ").At(T0.AddHours(3)).Build("v"));
        var meeting = r.Staged.Single(s => s.EventId == "m-1");
        Assert.That(meeting.VisitorId, Is.EqualTo("v"));
        Assert.That(meeting.Journey!.PersonId, Is.EqualTo(r.Person("u-late").PersonId));
        Assert.That(r.State.Unmatched("acme"), Is.Empty);
        Assert.That(r.Identity.Rematched, Is.EqualTo(1));
    }

    [Test]
    public void An_offline_event_with_a_user_id_of_a_known_person_is_placed_in_their_journey()
    {
        var r = new Runner();
        r.Apply(Touch.Identify("crm-7").At(T0).Build("v"));
        r.Apply(Touch.Offline("crm_stage", ("user_id_sha256", JsonSerializer.Serialize(IdentityHashing.UserId("crm-7"))), ("stage", "\"won\""))
            .At(T0.AddDays(3)).Id("won-1").Build("~u"));
        Assert.That(r.Staged.Single(s => s.EventId == "won-1").Journey!.PersonId, Is.EqualTo(r.Person("crm-7").PersonId));
        r.Apply(Touch.Offline("crm_stage", ("user_id_sha256", JsonSerializer.Serialize(IdentityHashing.UserId("nobody")))).At(T0.AddDays(3)).Id("x").Build("~u"));
        Assert.That(r.Identity.Unmatched, Is.EqualTo(1), "an unknown user id matches nobody");
    }

    [Test]
    public void Person_state_round_trips_through_json_and_stays_small()
    {
        var r = new Runner();
        r.Apply(Touch.Page("/").At(T0).Build("a"));
        r.Apply(Touch.Identify("u-json", email: "j@example.com").At(T0.AddMinutes(1)).Build("a"));
        var person = r.Person("u-json");
        var json = JsonSerializer.SerializeToUtf8Bytes(person, JourneysJsonContext.Default.PersonState);
        var back = JsonSerializer.Deserialize(json, JourneysJsonContext.Default.PersonState)!;
        Assert.That(JsonSerializer.Serialize(back, JourneysJsonContext.Default.PersonState), Is.EqualTo(System.Text.Encoding.UTF8.GetString(json)));
        Assert.That(json.Length, Is.LessThan(2048), System.Text.Encoding.UTF8.GetString(json));
        Assert.That(System.Text.Encoding.UTF8.GetString(json), Does.Not.Contain("j@example.com"));
    }
}
