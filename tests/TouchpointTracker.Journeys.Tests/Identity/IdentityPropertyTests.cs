using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Journeys.Tests.Support;

namespace TouchpointTracker.Journeys.Tests.Identity;

/// <summary>
/// Properties of identity over generated histories: blocklisted ids never merge anyone, two user ids never
/// share a person, the visitor cap holds, and merging journeys does not depend on the order of its arguments.
/// </summary>
public class IdentityPropertyTests
{
    private const int Runs = 200;
    private static readonly DateTimeOffset T0 = Touch.T0;
    private static readonly string[] Paths = ["/", "/blog/a", "/pricing", "/compare/x", "/contact", "/case-studies/y", "/product/z"];
    private static readonly string[] UserIds =
        ["u-1", "u-2", "u-3", "null", "undefined", " anonymous ", "GUEST", "0", "", "[object Object]", "distinct_id", "Null"];

    /// <summary>One step of a history: a page or an identify with a user id, by one of a few visitors.</summary>
    private sealed record Step(int Visitor, int Minutes, int Path, int? User);

    private static Gen<Step> StepGen =>
        from v in Gen.Choose(0, 7)
        from m in Gen.Choose(0, 3000)
        from p in Gen.Choose(0, Paths.Length - 1)
        from identify in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from u in Gen.Choose(0, UserIds.Length - 1)
        select new Step(v, m, p, identify ? u : null);

    private static IdentityTests.Runner Run(Step[] steps, int cap = 20)
    {
        var r = new IdentityTests.Runner(IdentitySettings.Default with { MaxVisitorsPerPerson = cap });
        var i = 0;
        foreach (var s in steps.OrderBy(s => s.Minutes))
        {
            var at = T0.AddMinutes(s.Minutes);
            var tp = s.User is { } u
                ? IdentifyAsCollector(UserIds[u]).At(at).Id($"e{i++}").Build("v" + s.Visitor)
                : Touch.Page(Paths[s.Path]).At(at).Id($"e{i++}").Build("v" + s.Visitor);
            r.Apply(tp);
        }
        return r;
    }

    /// <summary>As the collector forwards an identify: a junk id is dropped (no user_id_sha256), a usable one hashed.</summary>
    private static Touch IdentifyAsCollector(string userId) =>
        UserIdPolicy.Default.Hash(userId) is null ? Touch.Event("x").Props(("identify_refused", "\"blocklisted\"")) : Touch.Identify(userId);

    [Test]
    public void Blocklisted_ids_never_merge_and_two_user_ids_never_share_a_person()
    {
        Prop.ForAll(StepGen.ArrayOf().ToArbitrary(), steps =>
        {
            var r = Run(steps);
            var snapshot = r.State.Snapshot();
            var usable = UserIds.Where(u => !UserIdPolicy.Default.IsJunk(u)).Select(IdentityHashing.UserId).ToHashSet();
            foreach (var p in snapshot.Persons.Select(p => p.Person))
            {
                if (!usable.Contains(p.UserIdSha256))
                {
                    return false; // a person of a junk id
                }
            }
            // A visitor's touches after its last identify are staged on that user's person only.
            foreach (var staged in r.Staged.Where(s => s.Journey!.PersonId is not null))
            {
                var person = snapshot.Persons.Single(p => p.Person.PersonId == staged.Journey!.PersonId).Person;
                if (IdentityResolver.PersonIdFor("acme", person.UserIdSha256) != person.PersonId)
                {
                    return false;
                }
            }
            return snapshot.Persons.Select(p => p.Person.UserIdSha256).Distinct().Count() == snapshot.Persons.Count;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Test]
    public void The_visitor_cap_holds()
    {
        Prop.ForAll(StepGen.ArrayOf().ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (steps, cap) =>
        {
            var r = Run(steps, cap);
            return r.State.Snapshot().Persons.All(p => p.Person.Visitors.Count <= cap && p.Person.Visitors.Distinct().Count() == p.Person.Visitors.Count);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Test]
    public void Merging_journeys_is_order_independent_and_keeps_the_counts()
    {
        var engine = StageEngine.CreateDefault();
        var journeys = new JourneyProcessor(engine, JourneySettings.Default);
        Prop.ForAll(StepGen.ArrayOf().ToArbitrary(), StepGen.ArrayOf().ToArbitrary(), (left, right) =>
        {
            var a = Journey(journeys, left, "a");
            var b = Journey(journeys, right, "b");
            var ab = JourneyMerge.Merge(a, b, engine, JourneySettings.Default);
            var ba = JourneyMerge.Merge(b, a, engine, JourneySettings.Default);
            var same = JsonSerializer.Serialize(ab, JourneysJsonContext.Default.JourneyState) == JsonSerializer.Serialize(ba, JourneysJsonContext.Default.JourneyState);
            var counts = ab.Touches == a.Touches + b.Touches || ab.Touches == Math.Max(a.Touches, b.Touches) && (a.Touches == 0 || b.Touches == 0);
            var stage = JourneyStages.Rank(ab.Stage) == Math.Max(JourneyStages.Rank(a.Stage), JourneyStages.Rank(b.Stage));
            var ordered = ab.RecentSessions.Select(s => s.Start).SequenceEqual(ab.RecentSessions.Select(s => s.Start).Order());
            return same && counts && stage && ordered && ab.RecentSessions.Count <= JourneyState.SessionHistory;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    /// <summary>A journey of pages within a few days (so two of them overlap and merge).</summary>
    private static JourneyState Journey(JourneyProcessor journeys, Step[] steps, string visitor)
    {
        var state = new JourneyState();
        var i = 0;
        foreach (var s in steps.OrderBy(s => s.Minutes))
        {
            journeys.Apply(Touch.Page(Paths[s.Path]).At(T0.AddMinutes(s.Minutes)).Id($"{visitor}{i++}").Build(visitor), state);
        }
        return state;
    }
}
