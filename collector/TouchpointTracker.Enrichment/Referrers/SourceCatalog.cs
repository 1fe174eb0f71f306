using System.Collections.Frozen;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// Lookups over <see cref="ReferrerTable"/>: by referrer host, and by source name (for utm_source
/// values such as "google", "fb" or "m.facebook.com"). Built once; immutable and thread-safe.
/// </summary>
public sealed class SourceCatalog
{
    private readonly HostPatternMap<KnownReferrer> _hosts;
    private readonly FrozenDictionary<string, KnownReferrer>.AlternateLookup<ReadOnlySpan<char>> _names;

    /// <summary>The catalog of the built-in table.</summary>
    public static SourceCatalog Default { get; } = new(ReferrerTable.Rows, ReferrerTable.SourceAliases);

    /// <summary>Builds a catalog. Throws at start-up when a pattern repeats or a name has two media.</summary>
    public SourceCatalog(IEnumerable<ReferrerTable.Row> rows, IReadOnlyDictionary<string, string> aliases)
    {
        var patterns = new List<KeyValuePair<string, KnownReferrer>>();
        var names = new Dictionary<string, KnownReferrer>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in rows)
        {
            var known = new KnownReferrer(row.Source, row.Medium, row.KeywordParameters);
            foreach (var host in row.Hosts)
            {
                patterns.Add(new(host, known));
            }

            if (row.Source is null)
            {
                continue;
            }

            if (names.TryGetValue(row.Source, out var existing) && existing.Medium != row.Medium)
            {
                throw new ArgumentException($"Source '{row.Source}' is listed as both {existing.Medium} and {row.Medium}.", nameof(rows));
            }

            names.TryAdd(row.Source, known);
        }

        foreach (var (alias, target) in aliases)
        {
            if (names.TryGetValue(target, out var known))
            {
                names.TryAdd(alias, known);
            }
        }

        _hosts = new HostPatternMap<KnownReferrer>(patterns);
        _names = names.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Finds the table entry for a referrer host (most specific pattern), or null.</summary>
    public KnownReferrer? FindByHost(ReadOnlySpan<char> host) => _hosts.Find(host);

    /// <summary>
    /// Finds what a campaign source names: a known source name or alias ("google", "fb"), a host
    /// ("m.facebook.com"), or a brand ("amazon" for amazon.*). Returns null for unknown sources.
    /// </summary>
    public KnownReferrer? FindBySource(ReadOnlySpan<char> source)
    {
        source = source.Trim();
        if (source.IsEmpty || source.Length > EnrichmentLimits.MaxHostLength)
        {
            return null;
        }

        if (_names.TryGetValue(source, out var named))
        {
            return named;
        }

        if (source.Contains('.'))
        {
            return _hosts.Find(source);
        }

        Span<char> brand = stackalloc char[source.Length + 2];
        source.CopyTo(brand);
        brand[source.Length] = '.';
        brand[source.Length + 1] = '*';
        return _hosts.FindExact(brand);
    }
}
