using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>The tag says why it is off, honours GPC by default, and recovers from an outage in order.</summary>
public class SiteOwnerTests
{
    [Test]
    public async Task Off_under_automation_without_the_attribute_sends_nothing_and_says_why_once_in_the_console()
    {
        await using var s = await TagSession.OpenAsync();
        var info = new List<string>();
        s.Page.Console += (_, m) => { if (m.Type == "info") info.Add(m.Text); };
        await s.GotoAsync("/off-automation.html");
        await s.Tt("'track', 'ignored'");
        await s.Tt("'pageview'");
        await Task.Delay(1500);
        Assert.Multiple(() =>
        {
            Assert.That(s.Log.Beacons, Is.Empty);
            Assert.That(info, Is.EqualTo(new[] { "tt.js off (automation): add data-allow-automation" }));
        });
    }

    [Test]
    public async Task Global_Privacy_Control_is_honoured_by_default_counted_without_identifiers()
    {
        await using var s = await TagSession.OpenAsync();
        // Chromium has no GPC switch: the page sees navigator.globalPrivacyControl, the collector Sec-GPC: 1.
        await s.Context.AddInitScriptAsync("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })");
        await s.Context.SetExtraHTTPHeadersAsync(new Dictionary<string, string> { ["Sec-GPC"] = "1" });
        await s.GotoAsync("/gpc.html");
        var pageview = await s.StagedEventAsync(e => (string?)e["type"] == "pageview", "the page view");
        var first = (string?)pageview["visitor_id"];
        var stored = await s.Page.EvaluateAsync<string>("() => document.cookie + '|' + ['_tt', '_tt_s', '_tt_q'].map(k => localStorage.getItem(k)).join()");
        await s.GotoAsync("/gpc.html?again");
        var beacons = await s.Log.WaitAsync(bs => bs.Count(b => b.Accepted) >= 2, "a page view per page");
        Assert.Multiple(() =>
        {
            Assert.That((string?)pageview["context"]?["storage"], Is.EqualTo("gpc"));
            Assert.That(stored, Is.EqualTo("|,,"), "no cookie, nothing in localStorage");
            Assert.That(beacons.All(b => (string?)b.Json["ctx"]?["storage"] == "gpc"), Is.True);
            Assert.That((string?)beacons[^1].Json["vid"], Is.Not.EqualTo(first), "a new visitor on each page: nothing links them");
        });
    }

    [Test]
    public async Task With_cookies_and_storage_blocked_each_page_is_counted_as_a_visit_without_storage()
    {
        await using var s = await TagSession.OpenAsync();
        // What a browser with cookies and site data blocked shows a script: localStorage throws a
        // SecurityError on access and document.cookie keeps nothing.
        await s.Context.AddInitScriptAsync("""
            Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('The operation is insecure.', 'SecurityError') } });
            Object.defineProperty(Document.prototype, 'cookie', { get: () => '', set: () => {} });
            """);
        await s.GotoAsync("/storage-blocked.html");
        var pageview = await s.StagedEventAsync(e => (string?)e["type"] == "pageview", "the page view");
        await s.Tt("'track', 'still_counted'");
        await s.GotoAsync("/storage-blocked.html?again");
        var beacons = await s.Log.WaitAsync(bs => bs.Count(b => b.Accepted && b.Events.Any(e => (string?)e["type"] == "pageview")) >= 2, "a page view per page");
        var custom = await TagEnvironment.WaitForStagedAsync((string)pageview["visitor_id"]!, e => e.Any(x => (string?)x["name"] == "still_counted"), "the custom event of the first page");
        Assert.Multiple(() =>
        {
            Assert.That((string?)pageview["context"]?["storage"], Is.EqualTo("none"), "staged touchpoints say nothing could be stored");
            Assert.That(beacons.Where(b => b.Accepted).Select(b => (string?)b.Json["ctx"]?["storage"]), Has.All.EqualTo("none"));
            Assert.That(beacons.Select(b => (string?)b.Json["vid"]).Distinct().Count(), Is.EqualTo(2), "ids last one page load: the second page is another visitor");
            Assert.That(custom.Count(e => (string?)e["name"] == "still_counted"), Is.EqualTo(1), "events of the page are still sent, once");
            Assert.That(s.PageErrors, Is.Empty, "a blocked storage throws nothing into the page");
        });
    }

    [Test]
    public async Task After_an_outage_one_batch_at_a_time_and_a_prompt_retry_when_the_network_is_back()
    {
        await using var s = await TagSession.OpenAsync();
        var down = true;
        var open = 0;
        var most = 0;
        await s.Context.RouteAsync(TagEnvironment.CollectUrl, async route =>
        {
            if (route.Request.Method != "POST")
            {
                await route.ContinueAsync();
                return;
            }
            most = Math.Max(most, Interlocked.Increment(ref open));
            try
            {
                if (down)
                {
                    await route.AbortAsync("connectionfailed");
                }
                else
                {
                    await Task.Delay(300); // a slow answer: time for a second batch to race it, if the tag let it
                    await route.ContinueAsync();
                }
            }
            finally
            {
                Interlocked.Decrement(ref open);
            }
        });
        // The page's own count of its requests to the collector on their way (a fetch counted until it settles): what
        // the tag promises. The route handler's count below can also see a request the browser already gave up
        // (failed by the offline switch) whose handler has not returned yet.
        await s.Context.AddInitScriptAsync("""
            (() => {
              const f = window.fetch; let open = 0; window.__ttMostOpen = 0;
              window.fetch = function (url, init) {
                if (!String(url).includes('/collect')) return f.apply(this, arguments);
                window.__ttMostOpen = Math.max(window.__ttMostOpen, ++open);
                const p = f.apply(this, arguments);
                p.then(() => open--, () => open--);
                return p;
              };
            })();
            """);
        await s.GotoAsync("/outage.html");
        for (var i = 0; i < 5; i++)
        {
            await s.Tt($"'track', 'during_outage_{i}'");
            await s.Tt("'flush'");
        }
        // Failed sends and retries back off: 1 s, 2 s, 4 s, 8 s... wait until the backoff is long.
        await s.Log.WaitAsync(bs => bs.Count(b => b.Failure is not null) >= 4, "four failed attempts");
        // Offline first, then the collector back: a retry that started while the collector was still down
        // cannot be cut by the offline switch while its route is being answered (two "open" at once in
        // this handler, though the browser had given the first up).
        await s.Context.SetOfflineAsync(true);
        await Task.Delay(500);
        down = false;
        await s.Context.SetOfflineAsync(false); // the browser fires "online"
        string[] names = [.. Enumerable.Range(0, 5).Select(i => $"during_outage_{i}")];
        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => names.All(n => e.Any(x => (string?)x["name"] == n)), "the events tracked during the outage");
        var mostInPage = await s.Page.EvaluateAsync<int>("() => window.__ttMostOpen");
        TestContext.Out.WriteLine($"requests on their way at once: {mostInPage} as the page counts them, {most} as the route handler does");
        Assert.Multiple(() =>
        {
            Assert.That(mostInPage, Is.EqualTo(1), "never two batches of the visitor on the way at once");
            Assert.That(most, Is.InRange(1, 2), "the collector's side saw at most the one request and a given-up one still being aborted");
            var accepted = s.Log.Beacons.Where(b => b.Accepted).SelectMany(b => b.Events).Select(e => (string?)e["name"] ?? (string?)e["type"]).ToList();
            Assert.That(accepted, Is.EqualTo(new[] { "pageview" }.Concat(names)), "sent in the order tracked");
        });
        TagSession.AssertStagedOnce(staged);
        s.AssertDeliveredOnce();
    }
}
