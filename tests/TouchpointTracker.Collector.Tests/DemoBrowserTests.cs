using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>Headless Chromium walks the demo site with the real tag against the real collector.</summary>
public class DemoBrowserTests
{
    private CollectorHost _host = null!;
    private HttpClient _http = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync();
        _http = _host.CreateClient();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Test]
    public async Task Landing_on_the_demo_with_a_campaign_shows_up_staged_in_the_inspection_api()
    {
        await using var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(_host.BaseAddress, "/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=launch").ToString());

        var pageview = await WaitForAsync(e => (string?)e["type"] == "pageview" && ((string?)e["page"]?["url"])?.Contains("utm_campaign=launch", StringComparison.Ordinal) == true);
        Assert.Multiple(() =>
        {
            Assert.That((string?)pageview["campaign"]!["source"], Is.EqualTo("newsletter"));
            Assert.That((string?)pageview["campaign"]!["medium"], Is.EqualTo("email"));
            Assert.That((string?)pageview["campaign"]!["name"], Is.EqualTo("launch"));
            Assert.That((string?)pageview["page"]!["path"], Is.EqualTo("/demo/"));
            Assert.That((string?)pageview["journey"]!["stage"], Is.EqualTo("awareness"));
        });

        // The visitor walks on to pricing: the same visitor's journey reaches the decision stage,
        // and the session keeps its landing campaign.
        var visitor = (string)pageview["visitor_id"]!;
        await page.GotoAsync(new Uri(_host.BaseAddress, "/demo/pricing/").ToString());
        var pricing = await WaitForAsync(e => (string?)e["visitor_id"] == visitor && (string?)e["page"]?["path"] == "/demo/pricing/");
        Assert.Multiple(() =>
        {
            Assert.That((string?)pricing["journey"]!["stage"], Is.EqualTo("decision"));
            Assert.That((string?)pricing["campaign"]!["name"], Is.EqualTo("launch"));
        });
    }

    [Test]
    public async Task The_demo_in_a_headless_browser_with_its_own_user_agent_shows_downloads_outbound_clicks_and_says_why_events_are_refused()
    {
        // Chromium's own headless user agent (HeadlessChrome): real sites drop it as a bot, the demo opts in.
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        });
        var page = await context.NewPageAsync();
        var notFound = new List<string>();
        page.Response += (_, r) => { if (r.Status == 404) notFound.Add(r.Url); };
        await context.RouteAsync("https://example.org/**", r => r.FulfillAsync(new RouteFulfillOptions { Body = "elsewhere" }));
        var marker = "headless-" + Guid.NewGuid().ToString("N")[..8];
        await page.GotoAsync(new Uri(_host.BaseAddress, "/demo/?utm_campaign=" + marker).ToString());
        var pageview = await WaitForAsync(e => ((string?)e["page"]?["url"])?.Contains(marker, StringComparison.Ordinal) == true);
        var visitor = (string)pageview["visitor_id"]!;

        var brochure = await context.APIRequest.GetAsync(new Uri(_host.BaseAddress, "/demo/acme-brochure.pdf").ToString());
        Assert.That(brochure.Status, Is.EqualTo(200), "the brochure link works");
        // A download and an outbound click (middle button: the demo page stays open), recorded by tt.full.js.
        await page.ClickAsync("a[href$='acme-brochure.pdf']", new PageClickOptions { Button = MouseButton.Middle });
        await page.ClickAsync("a.outbound", new PageClickOptions { Button = MouseButton.Middle });
        await WaitForAsync(e => (string?)e["visitor_id"] == visitor && (string?)e["name"] == "file_download");
        await WaitForAsync(e => (string?)e["visitor_id"] == visitor && (string?)e["name"] == "outbound_click");

        // The live panel: the visitor and host columns, and a line saying why events are refused.
        using var bot = new HttpRequestMessage(HttpMethod.Post, "/collect")
        {
            Content = new StringContent($$"""{"v":1,"site":"demo","vid":"crawler","sid":"s","events":[{"id":"{{Guid.NewGuid()}}","type":"pageview","url":"http://localhost/demo/"}]}"""),
        };
        bot.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        (await _http.SendAsync(bot)).Dispose();
        await page.ReloadAsync();
        var row = page.Locator("#live-rows tr", new PageLocatorOptions { HasText = visitor[..8] }).First;
        await Assertions.Expect(row).ToContainTextAsync(new Uri(_host.BaseAddress, "/").Host, new LocatorAssertionsToContainTextOptions { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#live-refused")).ToContainTextAsync("bot", new LocatorAssertionsToContainTextOptions { Timeout = 20_000 });
        Assert.That(notFound, Is.Empty, "no 404 (favicon, brochure)");
    }

    private async Task<JsonNode> WaitForAsync(Func<JsonNode, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonArray events;
        do
        {
            events = JsonNode.Parse(await _http.GetStringAsync("/api/events?site=demo&limit=1000"))!.AsArray();
            var found = events.FirstOrDefault(e => e is not null && match(e));
            if (found is not null)
            {
                return found;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail("no matching staged event within 20 s; staged: " + events.ToJsonString());
        throw new InvalidOperationException("unreachable");
    }
}
