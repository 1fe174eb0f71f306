namespace TouchpointTracker.Attribution;

/// <summary>A touch of one conversion path, by name, for <see cref="PathCredits.Compute"/>.</summary>
public sealed record PathTouch(string Key, DateTime Ts, bool Direct);

/// <summary>
/// The share of one conversion each touch of its path earns under the per-path models (every model but Markov,
/// whose credit depends on all paths). Shares of a non-empty path sum to 1; an empty path has no shares.
/// Touches are taken in the order given (the caller orders them by time, ties by its own stable order).
/// </summary>
public static class PathCredits
{
    /// <summary>Position-based weights: first and last touch each, the rest shared by the middle touches.</summary>
    public const double PositionEnds = 0.4;

    /// <summary>
    /// Writes the shares of <paramref name="model"/> for <paramref name="path"/> into <paramref name="shares"/>
    /// (same length as the path). No allocation.
    /// </summary>
    public static void Shares(AttributionModel model, ReadOnlySpan<Touch> path, long conversionTicks, TimeSpan halfLife, Span<double> shares)
    {
        var n = path.Length;
        if (shares.Length != n)
        {
            throw new ArgumentException("shares must have one slot per touch.", nameof(shares));
        }
        if (n == 0)
        {
            return;
        }
        shares.Clear();
        switch (model)
        {
            case AttributionModel.FirstTouch:
                shares[0] = 1;
                break;
            case AttributionModel.LastTouch:
                shares[n - 1] = 1;
                break;
            case AttributionModel.LastNonDirect:
                {
                    var i = n - 1;
                    while (i >= 0 && path[i].Direct)
                    {
                        i--;
                    }
                    shares[i < 0 ? n - 1 : i] = 1; // all direct: the last touch
                    break;
                }
            case AttributionModel.Linear:
                shares.Fill(1.0 / n);
                break;
            case AttributionModel.PositionBased:
                if (n == 1)
                {
                    shares[0] = 1;
                }
                else if (n == 2)
                {
                    shares[0] = shares[1] = 0.5;
                }
                else
                {
                    shares.Fill((1 - 2 * PositionEnds) / (n - 2));
                    shares[0] = shares[n - 1] = PositionEnds;
                }
                break;
            case AttributionModel.TimeDecay:
                {
                    // w = 2^(-Δt / H); the largest weight is the latest touch's, so no underflow to an all-zero path
                    // unless H is absurdly small: then the touches nearest the conversion share it.
                    var h = (double)halfLife.Ticks;
                    double sum = 0;
                    for (var i = 0; i < n; i++)
                    {
                        var dt = Math.Max(0, conversionTicks - path[i].Ticks);
                        sum += shares[i] = Math.Pow(2, -dt / h);
                    }
                    if (sum > 0 && double.IsFinite(sum))
                    {
                        for (var i = 0; i < n; i++)
                        {
                            shares[i] /= sum;
                        }
                    }
                    else
                    {
                        shares.Clear();
                        shares[n - 1] = 1;
                    }
                    break;
                }
            case AttributionModel.Shapley:
                {
                    // v(S) = conversions of paths whose key set is a subset of S: each distinct key of the path gets
                    // an equal share, split evenly over that key's touches.
                    var distinct = 0;
                    for (var i = 0; i < n; i++)
                    {
                        if (FirstIndexOf(path, path[i].Key) == i)
                        {
                            distinct++;
                        }
                    }
                    for (var i = 0; i < n; i++)
                    {
                        var k = path[i].Key;
                        var occurrences = 0;
                        for (var j = 0; j < n; j++)
                        {
                            if (path[j].Key == k)
                            {
                                occurrences++;
                            }
                        }
                        shares[i] = 1.0 / distinct / occurrences;
                    }
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(model), model, "Markov credit depends on every path, not one.");
        }
    }

    /// <summary>
    /// The per-touch shares of one conversion path under every per-path model (first_touch, last_touch,
    /// last_non_direct, linear, position_based, time_decay, shapley), keyed by model name; each array has one
    /// share per touch, in the order given. For publishing with each conversion.
    /// </summary>
    public static IReadOnlyDictionary<string, double[]> Compute(IReadOnlyList<PathTouch> path, DateTime conversionTs, TimeSpan? halfLife = null)
    {
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var touches = new Touch[path.Count];
        for (var i = 0; i < path.Count; i++)
        {
            var p = path[i];
            if (!keys.TryGetValue(p.Key, out var k))
            {
                keys[p.Key] = k = keys.Count;
            }
            touches[i] = new Touch(k, Utc(p.Ts).Ticks, p.Direct);
        }
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var m in AttributionModels.PerPath)
        {
            var shares = new double[touches.Length];
            Shares(m, touches, Utc(conversionTs).Ticks, halfLife ?? AttributionSettings.Default.HalfLife, shares);
            result[m.Name()] = shares;
        }
        return result;
    }

    private static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t;

    private static int FirstIndexOf(ReadOnlySpan<Touch> path, int key)
    {
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i].Key == key)
            {
                return i;
            }
        }
        return -1;
    }
}
