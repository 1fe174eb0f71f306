using System.Collections.Frozen;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// Maps host patterns to values and finds the most specific pattern for a host by walking its labels
/// from the left. A pattern is either a host suffix ("facebook.com" matches "l.facebook.com") or a
/// brand with any public suffix ("google.*" matches "www.google.co.uk" and "google.fr"). At each label
/// position the exact suffix is tried before the brand form. Lookups do not allocate.
/// </summary>
internal sealed class HostPatternMap<T>
    where T : class
{
    private const int MaxLabels = 128;

    // Second-level labels that form a public suffix with a two-letter country code (co.uk, com.br, ne.jp).
    private static readonly FrozenSet<string> SecondLevelSuffixes = FrozenSet.ToFrozenSet(
        ["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob", "gen", "ltd", "plc", "nic", "mil", "web", "nom", "sch", "info", "biz"],
        StringComparer.OrdinalIgnoreCase);

    // Generic top-level domains accepted for "brand.*" patterns besides any two-letter country code.
    private static readonly FrozenSet<string> GenericTopLevel = FrozenSet.ToFrozenSet(
        ["com", "net", "org", "info", "biz", "edu", "gov", "mil", "int"],
        StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _secondLevel = SecondLevelSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _generic = GenericTopLevel.GetAlternateLookup<ReadOnlySpan<char>>();

    public HostPatternMap(IEnumerable<KeyValuePair<string, T>> patterns)
    {
        var map = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        foreach (var (pattern, value) in patterns)
        {
            if (!map.TryAdd(pattern, value))
            {
                throw new ArgumentException($"Host pattern '{pattern}' is defined twice.", nameof(patterns));
            }
        }

        Patterns = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _lookup = Patterns.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The patterns and their values.</summary>
    public FrozenDictionary<string, T> Patterns { get; }

    /// <summary>Finds the value of the most specific pattern matching <paramref name="host"/>, or null.</summary>
    public T? Find(ReadOnlySpan<char> host)
    {
        host = host.Trim().TrimEnd('.');
        if (host.IsEmpty || host.Length > EnrichmentLimits.MaxHostLength)
        {
            return null;
        }

        Span<int> starts = stackalloc int[MaxLabels];
        var labels = 0;
        starts[labels++] = 0;
        for (var i = 0; i < host.Length && labels < MaxLabels; i++)
        {
            if (host[i] == '.')
            {
                starts[labels++] = i + 1;
            }
        }

        var suffixLabels = PublicSuffixLabels(host, starts[..labels]);
        Span<char> wildcard = stackalloc char[EnrichmentLimits.MaxHostLength + 2];

        for (var i = 0; i < labels; i++)
        {
            if (_lookup.TryGetValue(host[starts[i]..], out var exact))
            {
                return exact;
            }

            if (suffixLabels > 0 && i < labels - suffixLabels)
            {
                // "www.google.co.uk" at i=1 -> "google.*"
                var brand = host[starts[i]..starts[labels - suffixLabels]];
                brand.CopyTo(wildcard);
                wildcard[brand.Length] = '*';
                if (_lookup.TryGetValue(wildcard[..(brand.Length + 1)], out var branded))
                {
                    return branded;
                }
            }
        }

        return null;
    }

    /// <summary>Looks up one exact pattern (a host suffix or "brand.*").</summary>
    public T? FindExact(ReadOnlySpan<char> pattern) => _lookup.TryGetValue(pattern, out var value) ? value : null;

    /// <summary>How many trailing labels form the public suffix (1 or 2), or 0 when unrecognised.</summary>
    private int PublicSuffixLabels(ReadOnlySpan<char> host, ReadOnlySpan<int> starts)
    {
        var count = starts.Length;
        if (count < 2)
        {
            return 0;
        }

        var last = host[starts[count - 1]..];
        var isCountry = last.Length == 2 && char.IsAsciiLetter(last[0]) && char.IsAsciiLetter(last[1]);
        if (isCountry && count >= 3)
        {
            var second = host[starts[count - 2]..(starts[count - 1] - 1)];
            if (_secondLevel.Contains(second))
            {
                return 2;
            }
        }

        return isCountry || _generic.Contains(last) ? 1 : 0;
    }
}
