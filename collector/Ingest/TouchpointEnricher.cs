using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>Fills a touchpoint's page, referrer, campaign and channel from the URLs the tag sent.</summary>
public sealed class TouchpointEnricher
{
    public void Enrich(Touchpoint tp, string? url, string? referrer, string? title, in RequestFacts facts)
    {
        if (url is not null && Uri.TryCreate(url, UriKind.Absolute, out var page))
        {
            tp.Page = new PageInfo { Url = url, Host = page.Host, Path = page.AbsolutePath, Query = page.Query.Length > 1 ? page.Query[1..] : null, Title = title };
        }
        else
        {
            tp.Page = new PageInfo { Title = title };
        }
        if (!string.IsNullOrEmpty(referrer) && Uri.TryCreate(referrer, UriKind.Absolute, out var r))
        {
            tp.Referrer = new ReferrerInfo { Url = referrer, Host = r.Host };
        }
        var landing = tp.Landing?.Url ?? url;
        if (landing is not null && Uri.TryCreate(landing, UriKind.Absolute, out var l))
        {
            var q = System.Web.HttpUtility.ParseQueryString(l.Query);
            tp.Campaign = new CampaignInfo { Source = q["utm_source"], Medium = q["utm_medium"], Name = q["utm_campaign"] };
        }
    }
}
