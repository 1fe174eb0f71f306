namespace TouchpointTracker.Attribution.Tests;

public class MarkovTests
{
    /// <summary>
    /// The example of "Markov Chain Attribution – Simple Explanation Of Removal Effect" (Serhii Puzyrov, 2019,
    /// https://serhiipuzyrov.com/2019/07/markov-chain-attribution-simple-explanation-of-removal-effect/): paths
    /// google ads (2 conversions), mailing (1), google ads > mailing (1), google ads (no conversion). Its transition table:
    /// start > google ads 4/5, start > mailing 1/5, google ads > conv 2/4, > mailing 1/4, > null 1/4, mailing > conv 1.
    /// So P(conv) = 0.8 × (0.5 + 0.25) + 0.2 = 0.8; without google ads only start > mailing > conv is left, P = 0.2,
    /// removal effect 1 − 0.2/0.8 = 0.75; without mailing only start > google ads > conv, P = 0.4, removal effect 0.5.
    /// The 4 conversions split 0.75 : 0.5, so google ads 2.4 and mailing 1.6.
    /// </summary>
    [Test]
    public void Removal_effects_match_the_published_google_ads_and_mailing_example()
    {
        var b = new AttributionBuilder([AttributionModel.Markov]);
        b.AddConversionPath(Paths.Keys(b, "google ads"), new Conversion(Paths.Conversion.Ticks, 2, 200));
        b.AddConversionPath(Paths.Keys(b, "mailing"), Paths.One(100));
        b.AddConversionPath(Paths.Keys(b, "google ads", "mailing"), Paths.One(100));
        b.AddNonConvertingPath(Paths.Keys(b, "google ads"));
        var r = b.Compute();

        var chain = new MarkovChain(2);
        chain.AddPath([0], 2, true);
        chain.AddPath([1], 1, true);
        chain.AddPath([0, 1], 1, true);
        chain.AddPath([0], 1, false);
        var s = chain.Solve();
        Assert.Multiple(() =>
        {
            Assert.That(s.ConversionProbability, Is.EqualTo(0.8).Within(1e-12));
            Assert.That(s.ConversionFrom[0], Is.EqualTo(0.75).Within(1e-12)); // 0.5 + 0.25 × 1
            Assert.That(s.ConversionFrom[1], Is.EqualTo(1).Within(1e-12));
            Assert.That(s.RemovalEffects[0], Is.EqualTo(0.75).Within(1e-12));
            Assert.That(s.RemovalEffects[1], Is.EqualTo(0.5).Within(1e-12));
            Assert.That(r.MarkovConversionProbability, Is.EqualTo(0.8).Within(1e-12));
            Assert.That(r.Credit(AttributionModel.Markov, "google ads"), Is.EqualTo(2.4).Within(1e-12));
            Assert.That(r.Credit(AttributionModel.Markov, "mailing"), Is.EqualTo(1.6).Within(1e-12));
            Assert.That(r.RevenueCredit(AttributionModel.Markov, "google ads"), Is.EqualTo(240).Within(1e-9));
        });
    }

    /// <summary>
    /// A loop, worked by hand: A > B > A converts, B alone does not. start > A 1/2, > B 1/2; A > B 1/2, > conv 1/2;
    /// B > A 1/2, > null 1/2. x_A = 1/2 + x_B/2, x_B = x_A/2, so x_A = 2/3, x_B = 1/3 and P = 1/2.
    /// Without A nothing converts (RE 1); without B only start > A > conv is left, P = 1/4 (RE 1/2).
    /// Credits 1 × 1/1.5 and 1 × 0.5/1.5.
    /// </summary>
    [Test]
    public void A_loop_is_solved_exactly()
    {
        var b = new AttributionBuilder([AttributionModel.Markov]);
        b.AddConversionPath(Paths.Keys(b, "A", "B", "A"), Paths.One(30));
        b.AddNonConvertingPath(Paths.Keys(b, "B"));
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.MarkovConversionProbability, Is.EqualTo(0.5).Within(1e-12));
            Assert.That(r.Credit(AttributionModel.Markov, "A"), Is.EqualTo(2.0 / 3).Within(1e-12));
            Assert.That(r.Credit(AttributionModel.Markov, "B"), Is.EqualTo(1.0 / 3).Within(1e-12));
            Assert.That(r.RevenueCredit(AttributionModel.Markov, "A"), Is.EqualTo(20).Within(1e-9));
        });
    }

    [Test]
    public void Repeated_touches_of_one_key_change_nothing()
    {
        var once = new AttributionBuilder([AttributionModel.Markov]);
        once.AddConversionPath(Paths.Keys(once, "A", "B"), Paths.One());
        once.AddNonConvertingPath(Paths.Keys(once, "A"));
        var repeated = new AttributionBuilder([AttributionModel.Markov]);
        repeated.AddConversionPath(Paths.Keys(repeated, "A", "A", "A", "B", "B"), Paths.One());
        repeated.AddNonConvertingPath(Paths.Keys(repeated, "A", "A"));
        var a = once.Compute();
        var b = repeated.Compute();
        Assert.That(b.ConversionCredits[0], Is.EqualTo(a.ConversionCredits[0]).Within(1e-12));
    }

    [Test]
    public void Non_converting_paths_given_as_counted_transitions_give_the_same_credit()
    {
        string[][] nonConverting = [["A", "B", "A"], ["B"], ["C", "C", "A"], ["A", "B", "A"]];
        var paths = new AttributionBuilder([AttributionModel.Markov]);
        var transitions = new AttributionBuilder([AttributionModel.Markov]);
        foreach (var b in new[] { paths, transitions })
        {
            b.AddConversionPath(Paths.Keys(b, "A", "B"), Paths.One(10));
            b.AddConversionPath(Paths.Keys(b, "C"), Paths.One(10));
        }
        var counted = new Dictionary<(string? From, string To, bool Last), long>();
        foreach (var p in nonConverting)
        {
            paths.AddNonConvertingPath(Paths.Keys(paths, p));
            for (var i = 0; i < p.Length; i++)
            {
                var k = (i == 0 ? null : p[i - 1], p[i], i == p.Length - 1);
                counted[k] = counted.GetValueOrDefault(k) + 1;
            }
        }
        foreach (var ((from, to, last), n) in counted)
        {
            var t = transitions.Key(to);
            transitions.AddNonConvertingTransition(from is null ? -1 : transitions.Key(from), t, n);
            if (last)
            {
                transitions.AddNonConvertingTransition(t, -1, n);
            }
        }
        var a = paths.Compute();
        var b2 = transitions.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(b2.NonConvertingPaths, Is.EqualTo(4));
            Assert.That(b2.MarkovConversionProbability, Is.EqualTo(a.MarkovConversionProbability).Within(1e-12));
            foreach (var k in new[] { "A", "B", "C" })
            {
                Assert.That(b2.Credit(AttributionModel.Markov, k), Is.EqualTo(a.Credit(AttributionModel.Markov, k)).Within(1e-12), k);
            }
            Assert.That(a.Credit(AttributionModel.Markov, "A"), Is.Not.EqualTo(a.Credit(AttributionModel.Markov, "C")));
        });
    }

    /// <summary>Random chains with cycles against a naive reference: for each key, rebuild the chain without it and
    /// solve for P(conversion) by Gaussian elimination with partial pivoting.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    public void Removal_effects_match_solving_each_removed_chain(int seed)
    {
        var rnd = new Random(seed);
        var keys = 3 + rnd.Next(10);
        var chain = new MarkovChain(keys);
        var paths = new List<(int[] Path, double W, bool Conv)>();
        for (var p = 0; p < 60; p++)
        {
            var path = Enumerable.Range(0, 1 + rnd.Next(6)).Select(_ => rnd.Next(keys)).ToArray();
            var w = 1 + rnd.Next(3);
            var conv = rnd.NextDouble() < 0.4;
            paths.Add((path, w, conv));
            chain.AddPath(path, w, conv);
        }
        var s = chain.Solve();
        var p0 = Reference(keys, paths, removed: -1);
        Assert.That(s.ConversionProbability, Is.EqualTo(p0).Within(1e-10));
        for (var k = 0; k < keys; k++)
        {
            var expected = p0 > 0 ? 1 - Reference(keys, paths, k) / p0 : 0;
            Assert.That(s.RemovalEffects[k], Is.EqualTo(expected).Within(1e-9), $"key {k}");
        }
    }

    [TestCase(400, false)] // the plain sweep, above its parallel threshold
    [TestCase(300, true)]  // blocked: four blocks of 64 and one of 44
    [TestCase(130, true)]  // small enough to go to the plain sweep
    public void Gauss_Jordan_inverts_a_large_block(int m, bool blocked)
    {
        var rnd = new Random(9);
        var a = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            double row = 0;
            for (var j = 0; j < m; j++)
            {
                if (i != j && rnd.NextDouble() < 0.05)
                {
                    row += a[i * m + j] = -rnd.NextDouble();
                }
            }
            a[i * m + i] = Math.Abs(row) + 0.1;
        }
        var copy = (double[])a.Clone();
        if (blocked)
        {
            MarkovChain.InvertBlocked(a, m);
        }
        else
        {
            MarkovChain.Invert(a, m);
        }
        for (var i = 0; i < m; i += 37)
        {
            for (var j = 0; j < m; j += 41)
            {
                double s = 0;
                for (var k = 0; k < m; k++)
                {
                    s += copy[i * m + k] * a[k * m + j];
                }
                Assert.That(s, Is.EqualTo(i == j ? 1 : 0).Within(1e-9));
            }
        }
    }

    /// <summary>P(conversion) of the chain built from <paramref name="paths"/> with <paramref name="removed"/> sent to null.</summary>
    private static double Reference(int keys, List<(int[] Path, double W, bool Conv)> paths, int removed)
    {
        // states 0..keys-1; counts
        var t = new double[keys, keys];
        var conv = new double[keys];
        var total = new double[keys];
        var start = new double[keys];
        double startTotal = 0;
        foreach (var (path, w, c) in paths)
        {
            start[path[0]] += w;
            startTotal += w;
            for (var i = 0; i < path.Length; i++)
            {
                total[path[i]] += w;
                if (i + 1 < path.Length)
                {
                    t[path[i], path[i + 1]] += w;
                }
                else if (c)
                {
                    conv[path[i]] += w;
                }
            }
        }
        // x_i = conv_i/total_i + Σ_j t_ij/total_i x_j, with x_removed = 0: (I − Q) x = r, self-loops kept
        var n = keys;
        var a = new double[n, n + 1];
        for (var i = 0; i < n; i++)
        {
            a[i, i] = 1;
            if (i == removed || total[i] == 0)
            {
                continue;
            }
            for (var j = 0; j < n; j++)
            {
                a[i, j] -= t[i, j] / total[i];
            }
            a[i, n] = conv[i] / total[i];
        }
        for (var col = 0; col < n; col++)
        {
            var piv = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[piv, col]))
                {
                    piv = r;
                }
            }
            for (var c = 0; c <= n; c++)
            {
                (a[col, c], a[piv, c]) = (a[piv, c], a[col, c]);
            }
            for (var r = 0; r < n; r++)
            {
                if (r != col && a[r, col] != 0)
                {
                    var f = a[r, col] / a[col, col];
                    for (var c = col; c <= n; c++)
                    {
                        a[r, c] -= f * a[col, c];
                    }
                }
            }
        }
        double p = 0;
        for (var i = 0; i < n; i++)
        {
            if (i != removed)
            {
                p += start[i] / startTotal * a[i, n] / a[i, i];
            }
        }
        return p;
    }
}
