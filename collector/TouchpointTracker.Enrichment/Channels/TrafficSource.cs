namespace TouchpointTracker.Enrichment.Channels;

/// <summary>
/// The resolved acquisition of a session: campaign tags where present, otherwise what the click id
/// or the referrer implies, otherwise "(direct)" / "(none)".
/// </summary>
public sealed record TrafficSource
{
    /// <summary>Source value used for direct traffic.</summary>
    public const string DirectSource = "(direct)";

    /// <summary>Medium value used for direct traffic.</summary>
    public const string NoneMedium = "(none)";

    /// <summary>Value used when a tagged URL lacks utm_source or utm_medium.</summary>
    public const string NotSet = "(not set)";

    /// <summary>Direct traffic.</summary>
    public static TrafficSource Direct { get; } = new() { Source = DirectSource, Medium = NoneMedium };

    /// <summary>Source ("google", "newsletter", "example.com", "(direct)").</summary>
    public required string Source { get; init; }

    /// <summary>Medium ("cpc", "organic", "social", "referral", "email", "(none)").</summary>
    public required string Medium { get; init; }

    /// <summary>Campaign name (utm_campaign).</summary>
    public string? Campaign { get; init; }

    /// <summary>utm_term, or the organic search keyword when the engine passed one.</summary>
    public string? Term { get; init; }

    /// <summary>utm_content.</summary>
    public string? Content { get; init; }

    /// <summary>utm_id.</summary>
    public string? Id { get; init; }

    /// <summary>Click id value.</summary>
    public string? ClickId { get; init; }

    /// <summary>Platform of the click id.</summary>
    public string? ClickPlatform { get; init; }

    /// <summary>True when a search-ad click id (gclid family, msclkid) was present.</summary>
    public bool HasSearchAdClickId { get; init; }
}
