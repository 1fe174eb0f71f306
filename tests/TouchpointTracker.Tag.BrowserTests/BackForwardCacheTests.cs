using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Scenario 11: the visitor goes back to a page that Chromium restores from the back/forward cache. No script
/// runs again, yet the visitor sees the page again: the tag counts one more page view (pageshow with
/// persisted = true), and with data-engagement each view sends its own engagement event. Playwright turns the
/// cache off in the browsers it launches, so these tests run in a browser of their own that keeps it on.
/// </summary>
public class BackForwardCacheTests
{
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task LaunchAsync() => _browser = await Chromium.LaunchAsync(TagEnvironment.Playwright, backForwardCache: true);

    [OneTimeTearDown]
    public async Task CloseAsync() => await _browser.DisposeAsync();

    [Test]
    public async Task Going_back_to_a_page_restored_from_the_back_forward_cache_counts_it_again()
    {
        await using var s = await TagSession.OpenAsync(_browser);
        var article = TagEnvironment.Pages.Url("/bfcache/article.html");
        var next = TagEnvironment.Pages.Url("/bfcache/next.html");

        await s.GotoAsync("/bfcache/article.html");
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 1, "the article's page view");
        await s.Page.ClickAsync("#next");
        await s.WaitForCommittedUrlAsync(u => u == next, next); // the page view awaited next says the page ran
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 2, "the next article's page view");
        await GoBackToTheCachedPageAsync(s);

        var views = PageViews(await s.Log.WaitAsync(bs => PageViews(bs).Count >= 3, "a page view for the restored article"));
        Assert.Multiple(() =>
        {
            Assert.That(views.Select(v => (string?)v.Event["url"]), Is.EqualTo(new[] { article, next, article }));
            // The restored view's referrer is the view before it in that document (a page loaded anew would
            // say document.referrer, here none).
            Assert.That(views.Select(v => (string?)v.Event["ref"]), Is.EqualTo(new[] { "", article, article }));
            Assert.That(views.Select(v => (string?)v.Event["id"]).Distinct().Count(), Is.EqualTo(3), "three views, three event ids");
            Assert.That(views.Select(v => (string?)v.Beacon.Json["sid"]).Distinct().Count(), Is.EqualTo(1), "one session");
            Assert.That(views[2].Beacon.ResourceType, Is.EqualTo("fetch"), "sent at once by the restored page");
        });

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Count(x => (string?)x["type"] == "pageview") >= 3, "the three page views");
        var stagedViews = staged.Where(e => (string?)e["type"] == "pageview").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(stagedViews.Count(e => (string?)e["page"]!["path"] == "/bfcache/article.html"), Is.EqualTo(2), "the article is counted twice");
            Assert.That(stagedViews.Count(e => (string?)e["page"]!["path"] == "/bfcache/next.html"), Is.EqualTo(1));
            var restore = stagedViews.Single(e => (string?)e["event_id"] == (string?)views[2].Event["id"]);
            Assert.That((string?)restore["type"], Is.EqualTo("pageview"), "the restore is a page view");
            Assert.That((string?)restore["page"]!["url"], Is.EqualTo(article));
            Assert.That((string?)restore["page"]!["title"], Is.EqualTo("Article · Fixture shop"));
        });
        TagSession.AssertStagedOnce(staged);
        Assert.That(s.PageErrors, Is.Empty);
    }

    [Test]
    public async Task A_restored_page_sends_one_engagement_event_per_view()
    {
        await using var s = await TagSession.OpenAsync(_browser);
        await s.GotoAsync("/bfcache/long-read.html");
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 1, "the first page view");
        await s.Page.ClickAsync("#next"); // the first view ends: its engagement leaves with sendBeacon
        await s.WaitForCommittedUrlAsync(u => u == TagEnvironment.Pages.Url("/bfcache/next.html"), "the next article");
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 2, "the next article's page view");
        await GoBackToTheCachedPageAsync(s);
        await s.Log.WaitAsync(bs => PageViews(bs).Count == 3, "a page view for the restored long read");
        await s.Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = true }); // the second view ends

        var spied = await s.WaitForSendBeaconCallsAsync(
            cs => cs.SelectMany(c => c.Events).Count(e => (string?)e["type"] == "engagement") >= 2, "two engagement events");
        var engagements = spied.SelectMany(c => c.Events).Where(e => (string?)e["type"] == "engagement").ToList();
        var ids = engagements.Select(e => (string?)e["id"]).ToHashSet();
        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => ids.All(id => e.Any(x => (string?)x["event_id"] == id)), "the engagement events sent");
        Assert.Multiple(() =>
        {
            Assert.That(engagements, Has.Count.EqualTo(2), "one engagement event for each of the two views, no more");
            Assert.That(engagements.Select(e => (string?)e["url"]), Has.All.EqualTo(TagEnvironment.Pages.Url("/bfcache/long-read.html")));
            Assert.That(engagements.Select(e => e["props"]!["engaged_ms"]!.GetValue<double>()), Has.All.GreaterThan(0));
            Assert.That(staged.Count(e => (string?)e["type"] == "engagement"), Is.EqualTo(2));
        });
        TagSession.AssertStagedOnce(staged);
    }

    private static List<(SentBeacon Beacon, JsonNode Event)> PageViews(IReadOnlyList<SentBeacon> beacons) =>
        beacons.SelectMany(b => b.Events.Where(e => (string?)e["type"] == "pageview").Select(e => (b, e))).ToList();

    /// <summary>
    /// history.back() to the page left before, and proof that Chromium restored that very document from the
    /// back/forward cache (its own pageshow counter went up) rather than loading it anew; if it did not, the
    /// failure says why (Chromium's reasons, through the DevTools protocol).
    /// </summary>
    private static async Task GoBackToTheCachedPageAsync(TagSession s)
    {
        var notRestored = new ConcurrentQueue<string>();
        var cdp = await s.Context.NewCDPSessionAsync(s.Page);
        cdp.Event("Page.backForwardCacheNotUsed").OnEvent += (_, e) => notRestored.Enqueue(e?.ToString() ?? "");
        await cdp.SendAsync("Page.enable");

        // No load event for a restored page: wait for the navigation to commit, then for the pageshow.
        await s.Page.GoBackAsync(new PageGoBackOptions { WaitUntil = WaitUntilState.Commit });
        var restored = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && notRestored.IsEmpty
            && (restored = await s.Page.EvaluateAsync<int?>("() => window.restored ?? null") ?? 0) == 0)
        {
            await Task.Delay(100);
        }
        await cdp.DetachAsync();
        Assert.That(restored, Is.EqualTo(1),
            $"Chromium did not restore the page from the back/forward cache: {string.Join("; ", notRestored)}");
    }
}
