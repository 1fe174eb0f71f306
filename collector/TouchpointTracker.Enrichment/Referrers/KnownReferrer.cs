namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>A site the referrer table knows (one entry of the table, or one spam reason).</summary>
/// <param name="Source">Normalised source name ("google", "facebook"), or null to use the referrer host.</param>
/// <param name="Medium">What kind of site it is.</param>
/// <param name="KeywordParameters">Query parameters carrying the search keyword, in order of preference.</param>
public sealed record KnownReferrer(string? Source, ReferrerMedium Medium, IReadOnlyList<string> KeywordParameters)
{
    /// <summary>The entry's key in the table ("search/google", or its explicit id).</summary>
    public string Id { get; init; } = "";

    /// <summary>Ad platform of an ad-serving host ("google_ads"); paid entries only.</summary>
    public string? Platform { get; init; }

    /// <summary>campaign.medium of an untagged click from an ad-serving host ("display", "cpc"); paid entries only.</summary>
    public string? CampaignMedium { get; init; }

    /// <summary>Why the host is on the spam list ("seo-offer"); spam entries only.</summary>
    public string? SpamReason { get; init; }

    /// <summary>Index of <see cref="SpamReason"/> in <see cref="ReferrerTable.SpamReasons"/> (for counting); -1 otherwise.</summary>
    public int SpamReasonIndex { get; init; } = -1;
}
