using TouchpointTracker.Enrichment.Referrers;

namespace TouchpointTracker.Enrichment.Channels;

/// <summary>
/// Assigns the GA4 default channel group from source, medium and campaign name: case-insensitive,
/// first matching rule wins, "Unassigned" when none does (rules in docs/enrichment.md). The site
/// lists (search, social, video, shopping, AI assistants) are the <see cref="SourceCatalog"/>'s. Outside strict
/// mode, unpaid traffic from an AI assistant (by source, or medium "ai") is "AI Assistants", a group GA4
/// does not have; in strict mode those rules are off and such traffic falls to GA4's own rules. Never throws.
/// </summary>
public sealed class ChannelClassifier
{
    private readonly SourceCatalog _catalog;
    private readonly bool _strictGa4;

    /// <summary>Creates a classifier whose site lists come from <paramref name="catalog"/>.</summary>
    /// <param name="catalog">The site lists.</param>
    /// <param name="strictGa4">True: GA4's groups only (no "AI Assistants").</param>
    public ChannelClassifier(SourceCatalog catalog, bool strictGa4 = false)
    {
        _catalog = catalog;
        _strictGa4 = strictGa4;
    }

    /// <summary>The classifier over the built-in table (with the AI Assistants group).</summary>
    public static ChannelClassifier Default => DefaultClassifier.Value;

    private static readonly Lazy<ChannelClassifier> DefaultClassifier = new(() => new ChannelClassifier(SourceCatalog.Default));

    /// <summary>True when only GA4's groups are assigned.</summary>
    public bool StrictGa4 => _strictGa4;

    /// <summary>Classifies a resolved traffic source.</summary>
    public DefaultChannel Classify(TrafficSource traffic) =>
        Classify(traffic.Source, traffic.Medium, traffic.Campaign, traffic.HasSearchAdClickId);

    /// <summary>Classifies raw source / medium / campaign values.</summary>
    public DefaultChannel Classify(string? source, string? medium, string? campaign, bool hasSearchAdClickId = false)
    {
        var src = source.AsSpan().Trim();
        var med = medium.AsSpan().Trim();
        var camp = campaign.AsSpan().Trim();

        if (src.Equals(TrafficSource.DirectSource, StringComparison.OrdinalIgnoreCase)
            && (med.Equals(TrafficSource.NoneMedium, StringComparison.OrdinalIgnoreCase) || med.Equals(TrafficSource.NotSet, StringComparison.OrdinalIgnoreCase)))
        {
            return DefaultChannel.Direct;
        }

        if (camp.Contains("cross-network", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.CrossNetwork;
        }

        var site = src.IsEmpty ? ReferrerMedium.None : _catalog.FindBySource(src)?.Medium ?? ReferrerMedium.None;
        if (!SourceCatalog.IsChannelMedium(site) || (_strictGa4 && site == ReferrerMedium.Ai))
        {
            site = ReferrerMedium.None; // webmail, paid and spam hosts are no site list; AI is none in strict mode
        }

        var paid = IsPaid(med);
        var shopCampaign = IsShoppingCampaign(camp);

        if (paid)
        {
            if (site == ReferrerMedium.Shopping || shopCampaign)
            {
                return DefaultChannel.PaidShopping;
            }

            if (site == ReferrerMedium.Search || hasSearchAdClickId)
            {
                return DefaultChannel.PaidSearch;
            }

            if (site == ReferrerMedium.Social)
            {
                return DefaultChannel.PaidSocial;
            }

            if (site == ReferrerMedium.Video)
            {
                return DefaultChannel.PaidVideo;
            }
        }
        else if (hasSearchAdClickId)
        {
            return DefaultChannel.PaidSearch;
        }

        if (IsOneOf(med, "display", "banner", "expandable", "interstitial", "cpm"))
        {
            return DefaultChannel.Display;
        }

        if (paid)
        {
            return DefaultChannel.PaidOther;
        }

        if (!_strictGa4 && (site == ReferrerMedium.Ai || med.Equals(TrafficSourceResolver.AiMedium, StringComparison.OrdinalIgnoreCase)))
        {
            return DefaultChannel.AiAssistants;
        }

        if (site == ReferrerMedium.Shopping || shopCampaign)
        {
            return DefaultChannel.OrganicShopping;
        }

        if (site == ReferrerMedium.Social || IsOneOf(med, "social", "social-network", "social-media", "sm", "social network", "social media"))
        {
            return DefaultChannel.OrganicSocial;
        }

        if (site == ReferrerMedium.Video || med.Contains("video", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.OrganicVideo;
        }

        if (site == ReferrerMedium.Search || med.Equals("organic", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.OrganicSearch;
        }

        if (IsEmailWord(src) || IsEmailWord(med))
        {
            return DefaultChannel.Email;
        }

        if (med.Equals("affiliate", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.Affiliates;
        }

        if (med.Equals("referral", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.Referral;
        }

        if (med.Equals("audio", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.Audio;
        }

        if (med.Equals("sms", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.Sms;
        }

        if (med.EndsWith("push", StringComparison.OrdinalIgnoreCase)
            || med.Contains("mobile", StringComparison.OrdinalIgnoreCase)
            || med.Contains("notification", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultChannel.MobilePush;
        }

        return DefaultChannel.Unassigned;
    }

    /// <summary>GA4's paid medium pattern <c>^(.*cp.*|ppc|retargeting|paid.*)$</c>.</summary>
    public static bool IsPaid(ReadOnlySpan<char> medium) =>
        medium.Contains("cp", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("ppc", StringComparison.OrdinalIgnoreCase)
        || medium.Equals("retargeting", StringComparison.OrdinalIgnoreCase)
        || medium.StartsWith("paid", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// GA4's shopping campaign pattern <c>^(.*(([^a-df-z]|^)shop|shopping).*)$</c>: "shopping" anywhere,
    /// or "shop" at the start or after a character that is not a letter other than 'e' ("eshop", "e-shop").
    /// </summary>
    public static bool IsShoppingCampaign(ReadOnlySpan<char> campaign)
    {
        if (campaign.Contains("shopping", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var offset = 0;
        while (true)
        {
            var i = campaign[offset..].IndexOf("shop", StringComparison.OrdinalIgnoreCase);
            if (i < 0)
            {
                return false;
            }

            var at = offset + i;
            if (at == 0)
            {
                return true;
            }

            var before = char.ToLowerInvariant(campaign[at - 1]);
            if (!(before is >= 'a' and <= 'd' or >= 'f' and <= 'z'))
            {
                return true;
            }

            offset = at + 1;
        }
    }

    private static bool IsEmailWord(ReadOnlySpan<char> value) => IsOneOf(value, "email", "e-mail", "e_mail", "e mail");

    private static bool IsOneOf(ReadOnlySpan<char> value, params ReadOnlySpan<string> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (value.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
