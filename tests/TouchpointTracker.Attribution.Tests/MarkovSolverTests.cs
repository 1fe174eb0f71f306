namespace TouchpointTracker.Attribution.Tests;

/// <summary>
/// The solve through the triangular factors (LU without pivoting, then U⁻¹ and L⁻¹, on the packed matrix product)
/// against the blocked Gauss–Jordan inverse it replaced, kept as the reference: the same figures within 1e-12 relative
///, on sizes crossing the block, sliver and tile sizes, dense and sparse, and the same bytes run
/// after run and on one thread or all.
/// </summary>
public class MarkovSolverTests
{
    private static void RequireKernels() => Assume.That(DenseKernels.IsSupported, "AVX2 with FMA");

    /// <summary>A random I − Q with Q substochastic (each row keeps 0.05 to 0.55 of its mass for absorption).</summary>
    private static double[] RandomMMatrix(int m, double density, int seed)
    {
        var rnd = new Random(seed);
        var a = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            double row = 0;
            for (var j = 0; j < m; j++)
            {
                if (i != j && rnd.NextDouble() < density)
                {
                    row += a[i * m + j] = rnd.NextDouble();
                }
            }
            // a ring i → i + 1 keeps the whole matrix one strongly connected component (loops everywhere)
            if (m > 1)
            {
                row += a[i * m + (i + 1) % m] += 0.5;
            }
            var total = row + 0.05 + 0.5 * rnd.NextDouble();
            for (var j = 0; j < m; j++)
            {
                a[i * m + j] = -a[i * m + j] / total;
            }
            a[i * m + i] = 1;
        }
        return a;
    }

    private static void AssertClose(double[] expected, double[] actual, double relative, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var scale = Math.Max(Math.Abs(expected[i]), Math.Abs(actual[i]));
            var diff = Math.Abs(expected[i] - actual[i]);
            if (diff > relative * scale && diff / scale > worst)
            {
                worst = diff / scale;
                at = i;
            }
        }
        Assert.That(at, Is.EqualTo(-1), $"{what}: element {at} differs by {worst:E2} relative");
    }

    [TestCase(1, 1.0, 16)]
    [TestCase(2, 1.0, 16)]
    [TestCase(63, 1.0, 16)]
    [TestCase(64, 0.3, 16)]
    [TestCase(65, 0.02, 16)]
    [TestCase(63, 1.0, 64)]
    [TestCase(64, 1.0, 64)]
    [TestCase(65, 1.0, 64)]
    [TestCase(200, 0.5, 64)]
    [TestCase(200, 0.01, 128)]
    [TestCase(700, 1.0, 128)]
    [TestCase(700, 0.005, 128)]
    [TestCase(700, 0.2, 100)]
    public void The_factors_give_the_inverse_of_the_blocked_Gauss_Jordan(int m, double density, int block)
    {
        RequireKernels();
        var a = RandomMMatrix(m, density, seed: m * 31 + block);
        var reference = (double[])a.Clone();
        MarkovChain.InvertBlocked(reference, m);
        var upper = (double[])a.Clone();
        var lowerT = MarkovChain.InverseFactors(upper, m, block);
        // N = U⁻¹L⁻¹: its diagonal (what the removal effects need) and a few whole rows
        var diagonal = new double[m];
        var expectedDiagonal = new double[m];
        for (var i = 0; i < m; i++)
        {
            expectedDiagonal[i] = reference[i * m + i];
            for (var k = i; k < m; k++)
            {
                diagonal[i] += upper[i * m + k] * lowerT[i * m + k];
            }
        }
        AssertClose(expectedDiagonal, diagonal, 1e-12, $"diagonal, m {m}, block {block}");
        foreach (var i in new[] { 0, m / 2, m - 1 })
        {
            var row = new double[m];
            for (var k = i; k < m; k++)
            {
                for (var j = 0; j <= k; j++)
                {
                    row[j] += upper[i * m + k] * lowerT[j * m + k];
                }
            }
            AssertClose(reference.AsSpan(i * m, m).ToArray(), row, 1e-12, $"row {i}, m {m}, block {block}");
        }
        // the factors' shape: U⁻¹ zero below the diagonal, (L⁻¹)ᵀ with a unit diagonal
        for (var i = 0; i < m; i++)
        {
            Assert.That(lowerT[i * m + i], Is.EqualTo(1));
            for (var j = 0; j < i; j++)
            {
                Assert.That(upper[i * m + j], Is.Zero);
                Assert.That(lowerT[i * m + j], Is.Zero);
            }
        }
    }

    /// <summary>The product kernel against the schoolbook sum, with offsets, strides, a subset of rows in no order and
    /// row counts, shared lengths and widths that are not multiples of the 6 × 8 block or of the column tile.</summary>
    [TestCase(1, 1, 1)]
    [TestCase(5, 3, 7)]
    [TestCase(6, 8, 8)]
    [TestCase(13, 17, 263)]
    [TestCase(40, 128, 520)]
    public void The_product_kernel_matches_the_plain_sum(int rowCount, int k, int n)
    {
        RequireKernels();
        var rnd = new Random(rowCount * 1000 + k * 10 + n);
        var ldc = n + 5;
        var lda = k + 3;
        var ldb = n + 2;
        const int cOff = 4, aOff = 2, bOff = 7;
        var totalRows = rowCount * 2 + 1;
        var c = Enumerable.Range(0, cOff + totalRows * ldc).Select(_ => rnd.NextDouble() - 0.5).ToArray();
        var a = Enumerable.Range(0, aOff + totalRows * lda).Select(_ => rnd.NextDouble() - 0.5).ToArray();
        var b = Enumerable.Range(0, bOff + k * ldb).Select(_ => rnd.NextDouble() - 0.5).ToArray();
        var rows = Enumerable.Range(0, totalRows).OrderBy(_ => rnd.Next()).Take(rowCount).ToArray();
        var expected = (double[])c.Clone();
        foreach (var i in rows)
        {
            for (var j = 0; j < n; j++)
            {
                var s = expected[cOff + i * ldc + j];
                for (var t = 0; t < k; t++)
                {
                    s = Math.FusedMultiplyAdd(-a[aOff + i * lda + t], b[bOff + t * ldb + j], s);
                }
                expected[cOff + i * ldc + j] = s;
            }
        }
        DenseKernels.MulSub(c, cOff, ldc, rows, a, aOff, lda, k, b, bOff, ldb, n, parallel: true);
        // the same operations in the same order: equal to the bit, and nothing outside the rows and columns touched
        Assert.That(c, Is.EqualTo(expected));
    }

    /// <summary>Random chains: one dense component, a sparse hub-shaped one, and several components with loops between
    /// keys that never return; the solve with the fast inverse gives the reference's figures.</summary>
    [TestCase(1, "dense")]
    [TestCase(2, "dense")]
    [TestCase(63, "dense")]
    [TestCase(64, "hub")]
    [TestCase(65, "dense")]
    [TestCase(200, "hub")]
    [TestCase(200, "layers")]
    [TestCase(700, "dense")]
    [TestCase(700, "hub")]
    public void The_solve_with_the_fast_inverse_equals_the_reference(int keys, string shape)
    {
        RequireKernels();
        var chain = RandomChain(keys, shape, seed: keys);
        var reference = chain.Solve((a, m) => MarkovChain.InvertBlocked(a, m));
        foreach (var solution in new[] { chain.Solve(), chain.Solve(null, 16), chain.Solve(null, 64) })
        {
            Assert.That(solution.ConversionProbability, Is.EqualTo(reference.ConversionProbability).Within(1e-12 * reference.ConversionProbability));
            AssertClose(reference.RemovalEffects, solution.RemovalEffects, 1e-12, "removal effects");
            AssertClose(reference.ConversionFrom, solution.ConversionFrom, 1e-12, "x");
            AssertClose(reference.ExpectedVisits, solution.ExpectedVisits, 1e-12, "v");
        }
    }

    [Test]
    public void The_solve_gives_the_same_bytes_run_after_run()
    {
        RequireKernels();
        var chain = RandomChain(900, "dense", seed: 4);
        var first = chain.Solve();
        Assert.That(first.LargestComponent, Is.GreaterThan(MarkovChain.GemmBlock * 2));
        Assert.That(first.RemovalEffects, Has.Some.GreaterThan(0));
        for (var run = 0; run < 4; run++)
        {
            var again = chain.Solve();
            Assert.That(again.ConversionProbability, Is.EqualTo(first.ConversionProbability));
            Assert.That(again.RemovalEffects, Is.EqualTo(first.RemovalEffects));
            Assert.That(again.ConversionFrom, Is.EqualTo(first.ConversionFrom));
            Assert.That(again.ExpectedVisits, Is.EqualTo(first.ExpectedVisits));
        }
        // and the same bytes whether the product runs on one thread or on every core
        var a = RandomMMatrix(600, 0.5, seed: 8);
        var parallel = (double[])a.Clone();
        var parallelLowerT = MarkovChain.InverseFactors(parallel, 600);
        var single = (double[])a.Clone();
        var singleLowerT = MarkovChain.InverseFactors(single, 600, parallel: false);
        Assert.That(single, Is.EqualTo(parallel));
        Assert.That(singleLowerT, Is.EqualTo(parallelLowerT));
    }

    /// <summary>
    /// "dense": paths of 1 to 6 touches over every key, skewed towards low keys; "hub": most transitions go through key 0
    /// (a hub like Direct) with a few between the others; "layers": keys in groups of 10 with loops inside a group and
    /// steps only to later groups (many components).
    /// </summary>
    private static MarkovChain RandomChain(int keys, string shape, int seed)
    {
        var rnd = new Random(seed);
        var chain = new MarkovChain(keys);
        var path = new int[8];
        for (var p = 0; p < keys * 30; p++)
        {
            var n = 1 + rnd.Next(6);
            for (var i = 0; i < n; i++)
            {
                path[i] = shape switch
                {
                    "hub" => rnd.NextDouble() < 0.5 ? 0 : rnd.Next(keys),
                    "layers" => i == 0 ? rnd.Next(keys) : Math.Min(keys - 1, path[i - 1] / 10 * 10 + rnd.Next(rnd.NextDouble() < 0.8 ? 10 : 30)),
                    _ => (int)(keys * Math.Pow(rnd.NextDouble(), 1.5)),
                };
            }
            chain.AddPath(path.AsSpan(0, n), 1 + rnd.Next(3), rnd.NextDouble() < 0.35);
        }
        return chain;
    }
}
