namespace TouchpointTracker.Enrichment.Channels;

/// <summary>GA4-style default channel groups, in the order their rules are evaluated.</summary>
public enum DefaultChannel
{
    /// <summary>No referrer, no campaign.</summary>
    Direct,

    /// <summary>Campaign name contains "cross-network".</summary>
    CrossNetwork,

    /// <summary>Paid traffic from a shopping site or a shopping campaign.</summary>
    PaidShopping,

    /// <summary>Paid traffic from a search engine (or a search-ad click id).</summary>
    PaidSearch,

    /// <summary>Paid traffic from a social network.</summary>
    PaidSocial,

    /// <summary>Paid traffic from a video platform.</summary>
    PaidVideo,

    /// <summary>Display media (display, banner, expandable, interstitial, cpm).</summary>
    Display,

    /// <summary>Other paid traffic.</summary>
    PaidOther,

    /// <summary>
    /// Unpaid traffic from an AI assistant (ChatGPT, Claude, Gemini, ...): the project's extension of GA4's
    /// groups, off with <c>StrictGa4Channels</c> (then such traffic is Referral, as in GA4).
    /// </summary>
    AiAssistants,

    /// <summary>Unpaid traffic from a shopping site or shopping campaign.</summary>
    OrganicShopping,

    /// <summary>Unpaid traffic from a social network.</summary>
    OrganicSocial,

    /// <summary>Unpaid traffic from a video platform.</summary>
    OrganicVideo,

    /// <summary>Unpaid traffic from a search engine.</summary>
    OrganicSearch,

    /// <summary>E-mail.</summary>
    Email,

    /// <summary>Affiliates.</summary>
    Affiliates,

    /// <summary>Other external sites.</summary>
    Referral,

    /// <summary>Audio ads.</summary>
    Audio,

    /// <summary>Text messages.</summary>
    Sms,

    /// <summary>Mobile push notifications.</summary>
    MobilePush,

    /// <summary>Nothing matched.</summary>
    Unassigned,
}

/// <summary>Display names of <see cref="DefaultChannel"/> (the values of <c>touchpoint.channel</c>).</summary>
public static class DefaultChannelNames
{
    /// <summary>The GA4 display name, e.g. "Organic Search".</summary>
    public static string ToDisplayName(this DefaultChannel channel) => channel switch
    {
        DefaultChannel.Direct => "Direct",
        DefaultChannel.CrossNetwork => "Cross-network",
        DefaultChannel.PaidShopping => "Paid Shopping",
        DefaultChannel.PaidSearch => "Paid Search",
        DefaultChannel.PaidSocial => "Paid Social",
        DefaultChannel.PaidVideo => "Paid Video",
        DefaultChannel.Display => "Display",
        DefaultChannel.PaidOther => "Paid Other",
        DefaultChannel.AiAssistants => "AI Assistants",
        DefaultChannel.OrganicShopping => "Organic Shopping",
        DefaultChannel.OrganicSocial => "Organic Social",
        DefaultChannel.OrganicVideo => "Organic Video",
        DefaultChannel.OrganicSearch => "Organic Search",
        DefaultChannel.Email => "Email",
        DefaultChannel.Affiliates => "Affiliates",
        DefaultChannel.Referral => "Referral",
        DefaultChannel.Audio => "Audio",
        DefaultChannel.Sms => "SMS",
        DefaultChannel.MobilePush => "Mobile Push",
        _ => "Unassigned",
    };
}
