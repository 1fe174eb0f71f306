using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Collector.CallTracking;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>
/// The assignment policy over generated sequences of visits: a small pool, a few visitors, time moving on by
/// random steps. A model keeps the state as the stores do (the latest hold per number, each visitor's last number).
/// </summary>
public class AssignmentPolicyTests
{
    private const long Hold = 30 * 60_000;

    /// <summary>The state the stores keep, driven by the policy.</summary>
    internal sealed class Model(IReadOnlyList<string> numbers)
    {
        public readonly Dictionary<string, Hold> Current = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> VisitorNumber = new(StringComparer.Ordinal);
        public readonly List<Hold> Log = [];

        public Assignment Visit(string visitor, long now)
        {
            var a = AssignmentPolicy.Decide(numbers, n => Current.GetValueOrDefault(n), VisitorNumber.GetValueOrDefault(visitor), visitor, "s-" + visitor, now, Hold);
            if (a.Ended is { } ended)
            {
                Log.Add(ended);
                if (VisitorNumber.GetValueOrDefault(ended.Visitor) == ended.Number)
                {
                    VisitorNumber.Remove(ended.Visitor);
                }
            }
            Current[a.Number] = a.Hold;
            VisitorNumber[visitor] = a.Number;
            return a;
        }

        public int ActiveHolders(long now) => Current.Values.Count(h => h.IsActive(now, Hold));
    }

    private static readonly string[] Pool3 = ["+33100000001", "+33100000002", "+33100000003"];

    /// <summary>A visit: which of 6 visitors, and how many minutes after the previous visit (0 to 50).</summary>
    private static Gen<List<(int Visitor, int Minutes)>> AnyVisits => Gen.Choose(1, 80).SelectMany(n => Gen.ListOf(
        Gen.Zip(Gen.Choose(0, 5), Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Choose(4, 50)))), n)).Select(l => l.ToList());

    [Test]
    public void A_number_is_reused_only_when_every_number_is_actively_held_and_an_active_visitor_keeps_theirs() =>
        Prop.ForAll(AnyVisits.ToArbitrary(), visits =>
        {
            var model = new Model(Pool3);
            long now = 1_000_000_000;
            foreach (var (v, minutes) in visits)
            {
                now += minutes * 60_000L;
                var visitor = "v" + v;
                var activeBefore = model.ActiveHolders(now);
                var had = model.VisitorNumber.GetValueOrDefault(visitor) is { } n && model.Current[n] is { } h && h.Visitor == visitor && h.IsActive(now, Hold) ? n : null;
                var a = model.Visit(visitor, now);
                if (!Pool3.Contains(a.Number))
                {
                    return false;
                }
                if (had is not null && (a.Number != had || a.Kind != AssignmentKind.Kept))
                {
                    return false; // an active visitor keeps their number
                }
                if (a.Kind == AssignmentKind.Reused && activeBefore < Pool3.Length)
                {
                    return false; // reuse only when the pool is exhausted
                }
                // Two visitors with active holds never share a number: each number has one current hold, and every
                // visitor whose index points at a number is that number's holder.
                foreach (var (visitorId, number) in model.VisitorNumber)
                {
                    if (model.Current[number].Visitor != visitorId)
                    {
                        return false;
                    }
                }
            }
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));

    [Test]
    public void A_call_matches_the_visitor_who_held_the_number_then() =>
        Prop.ForAll(Gen.Zip(AnyVisits, Gen.Choose(0, 1000)).ToArbitrary(), t =>
        {
            var (visits, pick) = t;
            var model = new Model(Pool3);
            long now = 1_000_000_000;
            var given = new List<(long At, Assignment A)>();
            foreach (var (v, minutes) in visits)
            {
                now += minutes * 60_000L;
                given.Add((now, model.Visit("v" + v, now)));
            }
            // A call to the number given last, a minute after, is that visitor's (nobody got it since).
            var (at, last) = given[^1];
            var holds = model.Log.Append(model.Current[last.Number]).Where(h => h.Number == last.Number);
            var match = AssignmentPolicy.Match(holds, at + 60_000, Hold);
            if (match?.Visitor != last.Hold.Visitor)
            {
                return false;
            }
            // Any call is matched to a hold that covers it, the latest assigned of those.
            var number = Pool3[pick % Pool3.Length];
            var callAt = 1_000_000_000 + pick * 60_000L;
            var all = model.Log.Concat(model.Current.Values).Where(h => h.Number == number).ToList();
            var m = AssignmentPolicy.Match(all, callAt, Hold);
            var covering = all.Where(h => h.Covers(callAt, Hold)).ToList();
            return m is null ? covering.Count == 0 : m.Covers(callAt, Hold) && covering.All(h => h.FromMs <= m.FromMs);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));

    [Test]
    public void Two_visitors_get_different_numbers_a_reload_keeps_it_and_a_third_on_two_numbers_reuses_the_least_recently_active()
    {
        var model = new Model(["+33100000001", "+33100000002"]);
        var a = model.Visit("alice", 0);
        var b = model.Visit("bob", 60_000);
        Assert.That(b.Number, Is.Not.EqualTo(a.Number));
        var reload = model.Visit("alice", 120_000);
        Assert.That((reload.Number, reload.Kind), Is.EqualTo((a.Number, AssignmentKind.Kept)));
        // Bob was active last at 1 min, Alice at 2 min: Carol takes Bob's number.
        var c = model.Visit("carol", 180_000);
        Assert.That((c.Number, c.Kind, c.Ended?.Visitor), Is.EqualTo((b.Number, AssignmentKind.Reused, "bob")));
        // Bob comes back: every number is held, Alice's is the least recently active.
        var bobAgain = model.Visit("bob", 240_000);
        Assert.That((bobAgain.Number, bobAgain.Kind), Is.EqualTo((a.Number, AssignmentKind.Reused)));
    }

    [Test]
    public void After_the_hold_a_number_is_free_and_the_one_free_the_longest_goes_first_but_a_visitor_gets_their_own_back()
    {
        var model = new Model(["+33100000001", "+33100000002", "+33100000003"]);
        model.Visit("a", 0);
        model.Visit("b", 1);
        model.Visit("c", 2);
        var later = Hold + 10;
        // All three holds ended; a's ended first, so d gets a's number.
        var d = model.Visit("d", later);
        Assert.That((d.Number, d.Kind), Is.EqualTo(("+33100000001", AssignmentKind.Free)));
        // c comes back after its hold ended: its own number is still free, it gets it back.
        var c = model.Visit("c", later + 1);
        Assert.That((c.Number, c.Kind), Is.EqualTo(("+33100000003", AssignmentKind.Free)));
        Assert.That(c.Hold.FromMs, Is.EqualTo(later + 1), "a new hold: the gap is not covered");
    }

    [Test]
    public void A_call_just_within_the_hold_after_the_last_activity_counts_and_one_after_does_not()
    {
        var holds = new[] { new Hold("+33100000001", "v", "s", 1_000, 5_000) };
        Assert.Multiple(() =>
        {
            Assert.That(AssignmentPolicy.Match(holds, 5_000 + Hold, Hold)?.Visitor, Is.EqualTo("v"));
            Assert.That(AssignmentPolicy.Match(holds, 5_001 + Hold, Hold), Is.Null);
            Assert.That(AssignmentPolicy.Match(holds, 999, Hold), Is.Null, "before the number was shown");
        });
    }
}
