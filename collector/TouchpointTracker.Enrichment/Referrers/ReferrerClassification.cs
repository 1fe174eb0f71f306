namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>What a referrer URL says about where the visitor came from.</summary>
/// <param name="Medium">Kind of referrer; <see cref="ReferrerMedium.None"/> when absent.</param>
/// <param name="Host">Lower-case referrer host.</param>
/// <param name="Source">Normalised source name for known sites, else the host without "www."; null when internal or absent.</param>
/// <param name="Term">Search keyword, when a search engine passed one.</param>
/// <param name="Known">The table entry that matched, when one did (platform, campaign medium, spam reason).</param>
public readonly record struct ReferrerClassification(ReferrerMedium Medium, string? Host, string? Source, string? Term, KnownReferrer? Known = null)
{
    /// <summary>No referrer.</summary>
    public static ReferrerClassification None => default;

    /// <summary>True for a referrer from another site.</summary>
    public bool IsExternal => Medium is not (ReferrerMedium.None or ReferrerMedium.Internal);

    /// <summary>True when the referrer is on the spam list.</summary>
    public bool IsSpam => Medium == ReferrerMedium.Spam;
}
