using System.Collections.Frozen;

namespace TouchpointTracker.Enrichment.Campaigns;

/// <summary>
/// The click-id parameters recognised in landing URLs: the built-in list (ad platforms, e-mail tools)
/// plus names configured per deployment. Immutable once built.
/// </summary>
public sealed class ClickIdRegistry
{
    /// <summary>Built-in click ids (sources: the platforms' own documentation).</summary>
    public static IReadOnlyList<ClickIdDefinition> BuiltIn { get; } =
    [
        // Google Ads auto-tagging (gclid), its iOS privacy variants (gbraid: app, wbraid: web), and SA360 (gclsrc).
        new("gclid", "google_ads", "google", "cpc", ClickIdImplication.Tagged, IsSearchAdClick: true),
        new("gbraid", "google_ads", "google", "cpc", ClickIdImplication.Tagged, IsSearchAdClick: true),
        new("wbraid", "google_ads", "google", "cpc", ClickIdImplication.Tagged, IsSearchAdClick: true),
        new("gclsrc", "google_ads", "google", "cpc", ClickIdImplication.Tagged, IsSearchAdClick: true),
        // Display & Video 360 / Campaign Manager: display impressions, not search.
        new("dclid", "google_ads", "dv360", "cpm", ClickIdImplication.Tagged),
        new("msclkid", "microsoft_ads", "bing", "cpc", ClickIdImplication.Tagged, IsSearchAdClick: true),
        // Meta adds fbclid to organic outbound links as well: only a hint.
        new("fbclid", "meta", "facebook", "social", ClickIdImplication.Hint),
        new("ttclid", "tiktok", "tiktok", "cpc", ClickIdImplication.Tagged),
        new("li_fat_id", "linkedin", "linkedin", "cpc", ClickIdImplication.Tagged),
        new("twclid", "x", "x", "cpc", ClickIdImplication.Tagged),
        new("rdt_cid", "reddit", "reddit", "cpc", ClickIdImplication.Tagged),
        new("epik", "pinterest", "pinterest", "cpc", ClickIdImplication.Tagged),
        new("sccid", "snapchat", "snapchat", "cpc", ClickIdImplication.Tagged),
        new("qclid", "quora", "quora", "cpc", ClickIdImplication.Tagged),
        new("irclid", "impact", "impact", "affiliate", ClickIdImplication.Tagged),
        new("mc_cid", "mailchimp", "mailchimp", "email", ClickIdImplication.Tagged),
        new("_kx", "klaviyo", "klaviyo", "email", ClickIdImplication.Tagged),
    ];

    /// <summary>The registry with the built-in list only.</summary>
    public static ClickIdRegistry Default { get; } = new(BuiltIn);

    private readonly FrozenDictionary<string, ClickIdDefinition> _byName;
    private readonly FrozenDictionary<string, ClickIdDefinition>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>
    /// Builds a registry from the built-in list plus <paramref name="extra"/> (parameter name to platform
    /// name; extra names imply no source/medium). A built-in name given again is left as built in.
    /// Blank names or platforms are ignored.
    /// </summary>
    public static ClickIdRegistry WithExtra(IEnumerable<KeyValuePair<string, string>> extra) =>
        new(BuiltIn.Concat(extra
            .Where(static kv => !string.IsNullOrWhiteSpace(kv.Key) && !string.IsNullOrWhiteSpace(kv.Value))
            .Select(static kv => new ClickIdDefinition(kv.Key.Trim(), kv.Value.Trim()))));

    /// <summary>Builds a registry from exactly these definitions (first definition of a name wins).</summary>
    public ClickIdRegistry(IEnumerable<ClickIdDefinition> definitions)
    {
        var map = new Dictionary<string, ClickIdDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var d in definitions)
        {
            map.TryAdd(d.Parameter, d);
        }

        _byName = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _lookup = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>All recognised definitions.</summary>
    public IEnumerable<ClickIdDefinition> Definitions => _byName.Values;

    /// <summary>Finds the definition for a (decoded) parameter name, case-insensitively.</summary>
    public bool TryGet(ReadOnlySpan<char> parameterName, out ClickIdDefinition definition)
    {
        if (_lookup.TryGetValue(parameterName, out var found))
        {
            definition = found;
            return true;
        }

        definition = null!;
        return false;
    }
}
