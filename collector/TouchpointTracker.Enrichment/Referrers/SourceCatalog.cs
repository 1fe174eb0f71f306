using System.Collections.Frozen;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// Lookups over a <see cref="ReferrerTable"/>: by referrer host (and path), and by source name (for
/// utm_source values such as "google", "fb" or "m.facebook.com"). Built once; immutable and thread-safe.
/// </summary>
public sealed class SourceCatalog
{
    private readonly HostPatternMap<KnownReferrer> _hosts;
    private readonly FrozenDictionary<string, KnownReferrer>.AlternateLookup<ReadOnlySpan<char>> _names;

    /// <summary>The catalog of the built-in table.</summary>
    public static SourceCatalog Default => DefaultCatalog.Value;

    private static readonly Lazy<SourceCatalog> DefaultCatalog = new(() => new SourceCatalog(ReferrerTable.BuiltIn));

    /// <summary>
    /// Builds a catalog. Names of search, social, video, shopping and AI entries (the channel rules' site
    /// lists) are found by name; an email or referral entry's name too, unless a site-list entry shares it
    /// (then the name is left out: "gmx" is both a search engine and a webmail, so the channel follows the
    /// medium). Paid and spam entries are found by host only.
    /// </summary>
    public SourceCatalog(ReferrerTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Table = table;
        var patterns = new List<KeyValuePair<string, KnownReferrer>>();
        var names = new Dictionary<string, KnownReferrer>(StringComparer.OrdinalIgnoreCase);
        var ambiguous = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var channelNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in table.Entries)
        {
            var known = new KnownReferrer(entry.Source, entry.Medium, entry.Keywords)
            {
                Id = entry.Id,
                Platform = entry.Platform,
                CampaignMedium = entry.CampaignMedium,
            };
            foreach (var host in entry.Hosts)
            {
                patterns.Add(new(host, known));
            }

            if (entry.Source is null || entry.Medium == ReferrerMedium.Paid)
            {
                continue;
            }

            if (names.TryGetValue(entry.Source, out var existing) && existing.Medium != entry.Medium)
            {
                if (IsChannelMedium(existing.Medium) && IsChannelMedium(entry.Medium))
                {
                    throw new ArgumentException($"Source '{entry.Source}' is listed as both {existing.Medium} and {entry.Medium}.", nameof(table));
                }

                ambiguous.Add(entry.Source);
            }

            names.TryAdd(entry.Source, known);
        }

        foreach (var name in ambiguous)
        {
            names.Remove(name);
        }

        foreach (var (alias, target) in table.Aliases)
        {
            if (names.TryGetValue(target, out var known))
            {
                names.TryAdd(alias, known);
            }
        }

        for (var i = 0; i < table.Spam.Count; i++)
        {
            var list = table.Spam[i];
            var index = IndexOf(table.SpamReasons, list.Reason);
            var known = new KnownReferrer(null, ReferrerMedium.Spam, []) { Id = "spam/" + list.Reason, SpamReason = list.Reason, SpamReasonIndex = index };
            foreach (var host in list.Hosts)
            {
                patterns.Add(new(host, known));
            }
        }

        _hosts = new HostPatternMap<KnownReferrer>(patterns);
        _names = names.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        PatternCount = _hosts.Count;
    }

    /// <summary>The table this catalog was built from.</summary>
    public ReferrerTable Table { get; }

    /// <summary>Number of host patterns (entries and spam list).</summary>
    public int PatternCount { get; }

    /// <summary>True for the media the channel rules look up by source (search, social, video, shopping, ai).</summary>
    public static bool IsChannelMedium(ReferrerMedium medium) =>
        medium is ReferrerMedium.Search or ReferrerMedium.Social or ReferrerMedium.Video or ReferrerMedium.Shopping or ReferrerMedium.Ai;

    /// <summary>Finds the table entry for a referrer host (most specific pattern, path prefixes ignored), or null.</summary>
    public KnownReferrer? FindByHost(ReadOnlySpan<char> host) => _hosts.Find(host);

    /// <summary>Finds the table entry for a referrer host and path (most specific pattern), or null.</summary>
    public KnownReferrer? FindByHost(ReadOnlySpan<char> host, ReadOnlySpan<char> path) => _hosts.Find(host, path);

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

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
