using System.Text.Json.Nodes;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>Scenario 3: a single-page app's routes (pushState, popstate) under one landing.</summary>
public class SpaNavigationTests
{
    private const string Bing = "https://www.bing.com/search?q=journey+tracker";

    [Test]
    public async Task Each_route_is_one_page_view_and_every_beacon_keeps_the_landing_referrer_and_campaign()
    {
        await using var s = await TagSession.OpenAsync();
        var landing = TagEnvironment.Pages.Url("/spa.html?utm_source=bing&utm_medium=cpc&utm_campaign=spa_launch");
        var features = TagEnvironment.Pages.Url("/spa/features");
        var pricing = TagEnvironment.Pages.Url("/spa/pricing");

        await s.GotoAsync("/spa.html?utm_source=bing&utm_medium=cpc&utm_campaign=spa_launch", referer: Bing);
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 1, "the first page view");
        await s.Page.EvaluateAsync("() => go('/spa/features')");
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 2, "a page view for the first pushState");
        await s.Page.EvaluateAsync("() => go('/spa/pricing')");
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 3, "a page view for the second pushState");
        await s.Page.EvaluateAsync("() => history.back()"); // popstate, back to /spa/features
        var beacons = await s.Log.WaitAsync(bs => PageViews(bs).Count >= 4, "a page view for popstate");

        var views = PageViews(beacons);
        Assert.Multiple(() =>
        {
            // One page view per route; the router's replaceState of the same URL at start-up is not one.
            Assert.That(views.Select(v => (string?)v.Event["url"]), Is.EqualTo(new[] { landing, features, pricing, features }));
            Assert.That(views.Select(v => (string?)v.Event["ref"]), Is.EqualTo(new[] { Bing, landing, features, pricing }));
            foreach (var (beacon, _) in views)
            {
                Assert.That((string?)beacon.Json["land"]!["url"], Is.EqualTo(landing), "land.url unchanged by route changes");
                Assert.That((string?)beacon.Json["land"]!["ref"], Is.EqualTo(Bing), "land.ref unchanged by route changes");
                Assert.That((string?)beacon.Json["sid"], Is.EqualTo((string?)views[0].Beacon.Json["sid"]), "one session");
                Assert.That((int?)beacon.Json["sn"], Is.EqualTo(1));
            }
        });

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Count(x => (string?)x["type"] == "pageview") >= 4, "the four page views");
        var stagedViews = staged.Where(e => (string?)e["type"] == "pageview").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(stagedViews.Select(e => (string?)e["page"]!["url"]), Is.EquivalentTo(new[] { landing, features, pricing, features }));
            foreach (var e in stagedViews)
            {
                Assert.That((string?)e["landing"]!["url"], Is.EqualTo(landing));
                Assert.That((string?)e["landing"]!["referrer"], Is.EqualTo(Bing));
                Assert.That((string?)e["campaign"]!["source"], Is.EqualTo("bing"));
                Assert.That((string?)e["campaign"]!["name"], Is.EqualTo("spa_launch"), "the landing campaign on every route");
                Assert.That((string?)e["channel"], Is.EqualTo("Paid Search"), "bing / cpc, on every route");
            }
        });
        TagSession.AssertStagedOnce(staged);
    }

    private static List<(SentBeacon Beacon, JsonNode Event)> PageViews(IReadOnlyList<SentBeacon> beacons) =>
        beacons.SelectMany(b => b.Events.Where(e => (string?)e["type"] == "pageview").Select(e => (b, e))).ToList();
}
