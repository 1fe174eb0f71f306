using System.Numerics;
using System.Runtime.InteropServices;

namespace TouchpointTracker.Attribution;

/// <summary>
/// First-order Markov chain over the keys with three more states, start, conversion and null (both absorbing);
/// transition probabilities are the observed transition counts normalised per state. The removal effect of key c is
/// <c>RE_c = 1 − P(conversion | c removed) / P(conversion)</c>, where removing c sends every transition into c to null.
/// <para>
/// Computed exactly by linear algebra, never by simulation. With Q the transitions between keys, r the one-step
/// conversion probabilities, s the start distribution and N = (I − Q)⁻¹ the fundamental matrix:
/// x = N r (probability of converting from each key), v = sᵀN (expected visits to each key from start) and
/// P(conversion) = sᵀx. A walk converts without visiting c unless it visits c, and P(visit c) = v_c / N_cc, so
/// <c>P(conversion | c removed) = P(conversion) − v_c x_c / N_cc</c>: one factorisation gives every removal effect.
/// </para>
/// <para>
/// The chain is split into strongly connected components (Tarjan): a walk that leaves a component never returns, so
/// x and v follow by block back- and forward-substitution in topological order, and N_cc only needs the component's own
/// block A = I − Q_SS: an M-matrix, so A = LU without pivoting, and with U⁻¹ and L⁻¹ (<see cref="InverseFactors"/>)
/// N_cc = Σ_k U⁻¹_ck L⁻¹_kc, x = U⁻¹L⁻¹b and v = sᵀU⁻¹L⁻¹ — two thirds of the work of a full inverse (the blocked
/// Gauss–Jordan sweep, <see cref="InvertBlocked"/>, kept for machines without AVX2/FMA and as the tests' reference). A
/// key on no cycle is a component of one with N_cc = 1. Cost: the sum of the cubes of the component sizes (m³/1.5
/// multiply-adds each), plus linear in the transitions. Self-transitions (a key followed by itself) are dropped before normalising: they change
/// neither where a walk is absorbed nor whether it visits a key, so every figure is the same with or without them.
/// </para>
/// </summary>
public sealed class MarkovChain
{
    private readonly int _n;
    private readonly double[] _start;
    private readonly double[] _conv;
    private readonly double[] _null;
    private readonly Dictionary<long, double> _edges = [];

    public MarkovChain(int keys)
    {
        _n = keys;
        _start = new double[keys];
        _conv = new double[keys];
        _null = new double[keys];
    }

    public int Keys => _n;

    /// <summary>Adds <paramref name="weight"/> walks following <paramref name="path"/> (keys in order) to conversion or to null.</summary>
    public void AddPath(ReadOnlySpan<int> path, double weight, bool converted)
    {
        if (path.Length == 0 || weight <= 0)
        {
            return;
        }
        _start[path[0]] += weight;
        for (var i = 1; i < path.Length; i++)
        {
            if (path[i] != path[i - 1])
            {
                ref var e = ref CollectionsMarshal.GetValueRefOrAddDefault(_edges, Edge(path[i - 1], path[i], _n), out _);
                e += weight;
            }
        }
        (converted ? _conv : _null)[path[^1]] += weight;
    }

    /// <summary>
    /// Adds walks already reduced to one transition: <paramref name="from"/> −1 is the start state, <paramref name="to"/>
    /// −1 is the end of the walk (conversion when <paramref name="converted"/>, else null). Feeding every transition of a
    /// set of paths this way gives the same chain as <see cref="AddPath"/> with those paths.
    /// </summary>
    public void AddTransition(int from, int to, double weight, bool converted = false)
    {
        if (weight <= 0 || (from < 0 && to < 0))
        {
            return;
        }
        if (from < 0)
        {
            _start[to] += weight;
        }
        else if (to < 0)
        {
            (converted ? _conv : _null)[from] += weight;
        }
        else if (from != to)
        {
            ref var e = ref CollectionsMarshal.GetValueRefOrAddDefault(_edges, Edge(from, to, _n), out _);
            e += weight;
        }
    }

    // from · keys + to: ordered like (from, to), and for fewer than 65,536 keys below 2³², where a long's hash code is the
    // value itself, so no two transitions share a hash bucket (from << 32 | to would hash to from ^ to and pile the
    // transitions of a few thousand keys into a few thousand buckets).
    private static long Edge(int from, int to, int keys) => (long)from * keys + to;

    /// <summary>The solution: P(conversion) and, per key, the removal effect (0 for a key on no path).</summary>
    public sealed record Solution(double ConversionProbability, double[] RemovalEffects, double[] ConversionFrom, double[] ExpectedVisits)
    {
        /// <summary>Keys in the largest strongly connected component: the size of the largest dense block inverted.</summary>
        public int LargestComponent { get; init; }
    }

    public Solution Solve() => DenseKernels.IsSupported ? Solve(null) : Solve((a, m) => InvertBlocked(a, m));

    /// <summary>
    /// The solve with a given dense inverse (in place, row-major m×m) for the components, or, with none, through the
    /// factors of <see cref="InverseFactors"/> in blocks of <paramref name="block"/>: tests compare the ways.
    /// </summary>
    internal Solution Solve(Action<double[], int>? invert, int block = GemmBlock)
    {
        var n = _n;
        // transition probabilities, CSR by source key
        var total = new double[n];
        var outCount = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            total[i] = _conv[i] + _null[i];
        }
        // in (from, to) order, whatever order the transitions came in: the same chain gives the same figures, to the bit
        var edges = _edges.ToArray();
        Array.Sort(edges, static (a, b) => a.Key.CompareTo(b.Key));
        foreach (var (e, w) in edges)
        {
            total[(int)(e / n)] += w;
            outCount[(int)(e / n) + 1]++;
        }
        for (var i = 0; i < n; i++)
        {
            outCount[i + 1] += outCount[i];
        }
        var rowStart = outCount;
        var fill = (int[])rowStart.Clone();
        var to = new int[_edges.Count];
        var prob = new double[_edges.Count];
        foreach (var (e, w) in edges)
        {
            var from = (int)(e / n);
            var slot = fill[from]++;
            to[slot] = (int)(e % n);
            prob[slot] = w / total[from];
        }
        double startTotal = 0;
        foreach (var s in _start)
        {
            startTotal += s;
        }
        var x = new double[n];
        var v = new double[n];
        var nDiag = new double[n];
        var re = new double[n];
        if (startTotal <= 0)
        {
            return new Solution(0, re, x, v);
        }

        var components = StronglyConnected(n, rowStart, to);
        // Sinks first: x of a component needs x of the components it leads to.
        var inverses = new double[components.Count][];
        var lowerT = new double[components.Count][]; // (L⁻¹)ᵀ when the component went through the factors, else null
        var local = new int[n];
        Array.Fill(local, -1);
        for (var c = 0; c < components.Count; c++)
        {
            var comp = components[c];
            var m = comp.Length;
            for (var a = 0; a < m; a++)
            {
                local[comp[a]] = a;
            }
            var b = new double[m];
            double[] inv;
            if (m == 1 && total[comp[0]] > 0)
            {
                inv = [1.0];
            }
            else
            {
                inv = new double[m * m];
                for (var a = 0; a < m; a++)
                {
                    inv[a * m + a] = 1;
                }
            }
            for (var a = 0; a < m; a++)
            {
                var i = comp[a];
                if (total[i] <= 0)
                {
                    continue; // a key on no path: absorbing nowhere, contributes nothing
                }
                var bi = _conv[i] / total[i];
                for (var k = rowStart[i]; k < rowStart[i + 1]; k++)
                {
                    var j = to[k];
                    var lj = local[j];
                    if (lj >= 0)
                    {
                        inv[a * m + lj] -= prob[k];
                    }
                    else
                    {
                        bi += prob[k] * x[j];
                    }
                }
                b[a] = bi;
            }
            if (m > 1 && invert is null)
            {
                // N = U⁻¹L⁻¹ with inv = U⁻¹ and lt = (L⁻¹)ᵀ, both upper triangular
                var lt = lowerT[c] = InverseFactors(inv, m, block);
                var y = new double[m]; // L⁻¹ b
                for (var a = 0; a < m; a++)
                {
                    if (b[a] != 0)
                    {
                        Axpy(y.AsSpan(a, m - a), lt.AsSpan(a * m + a, m - a), b[a]);
                    }
                }
                for (var a = 0; a < m; a++)
                {
                    x[comp[a]] = Dot(inv.AsSpan(a * m + a, m - a), y.AsSpan(a, m - a));
                    nDiag[comp[a]] = Dot(inv.AsSpan(a * m + a, m - a), lt.AsSpan(a * m + a, m - a));
                }
                inverses[c] = inv;
                for (var a = 0; a < m; a++)
                {
                    local[comp[a]] = -1;
                }
                continue;
            }
            if (m > 1)
            {
                invert!(inv, m);
            }
            for (var a = 0; a < m; a++)
            {
                double s = 0;
                for (var k = 0; k < m; k++)
                {
                    s += inv[a * m + k] * b[k];
                }
                x[comp[a]] = s;
                nDiag[comp[a]] = inv[a * m + a];
            }
            inverses[c] = inv;
            for (var a = 0; a < m; a++)
            {
                local[comp[a]] = -1;
            }
        }
        // Sources first: v of a component needs the visits flowing in from the components before it.
        var inflow = new double[n];
        for (var i = 0; i < n; i++)
        {
            inflow[i] = _start[i] / startTotal;
        }
        for (var c = components.Count - 1; c >= 0; c--)
        {
            var comp = components[c];
            var m = comp.Length;
            var inv = inverses[c];
            if (lowerT[c] is { } lt)
            {
                // v = inflowᵀ U⁻¹ L⁻¹: w = inflowᵀ U⁻¹, row by row, then v_a = Σ_{k ≥ a} w_k (L⁻¹)_ka
                var w = new double[m];
                for (var a = 0; a < m; a++)
                {
                    var f = inflow[comp[a]];
                    if (f != 0)
                    {
                        Axpy(w.AsSpan(a, m - a), inv.AsSpan(a * m + a, m - a), f);
                    }
                }
                for (var a = 0; a < m; a++)
                {
                    v[comp[a]] = Dot(lt.AsSpan(a * m + a, m - a), w.AsSpan(a, m - a));
                }
            }
            else
            {
                for (var a = 0; a < m; a++)
                {
                    double s = 0;
                    for (var k = 0; k < m; k++)
                    {
                        s += inflow[comp[k]] * inv[k * m + a];
                    }
                    v[comp[a]] = s;
                }
            }
            for (var a = 0; a < m; a++)
            {
                local[comp[a]] = a;
            }
            for (var a = 0; a < m; a++)
            {
                var i = comp[a];
                for (var k = rowStart[i]; k < rowStart[i + 1]; k++)
                {
                    if (local[to[k]] < 0)
                    {
                        inflow[to[k]] += v[i] * prob[k];
                    }
                }
            }
            for (var a = 0; a < m; a++)
            {
                local[comp[a]] = -1;
            }
        }
        double p = 0;
        for (var i = 0; i < n; i++)
        {
            p += _start[i] / startTotal * x[i];
        }
        if (p > 0)
        {
            for (var i = 0; i < n; i++)
            {
                if (nDiag[i] > 0 && total[i] > 0)
                {
                    // P(conv with i removed) = p − v_i x_i / N_ii, clamped at 0 against rounding
                    re[i] = Math.Clamp(v[i] * x[i] / nDiag[i] / p, 0, 1);
                }
            }
        }
        return new Solution(p, re, x, v) { LargestComponent = components.Max(c => c.Length) };
    }

    /// <summary>In-place Gauss–Jordan inversion of a row-major m×m matrix, no pivoting (valid for the nonsingular M-matrix I − Q).</summary>
    internal static void Invert(double[] a, int m)
    {
        var width = Vector<double>.Count;
        var pivotRow = new double[m];
        for (var k = 0; k < m; k++)
        {
            var rowK = a.AsSpan(k * m, m);
            var piv = rowK[k];
            if (piv == 0 || !double.IsFinite(piv))
            {
                throw new InvalidOperationException("Singular transition block: a state without a way to absorption.");
            }
            rowK[k] = 1;
            var inv = 1 / piv;
            for (var j = 0; j < m; j++)
            {
                rowK[j] *= inv;
            }
            rowK.CopyTo(pivotRow);
            void Eliminate(int i)
            {
                if (i == k)
                {
                    return;
                }
                var row = a.AsSpan(i * m, m);
                var f = row[k];
                if (f == 0)
                {
                    return;
                }
                row[k] = 0;
                var j = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    var vf = new Vector<double>(f);
                    for (; j <= m - width; j += width)
                    {
                        var r = new Vector<double>(row[j..]);
                        (r - vf * new Vector<double>(pivotRow, j)).CopyTo(row[j..]);
                    }
                }
                for (; j < m; j++)
                {
                    row[j] -= f * pivotRow[j];
                }
            }
            if (m >= 384)
            {
                Parallel.For(0, m, Eliminate);
            }
            else
            {
                for (var i = 0; i < m; i++)
                {
                    Eliminate(i);
                }
            }
        }
    }

    /// <summary>
    /// In-place inversion of a row-major m×m M-matrix by blocked Gauss–Jordan (the block form of the same sweep:
    /// with P the b×b pivot block, A_ij −= A_iP P⁻¹ A_Pj, A_Pj := P⁻¹ A_Pj, A_iP := −A_iP P⁻¹, P := P⁻¹). Every principal
    /// block met along the way is a nonsingular M-matrix, so no pivoting. The update is a rank-b product applied tile by
    /// tile (a tile of the pivot rows stays in cache while every row passes), in parallel over tiles; rows whose pivot
    /// columns are all zero are skipped, which keeps sparse chains cheap. Small matrices go to <see cref="Invert"/>.
    /// </summary>
    internal static void InvertBlocked(double[] a, int m, int block = 64)
    {
        if (m <= 2 * block)
        {
            Invert(a, m);
            return;
        }
        const int tile = 256;
        var panel = new double[block * m]; // P⁻¹ A_P· (pivot block columns zero)
        var w = new double[m * block];     // A_·P before the step
        var active = new bool[m];
        var pinv = new double[block * block];
        for (var k0 = 0; k0 < m; k0 += block)
        {
            var b = Math.Min(block, m - k0);
            for (var r = 0; r < b; r++)
            {
                Array.Copy(a, (k0 + r) * m + k0, pinv, r * b, b);
            }
            Invert(pinv, b);
            for (var i = 0; i < m; i++)
            {
                var any = false;
                for (var t = 0; t < b; t++)
                {
                    var x = w[i * block + t] = a[i * m + k0 + t];
                    any |= x != 0;
                }
                active[i] = any && (i < k0 || i >= k0 + b);
            }
            Parallel.For(0, b, r =>
            {
                var dst = panel.AsSpan(r * m, m);
                dst.Clear();
                for (var t = 0; t < b; t++)
                {
                    var f = pinv[r * b + t];
                    if (f != 0)
                    {
                        Axpy(dst, a.AsSpan((k0 + t) * m, m), f);
                    }
                }
                dst.Slice(k0, b).Clear();
            });
            var tiles = (m + tile - 1) / tile;
            Parallel.For(0, tiles, ti =>
            {
                var j0 = ti * tile;
                var len = Math.Min(tile, m - j0);
                for (var i = 0; i < m; i++)
                {
                    if (active[i])
                    {
                        RankUpdate(a.AsSpan(i * m + j0, len), w.AsSpan(i * block, b), panel, m, j0);
                    }
                }
            });
            // the pivot columns of the other rows: −A_iP P⁻¹; the pivot rows: P⁻¹ A_Pj and P⁻¹
            for (var i = 0; i < m; i++)
            {
                if (i >= k0 && i < k0 + b)
                {
                    continue;
                }
                for (var s2 = 0; s2 < b; s2++)
                {
                    double sum = 0;
                    for (var t = 0; t < b; t++)
                    {
                        sum += w[i * block + t] * pinv[t * b + s2];
                    }
                    a[i * m + k0 + s2] = -sum;
                }
            }
            for (var r = 0; r < b; r++)
            {
                Array.Copy(panel, r * m, a, (k0 + r) * m, m);
                Array.Copy(pinv, r * b, a, (k0 + r) * m + k0, b);
            }
        }
    }

    internal const int GemmBlock = 128;

    /// <summary>
    /// The factors of A = I − Q_SS (m×m, row-major, overwritten) turned into what the solve needs, in about two thirds of
    /// the multiply-adds of a full inverse: A = LU without pivoting (L unit lower, U upper; every pivot of a nonsingular
    /// M-matrix is positive), then U⁻¹ and (Lᵀ)⁻¹ = (L⁻¹)ᵀ, both upper triangular. On return <paramref name="a"/> holds U⁻¹
    /// (zero below the diagonal) and the result holds (L⁻¹)ᵀ (unit diagonal). Then N = U⁻¹L⁻¹ and
    /// N_ii = Σ_{k ≥ i} U⁻¹_ik L⁻¹_ki, a dot product of row i of each. Products through <see cref="DenseKernels.MulSub"/>.
    /// </summary>
    internal static double[] InverseFactors(double[] a, int m, int block = GemmBlock, bool parallel = true)
    {
        FactorLu(a, m, block, parallel);
        // L's strict lower triangle moved, transposed, to lt (unit diagonal), by tiles of 32 × 32 to stay in cache
        var lt = new double[m * m];
        const int tile = 32;
        for (var i0 = 0; i0 < m; i0 += tile)
        {
            for (var j0 = 0; j0 <= i0; j0 += tile)
            {
                for (var i = i0; i < Math.Min(i0 + tile, m); i++)
                {
                    for (var j = j0; j < Math.Min(j0 + tile, i); j++)
                    {
                        lt[j * m + i] = a[i * m + j];
                        a[i * m + j] = 0;
                    }
                }
            }
        }
        for (var i = 0; i < m; i++)
        {
            lt[i * m + i] = 1;
        }
        InvertUpper(a, m, block, parallel);
        InvertUpper(lt, m, block, parallel);
        return lt;
    }

    /// <summary>In-place LU without pivoting, right-looking and blocked: per block of b pivots, the diagonal block's
    /// factors, U₁₂ = L₁₁⁻¹A₁₂, L₂₁ = A₂₁U₁₁⁻¹ and the trailing update A₂₂ −= L₂₁U₁₂ (the bulk, through the product kernel;
    /// rows of L₂₁ that are all zero are left out).</summary>
    private static void FactorLu(double[] a, int m, int block, bool parallel)
    {
        var small = new double[block * block];
        var neg = new double[block * block];
        var tmp = new double[Math.Max(block * m, m * block)];
        var idx = new int[m];
        for (var k0 = 0; k0 < m; k0 += block)
        {
            var b = Math.Min(block, m - k0);
            var e = k0 + b;
            // the diagonal block, unblocked
            for (var j = k0; j < e; j++)
            {
                var piv = a[j * m + j];
                if (!(piv > 0) || !double.IsFinite(piv))
                {
                    throw new InvalidOperationException("Singular transition block: a state without a way to absorption.");
                }
                for (var i = j + 1; i < e; i++)
                {
                    var f = a[i * m + j] /= piv;
                    if (f != 0)
                    {
                        for (var t = j + 1; t < e; t++)
                        {
                            a[i * m + t] -= f * a[j * m + t];
                        }
                    }
                }
            }
            if (e == m)
            {
                break;
            }
            var rest = m - e;
            // U₁₂ = L₁₁⁻¹ A₁₂: with −L₁₁⁻¹ in neg, tmp = 0 − (−L₁₁⁻¹) A₁₂
            InvertUnitLowerBlock(a, m, k0, b, small);
            for (var i = 0; i < b * b; i++)
            {
                neg[i] = -small[i];
            }
            for (var r = 0; r < b; r++)
            {
                idx[r] = r;
            }
            Array.Clear(tmp, 0, b * rest);
            DenseKernels.MulSub(tmp, 0, rest, idx.AsSpan(0, b), neg, 0, b, b, a, k0 * m + e, m, rest, parallel);
            for (var r = 0; r < b; r++)
            {
                Array.Copy(tmp, r * rest, a, (k0 + r) * m + e, rest);
            }
            // L₂₁ = A₂₁ U₁₁⁻¹, only rows with a nonzero there
            InvertUpperBlock(a, m, k0, b, small);
            for (var i = 0; i < b * b; i++)
            {
                neg[i] = -small[i];
            }
            var count = 0;
            for (var i = e; i < m; i++)
            {
                if (a.AsSpan(i * m + k0, b).IndexOfAnyExcept(0.0) >= 0)
                {
                    idx[count++] = i;
                }
            }
            var rows = idx.AsSpan(0, count);
            // tmp row i (at (i − e)·b) = 0 − A₂₁(i) (−U₁₁⁻¹)
            foreach (var i in rows)
            {
                Array.Clear(tmp, (i - e) * b, b);
            }
            DenseKernels.MulSub(tmp, -e * b, b, rows, a, k0, m, b, neg, 0, b, b, parallel);
            foreach (var i in rows)
            {
                Array.Copy(tmp, (i - e) * b, a, i * m + k0, b);
            }
            // A₂₂ −= L₂₁ U₁₂ (A read from columns k0..e, C written at columns e..m: no element shared)
            DenseKernels.MulSub(a, e, m, rows, a, k0, m, b, a, k0 * m + e, m, rest, parallel);
        }
    }

    /// <summary>small (b×b) := the inverse of the unit lower triangle of the diagonal block at k0 (zero above).</summary>
    private static void InvertUnitLowerBlock(double[] a, int m, int k0, int b, double[] small)
    {
        Array.Clear(small, 0, b * b);
        for (var j = 0; j < b; j++)
        {
            small[j * b + j] = 1;
            for (var i = j + 1; i < b; i++)
            {
                // X_ij = −Σ_{j ≤ t < i} L_it X_tj
                double sum = 0;
                for (var t = j; t < i; t++)
                {
                    sum += a[(k0 + i) * m + k0 + t] * small[t * b + j];
                }
                small[i * b + j] = -sum;
            }
        }
    }

    /// <summary>small (b×b) := the inverse of the upper triangle (with its diagonal) of the diagonal block at k0.</summary>
    private static void InvertUpperBlock(double[] a, int m, int k0, int b, double[] small)
    {
        Array.Clear(small, 0, b * b);
        for (var j = b - 1; j >= 0; j--)
        {
            small[j * b + j] = 1 / a[(k0 + j) * m + k0 + j];
        }
        for (var j = 0; j < b; j++)
        {
            for (var i = j - 1; i >= 0; i--)
            {
                // X_ij = −(Σ_{i < t ≤ j} U_it X_tj) / U_ii
                double sum = 0;
                for (var t = i + 1; t <= j; t++)
                {
                    sum += a[(k0 + i) * m + k0 + t] * small[t * b + j];
                }
                small[i * b + j] = -sum * small[i * b + i];
            }
        }
    }

    /// <summary>
    /// In-place inverse of an upper triangular m×m matrix (zero below the diagonal), blocked by columns: per block column J,
    /// X_JJ = U_JJ⁻¹ and, for every row block I above it, X_IJ = −(Σ_{I ≤ K &lt; J} X_IK U_KJ) X_JJ, the row blocks in parallel
    /// (each writes only its own rows, so the figures do not depend on the threads).
    /// </summary>
    private static void InvertUpper(double[] x, int m, int block, bool parallel)
    {
        var t = new double[m * block];
        var xjj = new double[block * block];
        var negXjj = new double[block * block];
        for (var j0 = 0; j0 < m; j0 += block)
        {
            var b = Math.Min(block, m - j0);
            InvertUpperBlock(x, m, j0, b, xjj);
            var blocksAbove = j0 / block;
            // first every T_IJ (they read column block J above the diagonal), then every X_IJ over it
            void Products(int bi)
            {
                var i0 = bi * block;
                var rows = new int[block];
                for (var r = 0; r < block; r++)
                {
                    rows[r] = i0 + r;
                }
                // t rows = 0 − X_I,[i0, j0) U_[i0, j0),J = −T_IJ
                Array.Clear(t, i0 * b, block * b);
                DenseKernels.MulSub(t, 0, b, rows, x, i0, m, j0 - i0, x, i0 * m + j0, m, b, parallel: false);
            }
            void Store(int bi)
            {
                var i0 = bi * block;
                var rows = new int[block];
                for (var r = 0; r < block; r++)
                {
                    rows[r] = i0 + r;
                    Array.Clear(x, (i0 + r) * m + j0, b);
                }
                // with t = −T_IJ: X_IJ = −T_IJ X_JJ = t X_JJ = 0 − t (−X_JJ)
                DenseKernels.MulSub(x, j0, m, rows, t, 0, b, b, negXjj, 0, b, b, parallel: false);
            }
            for (var k = 0; k < b * b; k++)
            {
                negXjj[k] = -xjj[k];
            }
            if (parallel && blocksAbove > 1)
            {
                Parallel.For(0, blocksAbove, Products);
                Parallel.For(0, blocksAbove, Store);
            }
            else
            {
                for (var bi = 0; bi < blocksAbove; bi++)
                {
                    Products(bi);
                }
                for (var bi = 0; bi < blocksAbove; bi++)
                {
                    Store(bi);
                }
            }
            for (var r = 0; r < b; r++)
            {
                Array.Copy(xjj, r * b, x, (j0 + r) * m + j0, b);
            }
        }
    }

    /// <summary>Σ x_k y_k in a fixed order (four lanes, then the lanes summed, then the tail): the same bytes every run.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var j = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            var width = Vector<double>.Count;
            for (; j <= x.Length - width; j += width)
            {
                acc += new Vector<double>(x[j..]) * new Vector<double>(y[j..]);
            }
            s = Vector.Sum(acc);
        }
        for (; j < x.Length; j++)
        {
            s += x[j] * y[j];
        }
        return s;
    }

    private static void Axpy(Span<double> dst, ReadOnlySpan<double> src, double f)
    {
        var j = 0;
        var width = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var vf = new Vector<double>(f);
            for (; j <= dst.Length - width; j += width)
            {
                (new Vector<double>(dst[j..]) + vf * new Vector<double>(src[j..])).CopyTo(dst[j..]);
            }
        }
        for (; j < dst.Length; j++)
        {
            dst[j] += f * src[j];
        }
    }

    /// <summary>row −= Σ_t w_t · panel[t][j0 .. j0 + row.Length), eight pivot rows per pass over the row.</summary>
    private static void RankUpdate(Span<double> row, ReadOnlySpan<double> w, double[] panel, int m, int j0)
    {
        var len = row.Length;
        var width = Vector<double>.Count;
        var vlen = Vector.IsHardwareAccelerated ? len - len % width : 0;
        ref var r = ref MemoryMarshal.GetReference(row);
        var t = 0;
        for (; t + 8 <= w.Length; t += 8)
        {
            var ws = w.Slice(t, 8);
            if (ws.IndexOfAnyExcept(0.0) < 0)
            {
                continue;
            }
            ref var p0 = ref panel[t * m + j0];
            ref var p1 = ref panel[(t + 1) * m + j0];
            ref var p2 = ref panel[(t + 2) * m + j0];
            ref var p3 = ref panel[(t + 3) * m + j0];
            ref var p4 = ref panel[(t + 4) * m + j0];
            ref var p5 = ref panel[(t + 5) * m + j0];
            ref var p6 = ref panel[(t + 6) * m + j0];
            ref var p7 = ref panel[(t + 7) * m + j0];
            Vector<double> v0 = new(ws[0]), v1 = new(ws[1]), v2 = new(ws[2]), v3 = new(ws[3]);
            Vector<double> v4 = new(ws[4]), v5 = new(ws[5]), v6 = new(ws[6]), v7 = new(ws[7]);
            nuint j = 0;
            for (; (int)j < vlen; j += (nuint)width)
            {
                var acc = v0 * Vector.LoadUnsafe(ref p0, j) + v1 * Vector.LoadUnsafe(ref p1, j)
                          + v2 * Vector.LoadUnsafe(ref p2, j) + v3 * Vector.LoadUnsafe(ref p3, j)
                          + v4 * Vector.LoadUnsafe(ref p4, j) + v5 * Vector.LoadUnsafe(ref p5, j)
                          + v6 * Vector.LoadUnsafe(ref p6, j) + v7 * Vector.LoadUnsafe(ref p7, j);
                (Vector.LoadUnsafe(ref r, j) - acc).StoreUnsafe(ref r, j);
            }
            for (var k = (int)j; k < len; k++)
            {
                for (var u = 0; u < 8; u++)
                {
                    row[k] -= ws[u] * panel[(t + u) * m + j0 + k];
                }
            }
        }
        for (; t < w.Length; t++)
        {
            if (w[t] != 0)
            {
                Axpy(row, panel.AsSpan(t * m + j0, len), -w[t]);
            }
        }
    }

    /// <summary>Tarjan's strongly connected components, iterative; components come out sinks first (reverse topological order).</summary>
    private static List<int[]> StronglyConnected(int n, int[] rowStart, int[] to)
    {
        var index = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        Array.Fill(index, -1);
        var stack = new Stack<int>();
        var call = new Stack<(int Node, int Edge)>();
        var result = new List<int[]>();
        var next = 0;
        for (var root = 0; root < n; root++)
        {
            if (index[root] >= 0)
            {
                continue;
            }
            call.Push((root, rowStart[root]));
            index[root] = low[root] = next++;
            stack.Push(root);
            onStack[root] = true;
            while (call.Count > 0)
            {
                var (node, edge) = call.Pop();
                if (edge < rowStart[node + 1])
                {
                    call.Push((node, edge + 1));
                    var w = to[edge];
                    if (index[w] < 0)
                    {
                        index[w] = low[w] = next++;
                        stack.Push(w);
                        onStack[w] = true;
                        call.Push((w, rowStart[w]));
                    }
                    else if (onStack[w])
                    {
                        low[node] = Math.Min(low[node], index[w]);
                    }
                    continue;
                }
                if (low[node] == index[node])
                {
                    var comp = new List<int>();
                    int w;
                    do
                    {
                        w = stack.Pop();
                        onStack[w] = false;
                        comp.Add(w);
                    }
                    while (w != node);
                    result.Add([.. comp]);
                }
                if (call.Count > 0)
                {
                    var parent = call.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }
            }
        }
        return result;
    }
}
