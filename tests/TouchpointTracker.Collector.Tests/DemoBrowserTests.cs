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
