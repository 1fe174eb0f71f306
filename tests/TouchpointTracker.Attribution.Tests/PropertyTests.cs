using FsCheck;
using FsCheck.Fluent;

namespace TouchpointTracker.Attribution.Tests;

/// <summary>Invariants every model keeps, over random sets of persons, touches and conversions.</summary>
public class PropertyTests
{
    private static readonly string[] Names = ["Direct", "Organic Search", "Paid Search", "Email", "Referral", "Display"];
    private const string Ghost = "Ghost";

    private sealed record Person(List<(int Key, double Day)> Touches, List<(double Day, double Value)> Conversions);

    /// <summary>Persons over a 60-day period; key indexes into <see cref="Names"/> (-1 = the ghost key, which only ever
    /// appears after a person's last conversion or on persons who never convert, so it is on no converting path).</summary>
    private static Arbitrary<List<Person>> Persons() =>
        Gen.Choose(0, int.MaxValue).Select(seed =>
        {
            var r = new Random(seed);
            var people = new List<Person>();
            for (var p = r.Next(1, 25); p > 0; p--)
            {
                var touches = Enumerable.Range(0, r.Next(0, 9)).Select(_ => (r.Next(Names.Length), r.NextDouble() * 60)).OrderBy(t => t.Item2).ToList();
                var conversions = Enumerable.Range(0, r.Next(0, 3)).Select(_ => (r.NextDouble() * 60, Math.Round(r.NextDouble() * 500, 2))).OrderBy(c => c.Item1).ToList();
                if (r.NextDouble() < 0.5)
                {
                    var after = conversions.Count == 0 ? 0 : conversions[^1].Item1;
                    touches.Add((-1, after + 0.001 + r.NextDouble()));
                    touches.Sort((a, b) => a.Item2.CompareTo(b.Item2));
                }
                people.Add(new Person(touches, conversions));
            }
            return people;
        }).ToArbitrary();

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static AttributionResult Run(List<Person> people, Func<int, string> name)
    {
        var b = new AttributionBuilder(AttributionModels.All);
        foreach (var p in people)
        {
            var touches = p.Touches.Select(t =>
            {
                var n = t.Key < 0 ? Ghost : Names[t.Key];
                return new Touch(b.Key(name(t.Key)), Start.AddDays(t.Day).Ticks, n == "Direct");
            }).ToArray();
            var conversions = p.Conversions.Select(c => new Conversion(Start.AddDays(c.Day).Ticks, 1, c.Value)).ToArray();
            b.AddPerson(touches, conversions, Start.Ticks);
        }
        return b.Compute();
    }

    private static string Plain(int key) => key < 0 ? Ghost : Names[key];

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public Property Credits_of_every_model_sum_to_the_conversions_and_the_revenue() =>
        Prop.ForAll(Persons(), people =>
        {
            var r = Run(people, Plain);
            var conversions = people.Sum(p => p.Conversions.Count);
            var revenue = people.Sum(p => p.Conversions.Sum(c => c.Value));
            return r.Conversions == conversions
                && r.Models.Select((m, i) => i).All(i =>
                    Math.Abs(r.ConversionCredits[i].Sum() - conversions) < 1e-9 * Math.Max(1, conversions)
                    && Math.Abs(r.RevenueCredits[i].Sum() - revenue) < 1e-9 * Math.Max(1, revenue));
        });

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public Property A_key_on_no_converting_path_gets_nothing_from_any_model() =>
        Prop.ForAll(Persons(), people =>
        {
            var r = Run(people, Plain);
            return r.Models.All(m => r.Credit(m, Ghost) == 0 && r.RevenueCredit(m, Ghost) == 0)
                && r.TopPaths.All(p => !p.Keys.Contains(Ghost));
        });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property Permuting_key_names_permutes_the_credits() =>
        Prop.ForAll(Persons(), Gen.Shuffle(Enumerable.Range(0, Names.Length).ToArray()).ToArbitrary(), (people, perm) =>
        {
            var plain = Run(people, Plain);
            var renamed = Run(people, k => k < 0 ? Ghost : Names[perm[k]]);
            return AttributionModels.All.All(m => Enumerable.Range(-1, Names.Length + 1).All(k =>
                Math.Abs(plain.Credit(m, Plain(k)) - renamed.Credit(m, k < 0 ? Ghost : Names[perm[k]])) < 1e-9
                && Math.Abs(plain.RevenueCredit(m, Plain(k)) - renamed.RevenueCredit(m, k < 0 ? Ghost : Names[perm[k]])) < 1e-7));
        });

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public Property Per_path_shares_are_between_0_and_1_and_sum_to_1() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var r = new Random(seed);
            var n = r.Next(1, 40);
            var path = Enumerable.Range(0, n).Select(i => new Touch(r.Next(5), i * TimeSpan.TicksPerHour * r.Next(0, 200), r.NextDouble() < 0.3))
                .OrderBy(t => t.Ticks).ToArray();
            var shares = new double[n];
            return AttributionModels.PerPath.All(m =>
            {
                PathCredits.Shares(m, path, path[^1].Ticks + r.Next(0, 1000) * TimeSpan.TicksPerMinute, TimeSpan.FromDays(7), shares);
                return shares.All(s => s is >= 0 and <= 1) && Math.Abs(shares.Sum() - 1) < 1e-12;
            });
        });
}
