namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>What kind of page sent the visitor.</summary>
public enum ReferrerMedium
{
    /// <summary>No referrer (or one without a usable host).</summary>
    None,

    /// <summary>A page of the same site (same host, a configured site domain, or a subdomain of one).</summary>
    Internal,

    /// <summary>A web search engine.</summary>
    Search,

    /// <summary>A social network or messenger.</summary>
    Social,

    /// <summary>A webmail client.</summary>
    Email,

    /// <summary>A video platform.</summary>
    Video,

    /// <summary>A marketplace or price-comparison site.</summary>
    Shopping,

    /// <summary>Any other external site.</summary>
    Referral,

    /// <summary>An AI assistant (ChatGPT, Claude, Gemini, ...).</summary>
    Ai,

    /// <summary>An ad-serving host: an untagged click on an ad (googleads.g.doubleclick.net, ...).</summary>
    Paid,

    /// <summary>A host of the referrer-spam list: the event is flagged as automated.</summary>
    Spam,
}

/// <summary>Wire names of <see cref="ReferrerMedium"/> (the values of <c>referrer.medium</c>).</summary>
public static class ReferrerMediumNames
{
    /// <summary>Parses a wire name of an external medium ("search", "ai", ...); false for anything else.</summary>
    public static bool TryParse(string? name, out ReferrerMedium medium)
    {
        medium = name switch
        {
            "search" => ReferrerMedium.Search,
            "social" => ReferrerMedium.Social,
            "email" => ReferrerMedium.Email,
            "video" => ReferrerMedium.Video,
            "shopping" => ReferrerMedium.Shopping,
            "referral" => ReferrerMedium.Referral,
            "ai" => ReferrerMedium.Ai,
            "paid" => ReferrerMedium.Paid,
            _ => ReferrerMedium.None,
        };
        return medium != ReferrerMedium.None;
    }

    /// <summary>The lower-case name written to <c>referrer.medium</c>; null for <see cref="ReferrerMedium.None"/>.</summary>
    public static string? ToWireName(this ReferrerMedium medium) => medium switch
    {
        ReferrerMedium.Internal => "internal",
        ReferrerMedium.Search => "search",
        ReferrerMedium.Social => "social",
        ReferrerMedium.Email => "email",
        ReferrerMedium.Video => "video",
        ReferrerMedium.Shopping => "shopping",
        ReferrerMedium.Referral => "referral",
        ReferrerMedium.Ai => "ai",
        ReferrerMedium.Paid => "paid",
        ReferrerMedium.Spam => "spam",
        _ => null,
    };
}
