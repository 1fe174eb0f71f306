using System.Collections.Frozen;
using System.Text.RegularExpressions;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Enrichment.Channels;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// Every site's pools, validated once at start-up: which pool serves a session (by the published number and
/// the session's channel), and which pool a tracking number belongs to. Pure and immutable.
/// </summary>
public sealed partial class CallTrackingCatalog
{
    public const int MaxNumbersPerPool = 1000;

    private static readonly FrozenSet<string> ChannelNames = Enum.GetValues<DefaultChannel>()
        .Select(c => c.ToDisplayName()).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, NumberPool[]> _bySite;
    private readonly FrozenDictionary<(string Site, string Number), NumberPool> _byNumber;

    private CallTrackingCatalog(Dictionary<string, NumberPool[]> bySite)
    {
        _bySite = bySite.ToFrozenDictionary(StringComparer.Ordinal);
        _byNumber = bySite.Values.SelectMany(p => p).SelectMany(p => p.Numbers.Select(n => (Key: (p.Site, n), Pool: p)))
            .ToFrozenDictionary(x => x.Key, x => x.Pool);
    }

    public static readonly CallTrackingCatalog Empty = new([]);

    /// <summary>True when <paramref name="name"/> is a channel of the reports (any case); <paramref name="canonical"/> is its spelling.</summary>
    public static bool IsChannel(string name, out string? canonical)
    {
        canonical = ChannelNames.TryGetValue(name, out var actual) ? actual : null;
        return canonical is not null;
    }

    public IEnumerable<NumberPool> Pools => _bySite.Values.SelectMany(p => p);

    public bool HasPools(string site) => _bySite.ContainsKey(site);

    public IReadOnlyList<NumberPool> PoolsOf(string site) => _bySite.TryGetValue(site, out var pools) ? pools : [];

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex PoolName();

    /// <summary>
    /// The pool for a session of <paramref name="site"/>: among the pools replacing <paramref name="replaces"/>
    /// (any when null), the one listing <paramref name="channel"/>, else the default one; null when none.
    /// </summary>
    public NumberPool? Select(string site, string? replaces, string? channel)
    {
        if (!_bySite.TryGetValue(site, out var pools))
        {
            return null;
        }
        NumberPool? fallback = null;
        foreach (var pool in pools)
        {
            if (replaces is not null && pool.Replaces != replaces)
            {
                continue;
            }
            if (channel is not null && pool.Channels.Contains(channel))
            {
                return pool;
            }
            fallback ??= pool.IsDefault ? pool : null;
        }
        return fallback;
    }

    /// <summary>The pool of a tracking number (E.164) of <paramref name="site"/>, or null.</summary>
    public NumberPool? PoolOfNumber(string site, string e164) => _byNumber.GetValueOrDefault((site, e164));

    /// <summary>
    /// A tracking number as a call platform wrote it, in E.164: international forms as they are, national ones
    /// read with the country codes of the site's pools. Null when it is not a number of any pool of the site.
    /// </summary>
    public NumberPool? PoolOfTrackingNumber(string site, string? text, out string? e164)
    {
        e164 = null;
        foreach (var code in PoolsOf(site).Select(p => p.CountryCode).Distinct(StringComparer.Ordinal))
        {
            if (PhoneNumbers.Normalize(text, code) is { } n && PoolOfNumber(site, n) is { } pool)
            {
                e164 = n;
                return pool;
            }
        }
        return null;
    }

    /// <summary>Builds the catalog from the sites' options; every problem is listed, with the setting's path, in <paramref name="errors"/>.</summary>
    public static CallTrackingCatalog Build(IReadOnlyDictionary<string, SiteOptions> sites, List<string> errors)
    {
        var bySite = new Dictionary<string, NumberPool[]>(StringComparer.Ordinal);
        foreach (var (site, options) in sites)
        {
            if (options.CallTracking is not { Pools.Count: > 0 } ct)
            {
                continue;
            }
            var pools = new List<NumberPool>();
            var seenNumbers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, p) in ct.Pools.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var path = $"Collector:Sites:{site}:CallTracking:Pools:{name}";
                var before = errors.Count;
                if (!PoolName().IsMatch(name))
                {
                    errors.Add($"{path}: a pool name is 1 to 32 letters, digits, '_' or '-'");
                }
                var replaces = PhoneNumbers.Normalize(p.ReplacesNumber);
                if (replaces is null)
                {
                    errors.Add($"{path}:ReplacesNumber must be the site's published number in international form, e.g. +33 1 23 45 67 89 (got '{p.ReplacesNumber}')");
                }
                if (p.Numbers.Count == 0)
                {
                    errors.Add($"{path}:Numbers must list at least one tracking number");
                }
                if (p.Numbers.Count > MaxNumbersPerPool)
                {
                    errors.Add($"{path}:Numbers lists {p.Numbers.Count} numbers; a pool holds at most {MaxNumbersPerPool}");
                }
                var numbers = new List<string>(p.Numbers.Count);
                for (var i = 0; i < p.Numbers.Count; i++)
                {
                    var n = PhoneNumbers.Normalize(p.Numbers[i]);
                    if (n is null)
                    {
                        errors.Add($"{path}:Numbers:{i} must be a phone number in international form, e.g. +33 1 23 45 67 01 (got '{p.Numbers[i]}')");
                    }
                    else if (n == replaces)
                    {
                        errors.Add($"{path}:Numbers:{i} is the published number itself ({n})");
                    }
                    else if (!seenNumbers.TryAdd(n, name))
                    {
                        errors.Add($"{path}:Numbers:{i} ({n}) is already a number of pool '{seenNumbers[n]}': a number belongs to one pool");
                    }
                    else
                    {
                        numbers.Add(n);
                    }
                }
                foreach (var c in p.Channels)
                {
                    if (!ChannelNames.Contains(c ?? ""))
                    {
                        errors.Add($"{path}:Channels: '{c}' is not a channel; use the channel names of the reports: {string.Join(", ", ChannelNames.Order(StringComparer.Ordinal))}");
                    }
                }
                if (p.HoldMinutes is < 1 or > 24 * 60)
                {
                    errors.Add($"{path}:HoldMinutes must be between 1 and 1440 (got {p.HoldMinutes})");
                }
                if (p.MatchWindowDays is < 1 or > 365)
                {
                    errors.Add($"{path}:MatchWindowDays must be between 1 and 365 (got {p.MatchWindowDays})");
                }
                if (p.Source is { } src && (src.Trim().Length is 0 or > 128 || src.Any(char.IsControl)))
                {
                    errors.Add($"{path}:Source must be 1 to 128 characters without control characters");
                }
                if (errors.Count > before)
                {
                    continue;
                }
                var channels = p.Channels.Select(c => ChannelNames.First(n => string.Equals(n, c, StringComparison.OrdinalIgnoreCase)))
                    .ToFrozenSet(StringComparer.Ordinal);
                pools.Add(new NumberPool
                {
                    Site = site,
                    Name = name,
                    Numbers = numbers,
                    Replaces = replaces!,
                    ReplacesText = p.ReplacesNumber!,
                    CountryCode = PhoneNumbers.CountryCodeOf(replaces)!,
                    Channels = channels,
                    Hold = TimeSpan.FromMinutes(p.HoldMinutes),
                    MatchWindow = TimeSpan.FromDays(p.MatchWindowDays),
                    Source = p.Source?.Trim() ?? (channels.Count > 0 ? p.Channels[0] : NumberPool.DefaultSource),
                });
            }
            // Per published number: one default pool at most, and a channel in one pool at most.
            foreach (var group in pools.GroupBy(p => p.Replaces))
            {
                var defaults = group.Where(p => p.IsDefault).Select(p => p.Name).ToList();
                if (defaults.Count > 1)
                {
                    errors.Add($"Collector:Sites:{site}:CallTracking: pools {string.Join(" and ", defaults)} both replace {group.Key} without Channels; one default pool per published number");
                }
                foreach (var channel in group.SelectMany(p => p.Channels.Select(c => (Channel: c, Pool: p.Name))).GroupBy(x => x.Channel).Where(g => g.Count() > 1))
                {
                    errors.Add($"Collector:Sites:{site}:CallTracking: channel '{channel.Key}' is in pools {string.Join(" and ", channel.Select(x => x.Pool))} of the same published number; list it in one");
                }
            }
            if (pools.Count > 0)
            {
                bySite[site] = [.. pools];
            }
        }
        return new CallTrackingCatalog(bySite);
    }
}
