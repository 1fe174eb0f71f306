using TouchpointTracker.Enrichment.Campaigns;
using TouchpointTracker.Enrichment.Referrers;

namespace TouchpointTracker.Enrichment.Channels;

/// <summary>
/// Decides source and medium from campaign tags, click id and referrer, in this order of precedence:
/// utm_source/utm_medium; a click id added to ad clicks only (gclid -> google / cpc); an external
/// referrer (google -> organic, facebook -> social, webmail -> email, AI assistant -> ai, ad-serving host ->
/// its campaign medium, spam -> spam, other -> referral); a click id that is only a hint (fbclid -> facebook /
/// social); else direct.
/// </summary>
public static class TrafficSourceResolver
{
    /// <summary>Medium of an untagged visit from an AI assistant (outside strict GA4 mode).</summary>
    public const string AiMedium = "ai";

    /// <summary>Medium of a visit whose referrer is on the spam list.</summary>
    public const string SpamMedium = "spam";

    /// <summary>Resolves the traffic source of a landing from its tags and its referrer.</summary>
    /// <param name="campaign">The landing URL's campaign parameters and click id.</param>
    /// <param name="referrer">The landing referrer.</param>
    /// <param name="strictGa4">True: an AI assistant's visit gets medium "referral" as in GA4, not "ai".</param>
    public static TrafficSource Resolve(CampaignParameters campaign, ReferrerClassification referrer, bool strictGa4 = false)
    {
        string? platform = null;
        var click = campaign.ClickIdDefinition;
        string source, medium;
        string? term = campaign.Term;

        if (campaign.IsTagged)
        {
            source = campaign.Source ?? TrafficSource.NotSet;
            medium = campaign.Medium ?? TrafficSource.NotSet;
        }
        else if (click is { Implication: ClickIdImplication.Tagged, Source: not null, Medium: not null })
        {
            source = click.Source;
            medium = click.Medium;
        }
        else if (referrer.IsExternal && referrer.Source is not null)
        {
            source = referrer.Source;
            medium = referrer.Medium switch
            {
                ReferrerMedium.Paid => referrer.Known?.CampaignMedium ?? "cpc",
                ReferrerMedium.Ai when strictGa4 => "referral",
                _ => MediumOf(referrer.Medium),
            };
            platform = referrer.Medium == ReferrerMedium.Paid ? referrer.Known?.Platform : null;
            if (referrer.Medium == ReferrerMedium.Search)
            {
                term ??= referrer.Term;
            }
        }
        else if (click is { Implication: ClickIdImplication.Hint, Source: not null, Medium: not null })
        {
            source = click.Source;
            medium = click.Medium;
        }
        else if (campaign.IsEmpty)
        {
            return TrafficSource.Direct;
        }
        else
        {
            source = TrafficSource.DirectSource;
            medium = TrafficSource.NoneMedium;
        }

        return new TrafficSource
        {
            Source = source,
            Medium = medium,
            Campaign = campaign.Campaign,
            Term = term,
            Content = campaign.Content,
            Id = campaign.Id,
            ClickId = campaign.ClickId,
            ClickPlatform = click?.Platform ?? platform,
            HasSearchAdClickId = click?.IsSearchAdClick == true,
        };
    }

    /// <summary>The medium an untagged visit from such a referrer gets.</summary>
    public static string MediumOf(ReferrerMedium medium) => medium switch
    {
        ReferrerMedium.Search => "organic",
        ReferrerMedium.Social => "social",
        ReferrerMedium.Email => "email",
        ReferrerMedium.Ai => AiMedium,
        ReferrerMedium.Spam => SpamMedium,
        ReferrerMedium.Paid => "cpc", // the entry's campaign_medium when known (see Resolve)
        _ => "referral", // video and shopping sites are recognised by source in the channel rules
    };
}
