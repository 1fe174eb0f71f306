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
/// x and v follow by block back- and forward-substitution in topological order, and N_cc only needs the inverse of the
/// component's own block (I − Q_SS), inverted densely by Gauss–Jordan (an M-matrix, so no pivoting is needed). A
/// key on no cycle is a component of one with N_cc = 1. Cost: the sum of the cubes of the component sizes, plus
/// linear in the transitions. Self-transitions (a key followed by itself) are dropped before normalising: they change
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

    public Solution Solve() => Solve(InvertFast);

    /// <summary>The solve with a given dense inverse (in place, row-major m×m) for the components: tests compare the ways.</summary>
    internal Solution Solve(Action<double[], int> invert)
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
            if (m > 1)
            {
                invert(inv, m);
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
            for (var a = 0; a < m; a++)
            {
                double s = 0;
                for (var k = 0; k < m; k++)
                {
                    s += inflow[comp[k]] * inv[k * m + a];
                }
                v[comp[a]] = s;
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

    /// <summary>Inverts the m×m M-matrix in place the fastest exact way this machine offers (see <see cref="InvertGemm"/>).</summary>
    internal static void InvertFast(double[] a, int m)
    {
        if (m <= GemmBlock || !DenseKernels.IsSupported)
        {
            if (m <= GemmBlock)
            {
                Invert(a, m);
            }
            else
            {
                InvertBlocked(a, m);
            }
            return;
        }
        InvertGemm(a, m);
    }

    internal const int GemmBlock = 128;

    /// <summary>
    /// The blocked Gauss–Jordan sweep of <see cref="InvertBlocked"/> with its three products done by
    /// <see cref="DenseKernels.MulSub"/>: per pivot block P of b rows, the panel P⁻¹A_P·, the rank-b update
    /// A_ij −= A_iP (P⁻¹A_Pj) of every row with a nonzero in the pivot columns, and the new pivot columns −A_iP P⁻¹.
    /// Rows whose pivot columns are all zero are left out of the products (they would not change), which keeps sparse
    /// chains cheap. No pivoting: every principal block met along the way is a nonsingular M-matrix.
    /// </summary>
    internal static void InvertGemm(double[] a, int m, int block = GemmBlock, bool parallel = true)
    {
        var pinv = new double[block * block];
        var negPinv = new double[block * block];
        var panel = new double[block * m];
        var w = new double[m * block];
        var active = new int[m];
        var pivotRows = new int[block];
        for (var k0 = 0; k0 < m; k0 += block)
        {
            var b = Math.Min(block, m - k0);
            for (var r = 0; r < b; r++)
            {
                Array.Copy(a, (k0 + r) * m + k0, pinv, r * b, b);
                pivotRows[r] = r;
            }
            Invert(pinv, b);
            for (var i = 0; i < b * b; i++)
            {
                negPinv[i] = -pinv[i];
            }
            var count = 0;
            for (var i = 0; i < m; i++)
            {
                if (i >= k0 && i < k0 + b)
                {
                    continue;
                }
                var row = a.AsSpan(i * m + k0, b);
                if (row.IndexOfAnyExcept(0.0) >= 0)
                {
                    row.CopyTo(w.AsSpan(i * block, b));
                    active[count++] = i;
                }
            }
            // panel = P⁻¹ A_P· (0 − (−P⁻¹) A_P·), its pivot columns then cleared
            Array.Clear(panel, 0, b * m);
            DenseKernels.MulSub(panel, 0, m, pivotRows.AsSpan(0, b), negPinv, 0, b, b, a, k0 * m, m, m, parallel);
            for (var r = 0; r < b; r++)
            {
                Array.Clear(panel, r * m + k0, b);
            }
            var rows = active.AsSpan(0, count);
            DenseKernels.MulSub(a, 0, m, rows, w, 0, block, b, panel, 0, m, m, parallel);
            foreach (var i in rows)
            {
                Array.Clear(a, i * m + k0, b);
            }
            DenseKernels.MulSub(a, k0, m, rows, w, 0, block, b, pinv, 0, b, b, parallel);
            for (var r = 0; r < b; r++)
            {
                Array.Copy(panel, r * m, a, (k0 + r) * m, m);
                Array.Copy(pinv, r * b, a, (k0 + r) * m + k0, b);
            }
        }
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
