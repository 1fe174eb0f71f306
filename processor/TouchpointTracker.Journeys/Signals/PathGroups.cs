using System.Text.RegularExpressions;

namespace TouchpointTracker.Journeys.Signals;

/// <summary>
/// Named groups of page paths (content, product, comparison, pricing...), each one compiled regular
/// expression. A path may belong to several groups; the result is a bit set over the group indexes.
/// </summary>
public sealed class PathGroups
{
    /// <summary>A pattern that runs longer than this on some path does not match it.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Paths already classified: a site has far fewer distinct paths than page views.</summary>
    private const int CacheCapacity = 50_000;
    private readonly Regex[] _regexes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ulong> _cache = new(StringComparer.Ordinal);

    public PathGroups(IReadOnlyList<string> names, IReadOnlyList<Regex> regexes)
    {
        if (names.Count > 64)
        {
            throw new ArgumentException("at most 64 path groups", nameof(names));
        }
        Names = names;
        _regexes = [.. regexes];
        foreach (var regex in _regexes)
        {
            // The first match of a compiled pattern runs its code for the first time (JIT); do it here, not
            // inside the first touch's timed match, where a busy machine could make it time out.
            SafeIsMatch(regex, "/");
        }
    }

    public static readonly PathGroups Empty = new([], []);

    public IReadOnlyList<string> Names { get; }

    public int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Bit i set when the path is in group i.</summary>
    public ulong Classify(string? path)
    {
        if (string.IsNullOrEmpty(path) || _regexes.Length == 0)
        {
            return 0;
        }
        if (_cache.TryGetValue(path, out var cached))
        {
            return cached;
        }
        var (bits, complete) = Match(path);
        if (!complete)
        {
            return bits; // a match timed out: not a verdict to remember
        }
        if (_cache.Count >= CacheCapacity)
        {
            _cache.Clear(); // bounded: start over rather than grow without limit
        }
        _cache[path] = bits;
        return bits;
    }

    private (ulong Bits, bool Complete) Match(string path)
    {
        ulong bits = 0;
        var complete = true;
        for (var i = 0; i < _regexes.Length; i++)
        {
            try
            {
                if (_regexes[i].IsMatch(path))
                {
                    bits |= 1UL << i;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                complete = false; // a pattern that runs away on this path does not match it
            }
        }
        return (bits, complete);
    }

    /// <summary>Names of the groups set in <paramref name="bits"/>.</summary>
    public IEnumerable<string> NamesOf(ulong bits)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if ((bits & (1UL << i)) != 0)
            {
                yield return Names[i];
            }
        }
    }

    /// <summary>Compiles one group's patterns into a single alternation; adds a message per invalid pattern.</summary>
    public static Regex? Compile(string where, IReadOnlyList<string> patterns, List<string> errors)
    {
        var valid = new List<string>(patterns.Count);
        foreach (var pattern in patterns)
        {
            var regex = TryCreate(pattern, out var error);
            if (regex is null)
            {
                errors.Add($"{where}: '{pattern}' is not a valid regular expression: {error}");
                continue;
            }
            valid.Add(pattern);
        }
        return valid.Count == 0 ? null : TryCreate(string.Join("|", valid.Select(p => "(?:" + p + ")")), out _);
    }

    public static Regex? TryCreate(string pattern, out string? error)
    {
        try
        {
            error = null;
            return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, MatchTimeout);
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>A pattern that runs away on some input does not match it (and cannot stall the pipeline).</summary>
    public static bool SafeIsMatch(Regex regex, string input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
