using System.Collections.Frozen;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// Maps host patterns to values and finds the most specific pattern for a host (and path) by walking the
/// host's labels from the left. A pattern is a host suffix ("facebook.com" matches "l.facebook.com"), a
/// brand with any public suffix ("google.*" matches "www.google.co.uk" and "google.fr"), or a suffix whose
/// first label is a prefix ("mail*.orange.fr" matches "mail01.orange.fr"); any of them may end with a path
/// prefix ("bing.com/chat"), which matches that path segment and below. At each label position the exact
/// suffix is tried first, then the label prefix, then the brand form; within one of them, the longest
/// matching path prefix beats the pattern without a path. Lookups do not allocate.
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

    private readonly FrozenDictionary<string, Node>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly FrozenDictionary<string, LabelPrefixRule[]>.AlternateLookup<ReadOnlySpan<char>> _labelPrefixes;
    private readonly bool _hasLabelPrefixes;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _secondLevel = SecondLevelSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _generic = GenericTopLevel.GetAlternateLookup<ReadOnlySpan<char>>();

    public HostPatternMap(IEnumerable<KeyValuePair<string, T>> patterns)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
        var prefixed = new Dictionary<string, Dictionary<string, Node>>(StringComparer.OrdinalIgnoreCase);
        var count = 0;
        foreach (var (pattern, value) in patterns)
        {
            var slash = pattern.IndexOf('/', StringComparison.Ordinal);
            var host = slash < 0 ? pattern : pattern[..slash];
            var path = slash < 0 ? null : pattern[slash..];
            var firstDot = host.IndexOf('.', StringComparison.Ordinal);
            Node node;
            if (firstDot > 1 && host[firstDot - 1] == '*')
            {
                // "mail*.orange.fr": keyed by the rest ("orange.fr"), then by the label prefix ("mail").
                var rest = host[(firstDot + 1)..];
                if (!prefixed.TryGetValue(rest, out var byPrefix))
                {
                    prefixed[rest] = byPrefix = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
                }

                node = GetOrAdd(byPrefix, host[..(firstDot - 1)]);
            }
            else
            {
                node = GetOrAdd(nodes, host);
            }

            if (!node.TryAdd(path, value))
            {
                throw new ArgumentException($"Host pattern '{pattern}' is defined twice.", nameof(patterns));
            }

            count++;
        }

        foreach (var node in nodes.Values.Concat(prefixed.Values.SelectMany(p => p.Values)))
        {
            node.Freeze();
        }

        Count = count;
        _lookup = nodes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _hasLabelPrefixes = prefixed.Count > 0;
        _labelPrefixes = prefixed
            .ToFrozenDictionary(
                kv => kv.Key,
                kv => kv.Value.OrderByDescending(p => p.Key.Length).Select(p => new LabelPrefixRule(p.Key, p.Value)).ToArray(),
                StringComparer.OrdinalIgnoreCase)
            .GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many patterns the map holds.</summary>
    public int Count { get; }

    /// <summary>Finds the value of the most specific pattern matching <paramref name="host"/> (ignoring path prefixes), or null.</summary>
    public T? Find(ReadOnlySpan<char> host) => Find(host, default);

    /// <summary>Finds the value of the most specific pattern matching <paramref name="host"/> and <paramref name="path"/>, or null.</summary>
    public T? Find(ReadOnlySpan<char> host, ReadOnlySpan<char> path)
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
            if (_lookup.TryGetValue(host[starts[i]..], out var exact) && exact.Match(path) is { } found)
            {
                return found;
            }

            if (_hasLabelPrefixes && i + 1 < labels && _labelPrefixes.TryGetValue(host[starts[i + 1]..], out var rules))
            {
                var label = host[starts[i]..(starts[i + 1] - 1)];
                foreach (var rule in rules)
                {
                    if (label.StartsWith(rule.LabelPrefix, StringComparison.OrdinalIgnoreCase) && rule.Node.Match(path) is { } prefixedValue)
                    {
                        return prefixedValue;
                    }
                }
            }

            if (suffixLabels > 0 && i < labels - suffixLabels)
            {
                // "www.google.co.uk" at i=1 -> "google.*"
                var brand = host[starts[i]..starts[labels - suffixLabels]];
                brand.CopyTo(wildcard);
                wildcard[brand.Length] = '*';
                if (_lookup.TryGetValue(wildcard[..(brand.Length + 1)], out var branded) && branded.Match(path) is { } brandValue)
                {
                    return brandValue;
                }
            }
        }

        return null;
    }

    /// <summary>Looks up one exact pattern without path (a host suffix or "brand.*").</summary>
    public T? FindExact(ReadOnlySpan<char> pattern) => _lookup.TryGetValue(pattern, out var node) ? node.Value : null;

    private static Node GetOrAdd(Dictionary<string, Node> nodes, string key)
    {
        if (!nodes.TryGetValue(key, out var node))
        {
            nodes[key] = node = new Node();
        }

        return node;
    }

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

    private sealed record LabelPrefixRule(string LabelPrefix, Node Node);

    /// <summary>The value of one host pattern and of its path prefixes (longest first).</summary>
    private sealed class Node
    {
        private List<(string Prefix, T Value)>? _building = [];
        private (string Prefix, T Value)[] _paths = [];

        public T? Value { get; private set; }

        public bool TryAdd(string? path, T value)
        {
            if (path is null)
            {
                if (Value is not null)
                {
                    return false;
                }

                Value = value;
                return true;
            }

            path = path.TrimEnd('/');
            if (_building!.Exists(p => string.Equals(p.Prefix, path, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }

            _building.Add((path, value));
            return true;
        }

        public void Freeze()
        {
            _paths = [.. _building!.OrderByDescending(p => p.Prefix.Length)];
            _building = null;
        }

        public T? Match(ReadOnlySpan<char> path)
        {
            if (!path.IsEmpty)
            {
                foreach (var (prefix, value) in _paths)
                {
                    // "/chat" matches "/chat" and "/chat/...", not "/chatter"
                    if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (path.Length == prefix.Length || path[prefix.Length] == '/'))
                    {
                        return value;
                    }
                }
            }

            return Value;
        }
    }
}
