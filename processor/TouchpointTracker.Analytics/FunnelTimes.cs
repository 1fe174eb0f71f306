namespace TouchpointTracker.Analytics;

/// <summary>
/// Times between stages, from the stage transitions of a cohort's journeys (pure logic; the caller reads the rows).
/// For each journey and stage rank, the first entry (the earliest transition to it, so a corrected transition moves it
/// back); an entry later than a higher stage's first entry is superseded (the journey was already further) and left
/// out; the time of a stage is from the journey's previous kept stage. Per rank: how many journeys, and the median and
/// 75th percentile in seconds (linear interpolation between the two nearest values, as DuckDB's quantile_cont).
/// A journey can carry its visitor's number, so the journeys of a site are folded while the cohort is still being read and
/// <see cref="Compute"/> keeps the cohort's.
/// </summary>
internal sealed class FunnelTimes
{
    private const int Ranks = 5;
    private readonly KeyIndex _journeys = new();
    private long[] _first = new long[Ranks * 1024];
    private uint[] _visitors = new uint[1024];

    /// <summary>One transition of a cohort's journey: its journey key, the rank it entered and its time (microseconds).</summary>
    public void Add(ulong jkey, int toRank, long tsMicros) => Add(jkey, 0, toRank, tsMicros);

    /// <summary>
    /// One entry of a journey of visitor number <paramref name="visitor"/> (a journey belongs to one visitor: the number of
    /// its first entry is kept).
    /// </summary>
    public void Add(ulong jkey, uint visitor, int toRank, long tsMicros)
    {
        if (toRank < 1 || toRank > Ranks)
        {
            return;
        }
        var j = Journey(jkey, visitor);
        ref var slot = ref _first[j * Ranks + toRank - 1];
        slot = Math.Min(slot, tsMicros);
    }

    /// <summary>Room for <paramref name="journeys"/> journeys (more can still be added).</summary>
    public void Reserve(long journeys)
    {
        if (journeys * Ranks <= _first.Length || journeys > Array.MaxLength / Ranks)
        {
            return;
        }
        _journeys.Reserve((int)journeys);
        Array.Resize(ref _first, (int)journeys * Ranks);
        Array.Resize(ref _visitors, (int)journeys);
    }

    /// <summary>
    /// One row of a journey of visitor number <paramref name="visitor"/>: its entry time per rank 1..5
    /// (<paramref name="entries"/>[r - 1], <paramref name="none"/> for a rank not entered). The same as an
    /// <see cref="Add(ulong, uint, int, long)"/> per entry, with one look-up of the journey.
    /// </summary>
    public void AddJourney(ulong jkey, uint visitor, ReadOnlySpan<long> entries, long none)
    {
        var j = -1;
        for (var r = 0; r < Ranks; r++)
        {
            var ts = entries[r];
            if (ts == none)
            {
                continue;
            }
            if (j < 0)
            {
                j = Journey(jkey, visitor);
            }
            ref var slot = ref _first[j * Ranks + r];
            slot = Math.Min(slot, ts);
        }
    }

    private int Journey(ulong jkey, uint visitor)
    {
        var j = _journeys.GetOrAdd(jkey, out var added);
        if (added)
        {
            if ((j + 1) * Ranks > _first.Length)
            {
                Array.Resize(ref _first, _first.Length * 2);
                Array.Resize(ref _visitors, _first.Length / Ranks);
            }
            _first.AsSpan(j * Ranks, Ranks).Fill(long.MaxValue);
            _visitors[j] = visitor;
        }
        return j;
    }

    /// <summary>
    /// Per rank entered (2..5): journeys timed, median and p75 seconds from the previous stage; only the journeys whose visitor
    /// <paramref name="includeVisitor"/> accepts, when given.
    /// </summary>
    public Dictionary<int, (long N, double? Median, double? P75)> Compute(Func<uint, bool>? includeVisitor = null)
    {
        var secs = new List<double>[Ranks + 1];
        for (var r = 0; r <= Ranks; r++)
        {
            secs[r] = [];
        }
        Span<long> kept = stackalloc long[Ranks];
        for (var j = 0; j < _journeys.Count; j++)
        {
            if (includeVisitor is not null && !includeVisitor(_visitors[j]))
            {
                continue;
            }
            var first = _first.AsSpan(j * Ranks, Ranks);
            // keep rank r when no higher rank was entered before it
            var minAbove = long.MaxValue;
            for (var r = Ranks - 1; r >= 0; r--)
            {
                minAbove = Math.Min(minAbove, first[r]);
                kept[r] = first[r] != long.MaxValue && first[r] <= minAbove ? first[r] : long.MaxValue;
            }
            var previous = long.MaxValue;
            for (var r = 0; r < Ranks; r++)
            {
                if (kept[r] == long.MaxValue)
                {
                    continue;
                }
                if (previous != long.MaxValue)
                {
                    secs[r + 1].Add((kept[r] - previous) / 1e6);
                }
                previous = kept[r];
            }
        }
        var result = new Dictionary<int, (long, double?, double?)>();
        for (var r = 1; r <= Ranks; r++)
        {
            var list = secs[r];
            if (list.Count == 0)
            {
                continue;
            }
            list.Sort();
            result[r] = (list.Count, Quantile(list, 0.5), Quantile(list, 0.75));
        }
        return result;
    }

    private static double Quantile(List<double> sorted, double q)
    {
        var pos = (sorted.Count - 1) * q;
        var lo = (int)Math.Floor(pos);
        var hi = (int)Math.Ceiling(pos);
        return lo == hi ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
