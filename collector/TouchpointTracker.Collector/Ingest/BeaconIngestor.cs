using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>
/// Validate, check the site and origin, enrich, buffer: the transport-free heart of POST and GET /collect.
/// Counts every acceptance and every rejection by reason and site.
/// </summary>
public sealed class BeaconIngestor(
    BeaconReader reader,
    SiteRegistry sites,
    TouchpointFactory factory,
    IEventBuffer buffer,
    IngestMetrics metrics,
    TimeProvider clock,
    IOptions<EnrichmentOptions> enrichment)
{
    private readonly bool _dropBots = enrichment.Value.DropBots;

    public async ValueTask<IngestOutcome> IngestAsync(ReadOnlyMemory<byte> body, IngestRequest request, CancellationToken cancellationToken)
    {
        var read = reader.Read(body.Span);
        if (read.BatchRejection is { } refused)
        {
            // Only configured site keys become metric labels: a sender must not be able to grow the label set.
            var known = read.Beacon?.Site is { } claimed && sites.TryGet(claimed, out _) ? claimed : null;
            return Refuse(refused.Reason, refused.Detail, known, read.Beacon?.Events?.Count ?? 0);
        }
        var beacon = read.Beacon!;
        var site = beacon.Site!;
        if (!sites.TryGet(site, out var siteOptions))
        {
            return Refuse(RejectReasons.UnknownSite, $"Site key '{site}' is not configured on this collector.", null, beacon.Events!.Count);
        }
        if (read.Cuts is { } cuts)
        {
            metrics.CountCuts(cuts, site);
        }
        // "Origin: null" (sandboxed frames, file: pages, privacy redirects) proves nothing: check the page URL as when
        // the header is absent, and refuse when there is none to check.
        var nullOrigin = request.Origin == "null";
        var origin = string.IsNullOrEmpty(request.Origin) || nullOrigin
            ? beacon.Events!.Select(e => e?.Url).FirstOrDefault(u => u is not null) ?? (nullOrigin ? "null" : null)
            : request.Origin;
        if (!SiteRegistry.OriginAllowed(siteOptions, origin))
        {
            return Refuse(RejectReasons.OriginNotAllowed, $"Pages of '{origin}' may not send events for site '{site}'.", site, beacon.Events!.Count);
        }
        if (!siteOptions.AllowsAnyOrigin)
        {
            // A page of an allowed origin must not report pages of other domains for the site.
            for (var i = read.Accepted.Count - 1; i >= 0; i--)
            {
                var e = read.Accepted[i];
                if (e.Url is not null && !SiteRegistry.UrlAllowed(siteOptions, e.Url))
                {
                    read.Accepted.RemoveAt(i);
                    read.Rejected.Add(new Rejection(RejectReasons.UrlNotAllowed, $"\"url\" is not on a domain of site '{site}'.", beacon.Events!.IndexOf(e), e.Id));
                }
            }
        }
        foreach (var r in read.Rejected)
        {
            metrics.CountRejectedEvent(r.Reason, site);
        }
        var rejected = read.Rejected.Count == 0 ? [] : read.Rejected.ConvertAll(r => new RejectedEvent(r.EventIndex ?? -1, r.EventId, r.Reason, r.Detail));
        if (read.Accepted.Count == 0)
        {
            var first = read.Rejected[0];
            metrics.RejectedBatches.Inc(metrics.ReasonLabels(first.Reason, site));
            return new IngestOutcome(0, rejected, new Rejection(first.Reason, $"No event in the batch is valid. First problem: {first.Detail}"), null) { OriginAllowed = true };
        }

        // Global Privacy Control (Sec-GPC: 1), unless the site has a legal basis (IgnoreGpc, with the tag's
        // data-gpc="ignore"): only beacons without stored identifiers (the tag's ctx.storage "gpc" or "none")
        // are taken, and the collector's own visitor cookie is neither read nor set. Refused events are
        // counted and listed (reason gpc); the tag does not send them again.
        var gpc = request.Gpc && !siteOptions.IgnoreGpc;
        if (gpc && beacon.Context?.Storage is not ("gpc" or "none"))
        {
            foreach (var e in read.Accepted)
            {
                metrics.CountRejectedEvent(RejectReasons.Gpc, site);
                rejected.Add(new RejectedEvent(beacon.Events!.IndexOf(e), e.Id, RejectReasons.Gpc,
                    "The browser sends Global Privacy Control and the beacon carries stored identifiers; the site does not ignore GPC."));
            }
            return new IngestOutcome(0, rejected, null, null);
        }
        // A first-party cookie set by the collector outlives browser limits on script-set cookies.
        if (!gpc && !string.IsNullOrEmpty(request.CookieVisitorId))
        {
            beacon.VisitorId = request.CookieVisitorId;
        }
        var facts = new RequestFacts(clock.GetUtcNow(), request.UserAgent, request.ClientIp);
        var touchpoints = new List<Touchpoint>(read.Accepted.Count);
        foreach (var e in read.Accepted)
        {
            var tp = factory.Create(beacon, e, facts);
            if (tp.Device?.IsBot == true && siteOptions.AcceptsAutomation && IsHeadless(request.UserAgent))
            {
                // The embedded demo walked by a headless browser (the page opts in with data-allow-automation):
                // a visitor for the demo, or the processor would not stage it and the live panel stays empty.
                tp.Device.IsBot = false;
            }
            if (_dropBots && tp.Device?.IsBot == true)
            {
                // Bots are dropped by default, never silently: counted, and listed in the answer.
                metrics.CountRejectedEvent(RejectReasons.Bot, site);
                rejected.Add(new RejectedEvent(beacon.Events!.IndexOf(e), e.Id, RejectReasons.Bot, "The user agent is a bot's; bot traffic is not tracked."));
                continue;
            }
            touchpoints.Add(tp);
        }
        if (touchpoints.Count == 0)
        {
            return new IngestOutcome(0, rejected, null, gpc ? null : beacon.VisitorId) { OriginAllowed = true };
        }

        var outcome = await buffer.AppendAsync(touchpoints, cancellationToken);
        if (outcome != AppendOutcome.Stored)
        {
            // The tag must be able to read the 503 and its Retry-After: the origin passed.
            return (outcome == AppendOutcome.Full
                ? Refuse(RejectReasons.BufferFull, "The collector's buffer is full; keep the batch and retry after the delay given.", site, touchpoints.Count)
                : Refuse(RejectReasons.BufferUnavailable, "The collector's buffer is unreachable; keep the batch and retry after the delay given.", site, touchpoints.Count))
                with { OriginAllowed = true };
        }
        metrics.CountAccepted(site, touchpoints.Count);
        return new IngestOutcome(touchpoints.Count, rejected, null, gpc ? null : beacon.VisitorId) { OriginAllowed = true };
    }

    /// <summary>A headless browser (test automation), as opposed to a crawler or an HTTP library.</summary>
    private static bool IsHeadless(string? userAgent) =>
        userAgent is not null && userAgent.Contains("Headless", StringComparison.OrdinalIgnoreCase) &&
        !userAgent.Contains("bot", StringComparison.OrdinalIgnoreCase);

    /// <summary>Counts and returns a refusal of a whole request.</summary>
    public IngestOutcome Refuse(string reason, string detail, string? site, int events)
    {
        metrics.CountRejectedBatch(reason, site, events);
        return new IngestOutcome(0, [], new Rejection(reason, detail), null);
    }
}
