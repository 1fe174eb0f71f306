using System.Text.Json.Nodes;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Scenario 12: speculation rules make Chromium prerender two pages of the site; the visitor opens one. While
/// prerendering (document.prerendering) the tag sends nothing; the page view of the opened page comes when it is
/// shown (prerenderingchange), and the discarded page records nothing. Runs in <see cref="UnattendedChromium"/>
/// (no Playwright: Chromium does not prerender under it), so the fixture page plays the visitor and the test
/// reads what the collector staged.
/// </summary>
public class PrerenderTests
{
    private const string BothPrerendered = "/prerender/discarded.html /prerender/opened.html";

    [Test]
    public async Task A_prerendered_page_is_counted_once_the_visitor_opens_it_and_a_discarded_one_never()
    {
        // Chromium may decline to prerender (under memory pressure, among other reasons): that says nothing about the
        // tag, so such a run is tried again, three times at most, each time as a new visitor.
        var declined = new List<string>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var run = Guid.NewGuid().ToString("N");
            var catalogue = TagEnvironment.Pages.Url($"/prerender/index.html?run={run}");
            await using var chromium = UnattendedChromium.Start(catalogue);
            var visitor = await VisitorOfAsync(catalogue);
            var staged = await TagEnvironment.WaitForStagedAsync(visitor,
                e => e.Any(x => (string?)x["name"] == "opening") && e.Any(x => (string?)x["type"] == "pageview" && (string?)x["page"]!["path"] == "/prerender/opened.html"),
                "the visitor opening a page (the event opening, then the page view of the opened page)");
            var prerendered = staged.Single(e => (string?)e["name"] == "opening")["props"]?["prerendered"]?.GetValue<string>();
            if (prerendered != BothPrerendered)
            {
                declined.Add($"attempt {attempt}: prerendered '{prerendered}'");
                await TestContext.Out.WriteLineAsync($"Chromium declined a prerender, {declined[^1]}");
                continue;
            }
            await AssertCountedWhenShownAsync(visitor, catalogue);
            return;
        }
        Assert.Fail($"Chromium did not prerender both pages in three attempts ({string.Join("; ", declined)})");
    }

    private static async Task AssertCountedWhenShownAsync(string visitor, string catalogue)
    {
        var staged = await TagEnvironment.WaitForStagedAsync(visitor, e => e.Any(x => (string?)x["name"] == "activated"),
            "the event the opened page records once shown (activated)");
        var opening = staged.Single(e => (string?)e["name"] == "opening");
        var activated = staged.Single(e => (string?)e["name"] == "activated");
        var views = staged.Where(e => (string?)e["type"] == "pageview").ToList();
        var opened = views.Where(e => (string?)e["page"]!["path"] == "/prerender/opened.html").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(activated["props"]?["activation_start"]?.GetValue<double>(), Is.GreaterThan(0), "the opened page was shown from its prerender");
            Assert.That(views.Count(e => (string?)e["page"]!["path"] == "/prerender/index.html"), Is.EqualTo(1));
            Assert.That(opened, Has.Count.EqualTo(1), "one page view of the opened page");
            // Recorded when shown: after the visitor decided to open it, not while it was prerendered.
            Assert.That(opened.Select(ClientTs), Has.All.GreaterThanOrEqualTo(ClientTs(opening)));
            Assert.That((string?)opened[0]["referrer"]!["url"], Is.EqualTo(catalogue), "document.referrer: the page that prerendered it");
            Assert.That(staged.Where(e => (string?)e["page"]!["path"] == "/prerender/discarded.html"), Is.Empty,
                "nothing at all from the page that was prerendered and never shown");
            Assert.That(staged.Select(e => (string?)e["session_id"]).Distinct().Count(), Is.EqualTo(1), "one session");
        });
        TagSession.AssertStagedOnce(staged);
    }

    private static DateTimeOffset ClientTs(JsonNode e) => e["client_ts"]!.GetValue<DateTimeOffset>();

    /// <summary>The visitor id of whoever viewed <paramref name="url"/> (a URL unique to the test), read from the collector (up to 20 s).</summary>
    private static async Task<string> VisitorOfAsync(string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var all = JsonNode.Parse(await TagEnvironment.CollectorHttp.GetStringAsync($"/api/events?site={TagEnvironment.Site}&limit=1000"))!.AsArray();
            var view = all.FirstOrDefault(e => (string?)e!["page"]?["url"] == url);
            if (view is not null)
            {
                return (string)view["visitor_id"]!;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"within 20 s the collector staged no page view of {url} (did Chromium start?)");
            }
            await Task.Delay(200);
        }
    }
}
