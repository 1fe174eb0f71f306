using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TouchpointTracker.Attribution;

/// <summary>
/// Dense matrix products for the Markov solve, on row-major <c>double[]</c> storage.
/// <para>
/// <see cref="MulSub"/> is a blocked product in the usual GEMM shape: the left operand is packed in slivers of
/// <see cref="Mr"/> rows, the right one in slivers of <see cref="Nr"/> columns per column tile of <see cref="Nc"/>
/// columns (a tile of the right operand stays in L2 while every sliver of rows passes), and a register-blocked kernel keeps
/// a 6 × 8 block of the result in twelve 256-bit registers while it runs down the shared dimension with fused
/// multiply-adds. Column tiles run in parallel; every element of the result is still computed by one kernel call in the
/// same order whatever the number of threads, so the output is the same to the bit run to run.
/// </para>
/// </summary>
internal static class DenseKernels
{
    internal const int Mr = 6;
    internal const int Nr = 8;
    internal const int Nc = 256;
    internal const int Kc = 256;

    /// <summary>Whether <see cref="MulSub"/> runs here (AVX2 with FMA).</summary>
    internal static bool IsSupported => Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>
    /// For every row index i in <paramref name="rows"/>: C[i, 0..n) −= Σ_t A[i, t] · B[t, 0..n), t &lt; k, the sum taken
    /// in increasing t with one rounding per fused multiply-add. Row i of C starts at <c>cOff + i·ldc</c>, row i of A at
    /// <c>aOff + i·lda</c>, row t of B at <c>bOff + t·ldb</c>. C must not overlap A or B.
    /// </summary>
    internal static void MulSub(
        double[] c, int cOff, int ldc, ReadOnlySpan<int> rows,
        double[] a, int aOff, int lda, int k,
        double[] b, int bOff, int ldb, int n, bool parallel)
    {
        // a long shared dimension in slices of Kc (the slivers of a slice stay in L1/L2); C carries the running sum from
        // one slice to the next exactly, so the result is the very one of a single pass
        for (var kc = 0; kc < k; kc += Kc)
        {
            MulSubSlice(c, cOff, ldc, rows, a, aOff + kc, lda, Math.Min(Kc, k - kc), b, bOff + kc * ldb, ldb, n, parallel);
        }
    }

    private static void MulSubSlice(
        double[] c, int cOff, int ldc, ReadOnlySpan<int> rows,
        double[] a, int aOff, int lda, int k,
        double[] b, int bOff, int ldb, int n, bool parallel)
    {
        if (rows.Length == 0 || n == 0 || k == 0)
        {
            return;
        }
        var groups = (rows.Length + Mr - 1) / Mr;
        var packedA = ArrayPool<double>.Shared.Rent(groups * Mr * k);
        var rowOffsets = new int[groups * Mr];
        Array.Fill(rowOffsets, -1);
        for (var g = 0; g < groups; g++)
        {
            var dst = packedA.AsSpan(g * Mr * k, Mr * k);
            for (var r = 0; r < Mr; r++)
            {
                var idx = g * Mr + r;
                if (idx < rows.Length)
                {
                    var i = rows[idx];
                    rowOffsets[idx] = cOff + i * ldc;
                    var src = a.AsSpan(aOff + i * lda, k);
                    for (var t = 0; t < k; t++)
                    {
                        dst[t * Mr + r] = src[t];
                    }
                }
                else
                {
                    for (var t = 0; t < k; t++)
                    {
                        dst[t * Mr + r] = 0;
                    }
                }
            }
        }
        var tiles = (n + Nc - 1) / Nc;
        var rowCount = rows.Length;
        void Tile(int ti)
        {
            var j0 = ti * Nc;
            var width = Math.Min(Nc, n - j0);
            var panels = (width + Nr - 1) / Nr;
            var packedB = ArrayPool<double>.Shared.Rent(panels * Nr * k);
            for (var p = 0; p < panels; p++)
            {
                var jp = j0 + p * Nr;
                var cols = Math.Min(Nr, n - jp);
                var dst = packedB.AsSpan(p * Nr * k, Nr * k);
                for (var t = 0; t < k; t++)
                {
                    var src = b.AsSpan(bOff + t * ldb + jp, cols);
                    var d = dst.Slice(t * Nr, Nr);
                    src.CopyTo(d);
                    d[cols..].Clear();
                }
            }
            Span<double> scratch = stackalloc double[Mr * Nr];
            for (var g = 0; g < groups; g++)
            {
                var fullRows = g * Mr + Mr <= rowCount;
                ref var ap = ref packedA[g * Mr * k];
                for (var p = 0; p < panels; p++)
                {
                    var jp = j0 + p * Nr;
                    var cols = Math.Min(Nr, n - jp);
                    ref var bp = ref packedB[p * Nr * k];
                    if (fullRows && cols == Nr)
                    {
                        Kernel(ref ap, ref bp, k,
                            ref c[rowOffsets[g * Mr] + jp], ref c[rowOffsets[g * Mr + 1] + jp], ref c[rowOffsets[g * Mr + 2] + jp],
                            ref c[rowOffsets[g * Mr + 3] + jp], ref c[rowOffsets[g * Mr + 4] + jp], ref c[rowOffsets[g * Mr + 5] + jp]);
                        continue;
                    }
                    // an edge block: through a 6 × 8 scratch block, missing rows and columns left at zero
                    scratch.Clear();
                    for (var r = 0; r < Mr; r++)
                    {
                        var off = rowOffsets[g * Mr + r];
                        if (off >= 0)
                        {
                            c.AsSpan(off + jp, cols).CopyTo(scratch.Slice(r * Nr, cols));
                        }
                    }
                    ref var s = ref scratch[0];
                    Kernel(ref ap, ref bp, k, ref s, ref Unsafe.Add(ref s, Nr), ref Unsafe.Add(ref s, 2 * Nr),
                        ref Unsafe.Add(ref s, 3 * Nr), ref Unsafe.Add(ref s, 4 * Nr), ref Unsafe.Add(ref s, 5 * Nr));
                    for (var r = 0; r < Mr; r++)
                    {
                        var off = rowOffsets[g * Mr + r];
                        if (off >= 0)
                        {
                            scratch.Slice(r * Nr, cols).CopyTo(c.AsSpan(off + jp, cols));
                        }
                    }
                }
            }
            ArrayPool<double>.Shared.Return(packedB);
        }
        // Parallel only when each tile carries enough work to pay for the hand-off.
        if (parallel && tiles > 1 && (long)rowCount * k * n >= 1L << 20)
        {
            Parallel.For(0, tiles, Tile);
        }
        else
        {
            for (var ti = 0; ti < tiles; ti++)
            {
                Tile(ti);
            }
        }
        ArrayPool<double>.Shared.Return(packedA);
    }

    /// <summary>c_r[0..8) −= Σ_t ap[t·6 + r] · bp[t·8 .. t·8 + 8) for the six rows r, in increasing t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(ref double ap, ref double bp, int k,
        ref double c0, ref double c1, ref double c2, ref double c3, ref double c4, ref double c5)
    {
        var c00 = Vector256.LoadUnsafe(ref c0);
        var c01 = Vector256.LoadUnsafe(ref c0, 4);
        var c10 = Vector256.LoadUnsafe(ref c1);
        var c11 = Vector256.LoadUnsafe(ref c1, 4);
        var c20 = Vector256.LoadUnsafe(ref c2);
        var c21 = Vector256.LoadUnsafe(ref c2, 4);
        var c30 = Vector256.LoadUnsafe(ref c3);
        var c31 = Vector256.LoadUnsafe(ref c3, 4);
        var c40 = Vector256.LoadUnsafe(ref c4);
        var c41 = Vector256.LoadUnsafe(ref c4, 4);
        var c50 = Vector256.LoadUnsafe(ref c5);
        var c51 = Vector256.LoadUnsafe(ref c5, 4);
        nuint ai = 0, bi = 0;
        for (var t = 0; t < k; t++, ai += Mr, bi += Nr)
        {
            var b0 = Vector256.LoadUnsafe(ref bp, bi);
            var b1 = Vector256.LoadUnsafe(ref bp, bi + 4);
            var a = Vector256.Create(Unsafe.Add(ref ap, ai));
            c00 = Fma.MultiplyAddNegated(a, b0, c00);
            c01 = Fma.MultiplyAddNegated(a, b1, c01);
            a = Vector256.Create(Unsafe.Add(ref ap, ai + 1));
            c10 = Fma.MultiplyAddNegated(a, b0, c10);
            c11 = Fma.MultiplyAddNegated(a, b1, c11);
            a = Vector256.Create(Unsafe.Add(ref ap, ai + 2));
            c20 = Fma.MultiplyAddNegated(a, b0, c20);
            c21 = Fma.MultiplyAddNegated(a, b1, c21);
            a = Vector256.Create(Unsafe.Add(ref ap, ai + 3));
            c30 = Fma.MultiplyAddNegated(a, b0, c30);
            c31 = Fma.MultiplyAddNegated(a, b1, c31);
            a = Vector256.Create(Unsafe.Add(ref ap, ai + 4));
            c40 = Fma.MultiplyAddNegated(a, b0, c40);
            c41 = Fma.MultiplyAddNegated(a, b1, c41);
            a = Vector256.Create(Unsafe.Add(ref ap, ai + 5));
            c50 = Fma.MultiplyAddNegated(a, b0, c50);
            c51 = Fma.MultiplyAddNegated(a, b1, c51);
        }
        c00.StoreUnsafe(ref c0);
        c01.StoreUnsafe(ref c0, 4);
        c10.StoreUnsafe(ref c1);
        c11.StoreUnsafe(ref c1, 4);
        c20.StoreUnsafe(ref c2);
        c21.StoreUnsafe(ref c2, 4);
        c30.StoreUnsafe(ref c3);
        c31.StoreUnsafe(ref c3, 4);
        c40.StoreUnsafe(ref c4);
        c41.StoreUnsafe(ref c4, 4);
        c50.StoreUnsafe(ref c5);
        c51.StoreUnsafe(ref c5, 4);
    }
}
