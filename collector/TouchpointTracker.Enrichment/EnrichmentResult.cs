using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment.Channels;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment;

/// <summary>The enrichment of one event, as contract objects ready to set on a <see cref="Touchpoint"/>.</summary>
/// <param name="Page">The event's page (<see cref="PageInfo.Title"/> is left for the caller).</param>
/// <param name="Referrer">The event's own referrer; medium "internal" for same-site navigation.</param>
/// <param name="Campaign">Source/medium/campaign of the session (from the landing URL and referrer when given).</param>
/// <param name="ChannelGroup">The default channel group.</param>
/// <param name="Device">Browser/OS/device; null when there was no user agent.</param>
/// <param name="Geo">Location; null when unknown or no database is configured.</param>
/// <param name="UserAgent">The full user agent parse (device brand and model included); null without a parser or user agent.</param>
public sealed record EnrichmentResult(
    PageInfo Page,
    ReferrerInfo Referrer,
    CampaignInfo Campaign,
    DefaultChannel ChannelGroup,
    DeviceInfo? Device,
    GeoInfo? Geo,
    UserAgentInfo? UserAgent)
{
    /// <summary>The channel's display name for <see cref="Touchpoint.Channel"/> ("Organic Search").</summary>
    public string Channel => ChannelGroup.ToDisplayName();

    /// <summary>Copies the results onto <paramref name="touchpoint"/> (page title is kept if already set).</summary>
    public void ApplyTo(Touchpoint touchpoint)
    {
        Page.Title ??= touchpoint.Page.Title;
        touchpoint.Page = Page;
        touchpoint.Referrer = Referrer;
        touchpoint.Campaign = Campaign;
        touchpoint.Channel = Channel;
        touchpoint.Device = Device;
        touchpoint.Geo = Geo;
    }
}
