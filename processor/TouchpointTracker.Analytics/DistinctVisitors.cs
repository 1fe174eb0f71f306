namespace TouchpointTracker.Analytics;

/// <summary>Exact visitor counts of one group: visitors, and how many of them reached / entered each stage rank 1..5.</summary>
internal sealed class VisitorTally
{
    public long Visitors;
    public long Sessions;
    public long Touches;
    /// <summary>[r - 1]: visitors whose highest rank over their rows of the group is at least r.</summary>
    public readonly long[] Reached = new long[5];
    /// <summary>[r - 1]: visitors one of whose rows of the group entered rank r.</summary>
    public readonly long[] Entered = new long[5];
}

/// <summary>
/// Exact distinct-visitor counting over <c>visitor_days</c> rows, done here rather than by a hash aggregate in DuckDB:
/// visitor numbers are dense (1..n per site), so the rows are put in visitor order by a radix sort and each visitor's
/// rows are then folded per group with a stamp array, with no hash table at all. On the 10-million-touchpoint benchmark
/// this is several times cheaper than DuckDB's GROUP BY (group, vid) over the same rows (millions of distinct pairs).
/// Pure logic apart from <see cref="Rows.Read"/>, which copies a result's columns.
/// <para>
/// A row is kept as two numbers: <c>(group &lt;&lt; 40) | (vid &lt;&lt; 8) | (max_rank &lt;&lt; 5) | (entered &gt;&gt; 1)</c>
/// (<see cref="Pack"/>) and <c>(sessions &lt;&lt; 32) | touches</c>; groups are below 2^24, visitor numbers below 2^32.
/// DuckDB hands the plain columns (<see cref="ColumnsSql"/>) and the numbers are packed as the chunks are copied: packing
/// them in SQL cost DuckDB more (a dozen vector operations per row) than the copy loop costs here.
/// </para>
/// </summary>
internal static class DistinctVisitors
{
    /// <summary>Groups are below this.</summary>
    internal const uint MaxGroups = 1 << 24;

    /// <summary>
    /// The SQL select list <see cref="Rows.Read"/> reads: the group column when there is one (a DATE, or a UINTEGER id),
    /// then the visitor number, highest rank and stages entered, and with sums the sessions and touches of the row.
    /// </summary>
    internal static string ColumnsSql(string? group, bool withSums) =>
        (group is null ? "" : group + ", ") + "vid, max_rank, entered" + (withSums ? ", sessions, touches" : "");

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static ulong Pack(uint group, uint vid, int maxRank, int entered) =>
        ((ulong)group << 40) | ((ulong)vid << 8) | ((ulong)(maxRank & 7) << 5) | ((ulong)(entered >> 1) & 31);

    /// <summary>
    /// Rows packed as the class summary says. The arrays are rented (<see cref="ScratchArrays{T}"/>): dispose the rows after
    /// counting.
    /// </summary>
    internal sealed class Rows(bool withSums = true) : IDisposable
    {
        public ulong[] Keys = [];
        public ulong[]? Sums;
        public int Count;
        /// <summary>The largest visitor number and group among the rows.</summary>
        public uint MaxVid, MaxGroup;

        private void Reserve(long total)
        {
            if (total <= Keys.Length)
            {
                return;
            }
            if (total > Array.MaxLength)
            {
                throw new InvalidOperationException($"{total:N0} visitor rows are more than one array holds.");
            }
            var length = (int)Math.Max(total, Math.Min(Array.MaxLength, Keys.Length * 2L));
            Keys = Grow(Keys, length);
            if (withSums)
            {
                Sums = Grow(Sums ?? [], length);
            }
        }

        private ulong[] Grow(ulong[] old, int length)
        {
            var a = ScratchArrays<ulong>.Rent(length);
            old.AsSpan(0, Count).CopyTo(a);
            ScratchArrays<ulong>.Return(old);
            return a;
        }

        public void Add(ulong key, ulong sums)
        {
            Reserve(Count + 1L);
            Keys[Count] = key;
            if (Sums is not null)
            {
                Sums[Count] = sums;
            }
            MaxVid = Math.Max(MaxVid, (uint)(key >> 8));
            MaxGroup = Math.Max(MaxGroup, (uint)(key >> 40));
            Count++;
        }

        /// <summary>
        /// Appends every row of <paramref name="result"/>, whose columns are <see cref="ColumnsSql"/>'s. The group is 0 without
        /// a group column; from a DATE column, its day number minus <paramref name="firstDay"/> (days since 1970-01-01); from
        /// a UINTEGER column, its value, with <paramref name="foldedToZero"/> (when given) counted as 0.
        /// </summary>
        public void Read(NativeResult result, bool grouped, int firstDay = 0, uint? foldedToZero = null)
        {
            var first = grouped ? 1 : 0;
            if (result.ColumnCount != first + (withSums ? 5 : 3))
            {
                throw new InvalidOperationException($"A visitor row has {first + (withSums ? 5 : 3)} columns, not {result.ColumnCount}.");
            }
            var byDay = grouped && result.ColumnType(0) == DuckDB.NET.Native.DuckDBType.Date;
            var fold = foldedToZero ?? 0;
            Reserve(Count + result.RowCount);
            uint maxVid = MaxVid, maxGroup = MaxGroup;
            while (result.NextChunk())
            {
                var size = result.ChunkSize;
                Reserve(Count + (long)size);
                var vids = result.NonNullValues<uint>(first);
                var ranks = result.NonNullValues<byte>(first + 1);
                var entered = result.NonNullValues<byte>(first + 2);
                var keys = Keys.AsSpan(Count, size);
                // the group first (0, a day or an id), then the rest of the key
                if (!grouped)
                {
                    keys.Clear();
                }
                else if (byDay)
                {
                    var days = result.NonNullValues<int>(0);
                    for (var i = 0; i < keys.Length; i++)
                    {
                        var g = (uint)(days[i] - firstDay);
                        maxGroup = Math.Max(maxGroup, g);
                        keys[i] = (ulong)g << 40;
                    }
                }
                else
                {
                    var ids = result.NonNullValues<uint>(0);
                    for (var i = 0; i < keys.Length; i++)
                    {
                        var g = ids[i] == fold ? 0 : ids[i];
                        maxGroup = Math.Max(maxGroup, g);
                        keys[i] = (ulong)g << 40;
                    }
                }
                for (var i = 0; i < keys.Length; i++)
                {
                    maxVid = Math.Max(maxVid, vids[i]);
                    keys[i] |= Pack(0, vids[i], ranks[i], entered[i]);
                }
                if (Sums is not null)
                {
                    var sessions = result.NonNullValues<int>(first + 3);
                    var touches = result.NonNullValues<int>(first + 4);
                    var sums = Sums.AsSpan(Count, size);
                    for (var i = 0; i < sums.Length; i++)
                    {
                        sums[i] = ((ulong)(uint)sessions[i] << 32) | (uint)touches[i];
                    }
                }
                Count += size;
            }
            if (maxGroup >= MaxGroups)
            {
                throw new InvalidOperationException($"Group {maxGroup} is beyond the {MaxGroups:N0} a visitor row holds.");
            }
            MaxVid = maxVid;
            MaxGroup = maxGroup;
        }

        public void Dispose()
        {
            ScratchArrays<ulong>.Return(Keys);
            ScratchArrays<ulong>.Return(Sums);
            Keys = [];
            Sums = null;
            Count = 0;
        }
    }

    /// <summary>Rows below this are counted on one thread.</summary>
    private const int ParallelThreshold = 1 << 16;

    /// <summary>
    /// Counts per group, and over all groups (<paramref name="total"/>: each visitor once, its rows of every group together).
    /// <para>
    /// A two-pass radix sort by visitor number, on as many threads as cores (at most 4) unless <paramref name="threads"/>
    /// says otherwise. First the rows go to buckets of consecutive visitor numbers (at most 4,096 visitors each; each
    /// thread moves its share of the rows, so the writes stream into a few hundred places instead of one random place per
    /// row); then each bucket, small enough for the processor's cache, is put in visitor order by a counting sort and each
    /// visitor's rows folded per group. Each thread folds whole buckets into its own tallies, added up at the end.
    /// </para>
    /// </summary>
    internal static Dictionary<uint, VisitorTally> Count(Rows rows, out VisitorTally total, int? threads = null)
    {
        var n = rows.Count;
        total = new VisitorTally();
        var result = new Dictionary<uint, VisitorTally>();
        if (n == 0)
        {
            return result;
        }
        var keys = rows.Keys;
        var sums = rows.Sums;
        var groups = (int)rows.MaxGroup + 1;
        // buckets of 2^shift visitor numbers: at most 4,096 visitors each, at most 16,384 buckets
        var shift = 12;
        while (((long)rows.MaxVid >> shift) >= 16384)
        {
            shift++;
        }
        var buckets = (int)(rows.MaxVid >> shift) + 1;
        var parts = Math.Max(1, threads ?? (n < ParallelThreshold ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 4)));
        var bounds = new int[parts + 1];
        for (var p = 0; p <= parts; p++)
        {
            bounds[p] = (int)((long)n * p / parts);
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = parts };
        var next = new int[parts][];
        var sessions = new long[parts][];
        var touches = new long[parts][];
        var start = new int[buckets + 1];
        var bucketed = ScratchArrays<ulong>.Rent(n);
        var folds = new List<Fold>();
        try
        {
            // 1. per thread: rows per bucket, and the sums per group (they need no distinct counting)
            Parallel.For(0, parts, options, p =>
            {
                var c = next[p] = new int[buckets];
                var s = sessions[p] = new long[groups];
                var t = touches[p] = new long[groups];
                if (sums is null)
                {
                    for (var i = bounds[p]; i < bounds[p + 1]; i++)
                    {
                        c[(int)((uint)(keys[i] >> 8) >> shift)]++;
                    }
                    return;
                }
                for (var i = bounds[p]; i < bounds[p + 1]; i++)
                {
                    var k = keys[i];
                    c[(int)((uint)(k >> 8) >> shift)]++;
                    var g = (int)(k >> 40);
                    s[g] += (long)(sums[i] >> 32);
                    t[g] += (long)(sums[i] & 0xFFFF_FFFF);
                }
            });
            // 2. where each bucket begins, and where each thread's rows of it go
            var at = 0;
            for (var b = 0; b < buckets; b++)
            {
                start[b] = at;
                for (var p = 0; p < parts; p++)
                {
                    var c = next[p][b];
                    next[p][b] = at;
                    at += c;
                }
            }
            start[buckets] = at;
            // 3. per thread: its rows to their buckets
            Parallel.For(0, parts, options, p =>
            {
                var to = next[p];
                for (var i = bounds[p]; i < bounds[p + 1]; i++)
                {
                    var k = keys[i];
                    bucketed[to[(int)((uint)(k >> 8) >> shift)]++] = k;
                }
            });
            // 4. per thread, bucket after bucket: visitor order within the bucket, then the fold
            Parallel.For(0, buckets, options, () => new Fold(groups, 1 << shift), (b, _, fold) =>
            {
                fold.Bucket(bucketed, start[b], start[b + 1], (uint)b << shift);
                return fold;
            }, fold =>
            {
                lock (folds)
                {
                    folds.Add(fold);
                }
            });
        }
        finally
        {
            ScratchArrays<ulong>.Return(bucketed);
        }
        // 5. the threads' tallies added up
        var all = folds[0];
        for (var p = 1; p < folds.Count; p++)
        {
            all.Add(folds[p]);
        }
        for (var g = 0; g < groups; g++)
        {
            long visitors = 0;
            for (var b = 0; b < 8; b++)
            {
                visitors += all.Rank[g * 8 + b];
            }
            if (visitors == 0)
            {
                continue;
            }
            var t = new VisitorTally { Visitors = visitors };
            for (var p = 0; p < parts; p++)
            {
                t.Sessions += sessions[p][g];
                t.Touches += touches[p][g];
            }
            Fill(t, all.Rank.AsSpan(g * 8, 8), all.Entered.AsSpan(g * 32, 32));
            result[(uint)g] = t;
        }
        for (var b = 0; b < 8; b++)
        {
            total.Visitors += all.TotalRank[b];
        }
        for (var p = 0; p < parts; p++)
        {
            total.Sessions += sessions[p].Sum();
            total.Touches += touches[p].Sum();
        }
        Fill(total, all.TotalRank, all.TotalEntered);
        return result;
    }

    /// <summary>One thread's tallies: per group, visitors by highest rank (8 per group) and by the set of stages entered (32 per group).</summary>
    private sealed class Fold(int groups, int bucketVisitors)
    {
        public readonly long[] Rank = new long[groups * 8];
        public readonly long[] Entered = new long[groups * 32];
        public readonly long[] TotalRank = new long[8];
        public readonly long[] TotalEntered = new long[32];
        // state[g]: the current visitor's folded (rank << 5) | entered in group g, valid when stamp[g] is the visitor's number + 1
        private readonly long[] _stamp = new long[groups];
        private readonly byte[] _state = new byte[groups];
        private int[] _touched = new int[16];
        private readonly int[] _start = new int[bucketVisitors + 1];
        private uint[] _sorted = new uint[1024];

        /// <summary>
        /// The rows <paramref name="from"/> to <paramref name="to"/> (exclusive) of <paramref name="keys"/>: one bucket, whose
        /// visitor numbers are <paramref name="firstVid"/> and the next ones.
        /// </summary>
        public void Bucket(ulong[] keys, int from, int to, uint firstVid)
        {
            if (from == to)
            {
                return;
            }
            var start = _start;
            var mask = (uint)(start.Length - 2);
            Array.Clear(start);
            for (var i = from; i < to; i++)
            {
                start[(int)(((uint)(keys[i] >> 8) & mask) + 1)]++;
            }
            for (var v = 1; v < start.Length; v++)
            {
                start[v] += start[v - 1];
            }
            if (_sorted.Length < to - from)
            {
                _sorted = new uint[Math.Max(to - from, _sorted.Length * 2)];
            }
            var sorted = _sorted;
            for (var i = from; i < to; i++)
            {
                // the fold needs the group, the rank and the stages entered: (group << 8) | (rank << 5) | entered
                var k = keys[i];
                sorted[start[(int)((uint)(k >> 8) & mask)]++] = (uint)((k >> 32) & 0xFFFF_FF00) | (uint)(k & 0xFF);
            }
            // start[v] is now where visitor v + 1's rows begin: shift back by one
            for (var v = start.Length - 1; v > 0; v--)
            {
                start[v] = start[v - 1];
            }
            start[0] = 0;
            Run(sorted, start, 0, start.Length - 1, firstVid);
        }

        /// <summary>Visitors <paramref name="from"/> to <paramref name="to"/> (exclusive, numbered from <paramref name="firstVid"/>) of the sorted rows.</summary>
        private void Run(uint[] sorted, int[] start, int from, int to, uint firstVid)
        {
            var stamp = _stamp;
            var state = _state;
            var touched = _touched;
            for (var v = from; v < to; v++)
            {
                int lo = start[v], hi = start[v + 1];
                if (lo == hi)
                {
                    continue;
                }
                if (hi - lo == 1)
                {
                    var row = sorted[lo];
                    var g = (int)(row >> 8);
                    var c = (int)(row & 0xFF);
                    Rank[g * 8 + (c >> 5)]++;
                    Entered[g * 32 + (c & 31)]++;
                    TotalRank[c >> 5]++;
                    TotalEntered[c & 31]++;
                    continue;
                }
                if (touched.Length < hi - lo)
                {
                    touched = _touched = new int[Math.Max(hi - lo, touched.Length * 2)];
                }
                var mark = (long)firstVid + v + 1;
                var m = 0;
                int best = 0, entered = 0;
                for (var i = lo; i < hi; i++)
                {
                    var row = sorted[i];
                    var g = (int)(row >> 8);
                    var c = (int)(row & 0xFF);
                    if (stamp[g] != mark)
                    {
                        stamp[g] = mark;
                        state[g] = (byte)c;
                        touched[m++] = g;
                    }
                    else
                    {
                        var s = state[g];
                        state[g] = (byte)(Math.Max(s & 0xE0, c & 0xE0) | ((s | c) & 31));
                    }
                    best = Math.Max(best, c >> 5);
                    entered |= c & 31;
                }
                for (var j = 0; j < m; j++)
                {
                    var g = touched[j];
                    var s = state[g];
                    Rank[g * 8 + (s >> 5)]++;
                    Entered[g * 32 + (s & 31)]++;
                }
                TotalRank[best]++;
                TotalEntered[entered]++;
            }
        }

        public void Add(Fold other)
        {
            Add(Rank, other.Rank);
            Add(Entered, other.Entered);
            Add(TotalRank, other.TotalRank);
            Add(TotalEntered, other.TotalEntered);
        }

        private static void Add(long[] to, long[] from)
        {
            for (var i = 0; i < to.Length; i++)
            {
                to[i] += from[i];
            }
        }
    }

    /// <summary>Reached from visitors by highest rank (ranks above 5 count as 5), Entered from visitors by set of stages entered.</summary>
    private static void Fill(VisitorTally t, ReadOnlySpan<long> byRank, ReadOnlySpan<long> bySet)
    {
        long atLeast = byRank[5] + byRank[6] + byRank[7];
        for (var r = 5; r >= 1; r--)
        {
            if (r < 5)
            {
                atLeast += byRank[r];
            }
            t.Reached[r - 1] = atLeast;
        }
        for (var set = 1; set < 32; set++)
        {
            if (bySet[set] == 0)
            {
                continue;
            }
            for (var b = 0; b < 5; b++)
            {
                if ((set & (1 << b)) != 0)
                {
                    t.Entered[b] += bySet[set];
                }
            }
        }
    }
}
