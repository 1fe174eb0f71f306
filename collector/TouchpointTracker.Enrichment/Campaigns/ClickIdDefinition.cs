namespace TouchpointTracker.Enrichment.Campaigns;

/// <summary>How strongly a click id says where the visit came from.</summary>
public enum ClickIdImplication
{
    /// <summary>The id names the platform only; source and medium come from elsewhere.</summary>
    None,

    /// <summary>
    /// The platform adds the id to organic links too (fbclid): its source/medium are used only when
    /// neither campaign tags nor an external referrer say anything.
    /// </summary>
    Hint,

    /// <summary>The id is added to ad (or campaign) clicks only: its source/medium win over the referrer.</summary>
    Tagged,
}

/// <summary>A click-id query parameter and what it tells about the visit.</summary>
/// <param name="Parameter">Query parameter name (matched case-insensitively).</param>
/// <param name="Platform">Platform name written to <c>campaign.click_platform</c>.</param>
/// <param name="Source">Source implied when the URL carries no utm_source/utm_medium.</param>
/// <param name="Medium">Medium implied when the URL carries no utm_source/utm_medium.</param>
/// <param name="Implication">How the implied source/medium rank against the referrer.</param>
/// <param name="IsSearchAdClick">True for search-ad click ids (Google, Microsoft): GA4 treats them as Paid Search.</param>
public sealed record ClickIdDefinition(
    string Parameter,
    string Platform,
    string? Source = null,
    string? Medium = null,
    ClickIdImplication Implication = ClickIdImplication.None,
    bool IsSearchAdClick = false);
