namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>A site the referrer table knows.</summary>
/// <param name="Source">Normalised source name ("google", "facebook"), or null to use the referrer host.</param>
/// <param name="Medium">What kind of site it is.</param>
/// <param name="KeywordParameters">Query parameters carrying the search keyword, in order of preference.</param>
public sealed record KnownReferrer(string? Source, ReferrerMedium Medium, IReadOnlyList<string> KeywordParameters);
