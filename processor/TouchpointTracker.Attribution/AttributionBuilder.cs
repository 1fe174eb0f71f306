using System.Runtime.InteropServices;

namespace TouchpointTracker.Attribution;

/// <summary>A converting path (consecutive repeats of a key merged) and what it brought.</summary>
public sealed record TopPath(IReadOnlyList<string> Keys, double Conversions, double Revenue);

/// <summary>Credits per model per key, for conversions and for revenue, with path statistics.</summary>
public sealed record AttributionResult(
    IReadOnlyList<string> Keys,
    IReadOnlyList<AttributionModel> Models,
    double Conversions,
    double Revenue,
    double[][] ConversionCredits,
    double[][] RevenueCredits,
    int DistinctConvertingPaths,
    long NonConvertingPaths,
    double AveragePathLength,
    double AverageDaysToConvert,
    IReadOnlyList<TopPath> TopPaths,
    double? MarkovConversionProbability)
{
    /// <summary>Conversions credited to <paramref name="key"/> by <paramref name="model"/> (0 when either is absent).</summary>
    public double Credit(AttributionModel model, string key) => Lookup(ConversionCredits, model, key);

    /// <summary>Revenue credited to <paramref name="key"/> by <paramref name="model"/> (0 when either is absent).</summary>
    public double RevenueCredit(AttributionModel model, string key) => Lookup(RevenueCredits, model, key);

    private double Lookup(double[][] credits, AttributionModel model, string key)
    {
        var m = Models.ToList().IndexOf(model);
        var k = Keys.ToList().IndexOf(key);
        return m < 0 || k < 0 ? 0 : credits[m][k];
    }
}

/// <summary>
/// Collects paths and computes every requested model over them. Keys are interned once (<see cref="Key"/>) and
/// touches carry the index; the per-path models add each conversion's shares as it arrives; identical paths
/// (consecutive repeats merged) are aggregated for the Markov chain and the top paths. Not thread-safe.
/// </summary>
public sealed class AttributionBuilder
{
    /// <summary>The key given to a conversion with no touch in its lookback window, so its credit is not lost.</summary>
    public const string NoTouchKey = "(no touch)";

    private readonly AttributionModel[] _models;
    private readonly AttributionModel[] _perPath;
    private readonly int[] _perPathSlot;
    private readonly AttributionSettings _settings;
    private readonly Dictionary<string, int> _keyIndex = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly double[][] _conv;
    private readonly double[][] _rev;
    private readonly Dictionary<int[], PathTally> _paths = new(PathComparer.Instance);
    private readonly List<(int From, int To, long Count)> _transitions = [];
    private double[] _shares = new double[16];
    private int[] _collapsed = new int[16];
    private double _conversions, _revenue, _touchSum, _daysSum;
    private long _nonConverting;
    private int _capacity = 16;

    private sealed class PathTally
    {
        public double Conversions;
        public double Revenue;
        public double NonConverting;
    }

    public AttributionBuilder(IEnumerable<AttributionModel> models, AttributionSettings? settings = null)
    {
        _models = [.. models.Distinct()];
        _settings = settings ?? AttributionSettings.Default;
        if (_settings.Lookback < TimeSpan.Zero || _settings.HalfLife <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), "The lookback must be positive or zero and the half-life positive.");
        }
        _perPath = [.. _models.Where(m => m != AttributionModel.Markov)];
        _perPathSlot = [.. _perPath.Select(m => Array.IndexOf(_models, m))];
        _conv = [.. _models.Select(_ => new double[16])];
        _rev = [.. _models.Select(_ => new double[16])];
    }

    public AttributionSettings Settings => _settings;

    /// <summary>The index of <paramref name="name"/>, interned on first use.</summary>
    public int Key(string name)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_keyIndex, name, out var exists);
        if (!exists)
        {
            slot = _keys.Count;
            _keys.Add(name);
            if (_keys.Count > _capacity)
            {
                Grow(_capacity * 2);
            }
        }
        return slot;
    }

    private void Grow(int size)
    {
        _capacity = size;
        for (var m = 0; m < _models.Length; m++)
        {
            if (_conv[m].Length < size)
            {
                Array.Resize(ref _conv[m], size);
                Array.Resize(ref _rev[m], size);
            }
        }
    }

    /// <summary>
    /// One person: their touches and their conversions, each in time order (ties in the order given). Each conversion's
    /// path is the touches in <c>[conversion − lookback, conversion]</c>, so a touch can serve several conversions; the
    /// touches at or after <paramref name="periodStartTicks"/> and after the person's last conversion form one
    /// non-converting path.
    /// </summary>
    public void AddPerson(ReadOnlySpan<Touch> touches, ReadOnlySpan<Conversion> conversions, long periodStartTicks)
    {
        var lookback = _settings.Lookback.Ticks;
        int lo = 0, hi = 0; // path = touches[lo, hi)
        foreach (var c in conversions)
        {
            while (hi < touches.Length && touches[hi].Ticks <= c.Ticks)
            {
                hi++;
            }
            while (lo < hi && touches[lo].Ticks < c.Ticks - lookback)
            {
                lo++;
            }
            AddConversionPath(touches[lo..hi], c);
        }
        var rest = conversions.Length == 0 ? 0 : hi;
        while (rest < touches.Length && touches[rest].Ticks < periodStartTicks)
        {
            rest++;
        }
        if (rest < touches.Length)
        {
            AddNonConvertingPath(touches[rest..]);
        }
    }

    /// <summary>A conversion and its path (already cut to the window). An empty path counts for <see cref="NoTouchKey"/>.</summary>
    public void AddConversionPath(ReadOnlySpan<Touch> path, Conversion conversion)
    {
        if (path.Length == 0)
        {
            Span<Touch> none = [new Touch(Key(NoTouchKey), conversion.Ticks, false)];
            AddConversionPath(none, conversion);
            return;
        }
        _conversions += conversion.Count;
        _revenue += conversion.Value;
        _touchSum += conversion.Count * path.Length;
        _daysSum += conversion.Count * Math.Max(0, conversion.Ticks - path[0].Ticks) / (double)TimeSpan.TicksPerDay;
        if (_shares.Length < path.Length)
        {
            _shares = new double[Math.Max(path.Length, _shares.Length * 2)];
        }
        var shares = _shares.AsSpan(0, path.Length);
        for (var m = 0; m < _perPath.Length; m++)
        {
            PathCredits.Shares(_perPath[m], path, conversion.Ticks, _settings.HalfLife, shares);
            var conv = _conv[_perPathSlot[m]];
            var rev = _rev[_perPathSlot[m]];
            for (var i = 0; i < path.Length; i++)
            {
                if (shares[i] != 0)
                {
                    conv[path[i].Key] += conversion.Count * shares[i];
                    rev[path[i].Key] += conversion.Value * shares[i];
                }
            }
        }
        var t = Tally(path);
        t.Conversions += conversion.Count;
        t.Revenue += conversion.Value;
    }

    /// <summary><paramref name="count"/> paths like <paramref name="path"/> that ended without conversion (needed by the Markov model; no credit).</summary>
    public void AddNonConvertingPath(ReadOnlySpan<Touch> path, long count = 1)
    {
        if (path.Length == 0 || count <= 0)
        {
            return;
        }
        _nonConverting += count;
        Tally(path).NonConverting += count;
    }

    /// <summary>
    /// Non-converting paths given as their transitions, already counted (for a store that aggregates them itself):
    /// <paramref name="from"/> −1 is the start of a path, <paramref name="to"/> −1 its end. A path counts once through its
    /// start transition. Same Markov chain as adding the paths themselves; they do not appear in the path tallies.
    /// </summary>
    public void AddNonConvertingTransition(int from, int to, long count)
    {
        if (count <= 0)
        {
            return;
        }
        if (from < 0)
        {
            _nonConverting += count;
        }
        _transitions.Add((from, to, count));
    }

    private PathTally Tally(ReadOnlySpan<Touch> path)
    {
        if (_collapsed.Length < path.Length)
        {
            _collapsed = new int[Math.Max(path.Length, _collapsed.Length * 2)];
        }
        var n = 0;
        foreach (var t in path)
        {
            if (n == 0 || _collapsed[n - 1] != t.Key)
            {
                _collapsed[n++] = t.Key;
            }
        }
        var lookup = _paths.GetAlternateLookup<ReadOnlySpan<int>>();
        ref var tally = ref CollectionsMarshal.GetValueRefOrAddDefault(lookup, _collapsed.AsSpan(0, n), out _);
        return tally ??= new PathTally();
    }

    /// <summary>Computes every requested model; <paramref name="topPaths"/> converting paths are listed, most conversions first.</summary>
    public AttributionResult Compute(int topPaths = 20)
    {
        var keys = _keys.Count;
        double? markovP = null;
        var markovSlot = Array.IndexOf(_models, AttributionModel.Markov);
        if (markovSlot >= 0)
        {
            // The chain's states are the keys in ordinal order, not in the order they were met: the figures then depend only
            // on the transitions counted, so two ways of reading the same paths give the same credits to the bit.
            var rank = new int[keys];
            var byName = Enumerable.Range(0, keys).OrderBy(k => _keys[k], StringComparer.Ordinal).ToArray();
            for (var i = 0; i < keys; i++)
            {
                rank[byName[i]] = i;
            }
            var chain = new MarkovChain(keys);
            var mapped = new int[16];
            foreach (var (path, t) in _paths)
            {
                if (mapped.Length < path.Length)
                {
                    mapped = new int[Math.Max(path.Length, mapped.Length * 2)];
                }
                for (var i = 0; i < path.Length; i++)
                {
                    mapped[i] = rank[path[i]];
                }
                chain.AddPath(mapped.AsSpan(0, path.Length), t.Conversions, converted: true);
                chain.AddPath(mapped.AsSpan(0, path.Length), t.NonConverting, converted: false);
            }
            foreach (var (from, to, count) in _transitions)
            {
                chain.AddTransition(from < 0 ? -1 : rank[from], to < 0 ? -1 : rank[to], count);
            }
            var ranked = chain.Solve();
            var solution = ranked with { RemovalEffects = [.. Enumerable.Range(0, keys).Select(k => ranked.RemovalEffects[rank[k]])] };
            markovP = solution.ConversionProbability;
            // Credit goes only to keys on at least one converting path: a key seen only on non-converting paths still
            // shapes the chain's probabilities but earns nothing (its removal effect is set to 0 before normalising).
            var converts = new bool[keys];
            foreach (var (path, t) in _paths)
            {
                if (t.Conversions > 0)
                {
                    foreach (var k in path)
                    {
                        converts[k] = true;
                    }
                }
            }
            for (var k = 0; k < keys; k++)
            {
                if (!converts[k])
                {
                    solution.RemovalEffects[k] = 0;
                }
            }
            double sum = 0;
            foreach (var k in byName)
            {
                sum += solution.RemovalEffects[k];
            }
            var conv = _conv[markovSlot];
            var rev = _rev[markovSlot];
            for (var k = 0; k < keys; k++)
            {
                conv[k] = sum > 0 ? _conversions * solution.RemovalEffects[k] / sum : 0;
                rev[k] = sum > 0 ? _revenue * solution.RemovalEffects[k] / sum : 0;
            }
        }
        var top = _paths.Where(p => p.Value.Conversions > 0)
            .OrderByDescending(p => p.Value.Conversions).ThenByDescending(p => p.Value.Revenue)
            .ThenBy(p => string.Join('\u001f', p.Key.Select(k => _keys[k])), StringComparer.Ordinal)
            .Take(topPaths)
            .Select(p => new TopPath([.. p.Key.Select(k => _keys[k])], p.Value.Conversions, p.Value.Revenue))
            .ToList();
        var convertingPaths = _paths.Values.Count(t => t.Conversions > 0);
        return new AttributionResult(
            [.. _keys], [.. _models], _conversions, _revenue,
            [.. _conv.Select(a => a[..keys])], [.. _rev.Select(a => a[..keys])],
            convertingPaths, _nonConverting,
            _conversions > 0 ? _touchSum / _conversions : 0,
            _conversions > 0 ? _daysSum / _conversions : 0,
            top, markovP);
    }

    /// <summary>Compares key sequences by content; looks them up by span without allocating.</summary>
    private sealed class PathComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static readonly PathComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj) => GetHashCode((ReadOnlySpan<int>)obj);

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var h = new HashCode();
            h.AddBytes(MemoryMarshal.AsBytes(alternate));
            return h.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }
}
