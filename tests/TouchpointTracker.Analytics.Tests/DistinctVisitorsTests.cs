namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The in-memory distinct counting (<see cref="DistinctVisitors.Count"/>) on one to four threads against a brute force
/// (group the rows by visitor and group with LINQ), on random rows: gaps in the visitor numbers, several rows per visitor
/// and group, every rank and set of stages entered; and the helpers the read path reuses.
/// </summary>
public sealed class DistinctVisitorsTests
{
    private sealed record Row(uint Group, uint Vid, int Rank, int Entered, long Sessions, long Touches);

    private static (Dictionary<uint, (long V, long S, long T, long[] R, long[] E)> PerGroup, (long V, long S, long T, long[] R, long[] E) Total) Brute(List<Row> rows)
    {
        static (long, long, long, long[], long[]) Tally(IEnumerable<IGrouping<uint, Row>> byVisitor)
        {
            var reached = new long[5];
            var entered = new long[5];
            long visitors = 0, sessions = 0, touches = 0;
            foreach (var v in byVisitor)
            {
                visitors++;
                var best = v.Max(r => r.Rank);
                var set = v.Aggregate(0, (a, r) => a | r.Entered);
                for (var r = 1; r <= 5; r++)
                {
                    reached[r - 1] += best >= r ? 1 : 0;
                    entered[r - 1] += (set & (1 << (r - 1))) != 0 ? 1 : 0;
                }
                sessions += v.Sum(r => r.Sessions);
                touches += v.Sum(r => r.Touches);
            }
            return (visitors, sessions, touches, reached, entered);
        }
        var perGroup = rows.GroupBy(r => r.Group).ToDictionary(g => g.Key, g => Tally(g.GroupBy(r => r.Vid)));
        return (perGroup, Tally(rows.GroupBy(r => r.Vid)));
    }

    private static List<Row> Random(int seed, int n, int visitors, int groups)
    {
        var r = new Random(seed);
        var rows = new List<Row>();
        for (var i = 0; i < n; i++)
        {
            // visitor numbers with gaps; a few heavy visitors with many rows
            var vid = r.Next(10) == 0 ? (uint)r.Next(1, 4) : (uint)(r.Next(visitors) * 3 + 1);
            rows.Add(new Row((uint)r.Next(groups), vid, r.Next(6), r.Next(32), r.Next(1, 5), r.Next(1, 100)));
        }
        return rows;
    }

    [TestCase(1, 1, 0, 1, 1)]
    [TestCase(2, 1, 10, 5, 3)]
    [TestCase(3, 2, 3000, 500, 90)]
    [TestCase(4, 3, 20000, 3000, 7)]
    [TestCase(5, 4, 20000, 8000, 1200)]
    [TestCase(6, 2, 70000, 20000, 40)]
    [TestCase(7, 2, 30000, 40_000_000, 20)] // visitor numbers past 2^26: buckets of more than 4,096 visitors
    public void Counts_on_any_number_of_threads_equal_a_brute_force(int seed, int threads, int n, int visitors, int groups)
    {
        var rows = Random(seed, n, visitors, groups);
        using var packed = new DistinctVisitors.Rows();
        foreach (var row in rows)
        {
            packed.Add(DistinctVisitors.Pack(row.Group, row.Vid, row.Rank, row.Entered << 1), ((ulong)row.Sessions << 32) | (ulong)row.Touches);
        }
        var (perGroup, total) = Brute(rows);
        foreach (var t in new int?[] { threads, null })
        {
            var counted = DistinctVisitors.Count(packed, out var all, t);
            Assert.That(counted.Keys.Order(), Is.EqualTo(perGroup.Keys.Order()));
            foreach (var (g, e) in perGroup)
            {
                var a = counted[g];
                Assert.That((a.Visitors, a.Sessions, a.Touches, a.Reached, a.Entered), Is.EqualTo(e), $"group {g}, {t} threads");
            }
            Assert.That((all.Visitors, all.Sessions, all.Touches, all.Reached, all.Entered), Is.EqualTo(total), $"total, {t} threads");
        }
    }

    [Test]
    public void Rows_without_sums_count_visitors_and_no_sums()
    {
        using var rows = new DistinctVisitors.Rows(withSums: false);
        rows.Add(DistinctVisitors.Pack(2, 9, 3, 0b110), 123);
        rows.Add(DistinctVisitors.Pack(2, 9, 1, 0b10), 123);
        rows.Add(DistinctVisitors.Pack(0, 4, 0, 0), 123);
        Assert.That(rows.Sums, Is.Null);
        var counted = DistinctVisitors.Count(rows, out var total);
        Assert.That(total.Visitors, Is.EqualTo(2));
        Assert.That(total.Sessions, Is.Zero);
        Assert.That(counted[2].Reached, Is.EqualTo(new long[] { 1, 1, 1, 0, 0 }));
        Assert.That(counted[2].Entered, Is.EqualTo(new long[] { 1, 1, 0, 0, 0 }));
        Assert.That(counted[0].Reached, Is.EqualTo(new long[5]));
        Assert.That(counted.ContainsKey(1), Is.False);
    }

    [Test]
    public void Scratch_arrays_are_reused_and_their_number_is_bounded()
    {
        // a type no other code rents, so the test runs alone on its pool
        ScratchArrays<short>.Clear();
        var a = ScratchArrays<short>.Rent(5000);
        Assert.That(a, Has.Length.GreaterThanOrEqualTo(5000));
        ScratchArrays<short>.Return(a);
        Assert.That(ScratchArrays<short>.Rent(4000), Is.SameAs(a), "a kept array serves a smaller request");
        ScratchArrays<short>.Return(a);
        Assert.That(ScratchArrays<short>.Rent(a.Length + 1), Is.Not.SameAs(a), "and not a larger one");
        var many = Enumerable.Range(0, 10).Select(i => ScratchArrays<short>.Rent(2000 + i * 1000)).ToList();
        foreach (var m in many)
        {
            ScratchArrays<short>.Return(m);
        }
        Assert.That(ScratchArrays<short>.KeptCount, Is.LessThanOrEqualTo(6));
        var largest = many.Max(m => m.Length);
        Assert.That(ScratchArrays<short>.Rent(largest), Has.Length.EqualTo(largest), "the largest ones are kept");
        ScratchArrays<short>.Clear();
        Assert.That(ScratchArrays<short>.KeptCount, Is.Zero);
    }

    [Test]
    public void A_journey_row_adds_as_one_entry_per_rank_does()
    {
        var r = new Random(8);
        var byEntry = new FunnelTimes();
        var byRow = new FunnelTimes();
        byRow.Reserve(300);
        var entries = new long[5];
        for (var i = 0; i < 2000; i++)
        {
            var jkey = (ulong)r.Next(400) * 0x9E3779B97F4A7C15UL; // rows of the same journey more than once, key 0 too
            var vid = (uint)(jkey % 50);
            for (var k = 0; k < 5; k++)
            {
                entries[k] = r.Next(3) == 0 ? long.MinValue : r.Next(1_000_000) * 1_000_000L;
                if (entries[k] != long.MinValue)
                {
                    byEntry.Add(jkey, vid, k + 1, entries[k]);
                }
            }
            byRow.AddJourney(jkey, vid, entries, long.MinValue);
        }
        Assert.That(byRow.Compute(), Is.EqualTo(byEntry.Compute()));
        Assert.That(byRow.Compute(v => v % 2 == 0), Is.EqualTo(byEntry.Compute(v => v % 2 == 0)));
    }
}
