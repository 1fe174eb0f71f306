using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Started once for every test of the project: the real collector (embedded mode, Kestrel, free port),
/// the customer's site (<see cref="FixtureServer"/>, another free port, so another origin) and headless
/// Chromium. Each test opens its own browser context (<see cref="TagSession"/>): a fresh visitor.
/// </summary>
[SetUpFixture]
public sealed class TagEnvironment
{
    /// <summary>The site key the fixture pages use; the collector accepts it from 127.0.0.1 pages only.</summary>
    public const string Site = "browser-tests";

    /// <summary>The fixture site's published phone number, which call tracking replaces.</summary>
    public const string PublishedNumber = "+33 1 23 45 67 89";

    public static CollectorHost Collector { get; private set; } = null!;
    public static FixtureServer Pages { get; private set; } = null!;
    public static HttpClient CollectorHttp { get; private set; } = null!;
    public static IPlaywright Playwright { get; private set; } = null!;
    public static IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tag sends (its default: the origin it was loaded from + /collect).</summary>
    public static string CollectUrl => new Uri(Collector.BaseAddress, "/collect").ToString();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        Collector = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            [$"Collector:Sites:{Site}:Domains:0"] = "127.0.0.1",
            // Call tracking (Fixtures/phone.html): the published number and a pool of tracking numbers.
            [$"Collector:Sites:{Site}:CallTracking:Pools:main:ReplacesNumber"] = PublishedNumber,
            [$"Collector:Sites:{Site}:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
            [$"Collector:Sites:{Site}:CallTracking:Pools:main:Numbers:1"] = "+33 1 23 45 67 02",
            [$"Collector:Sites:{Site}:CallTracking:Pools:main:Numbers:2"] = "+33 1 23 45 67 03",
            [$"Collector:Sites:{Site}:CallTracking:Pools:main:Numbers:3"] = "+33 1 23 45 67 04",
        });
        CollectorHttp = Collector.CreateClient();
        Pages = await FixtureServer.StartAsync(Collector.BaseAddress);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(Playwright);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await Pages.DisposeAsync();
        CollectorHttp.Dispose();
        await Collector.DisposeAsync();
    }

    /// <summary>The touchpoints the collector staged for one visitor of the fixture site, oldest first.</summary>
    public static async Task<JsonArray> StagedAsync(string visitor) =>
        JsonNode.Parse(await CollectorHttp.GetStringAsync($"/api/events?site={Site}&visitor={Uri.EscapeDataString(visitor)}&limit=1000"))!.AsArray();

    /// <summary>Polls the inspection API (up to 20 s) until the visitor's staged touchpoints satisfy <paramref name="done"/>.</summary>
    public static async Task<List<JsonNode>> WaitForStagedAsync(string visitor, Func<List<JsonNode>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var staged = (await StagedAsync(visitor)).Select(e => e!).ToList();
            if (done(staged))
            {
                return staged;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"within 20 s the collector did not stage {what}; staged for {visitor}: {new JsonArray([.. staged.Select(s => s.DeepClone())]).ToJsonString()}");
            }
            await Task.Delay(200);
        }
    }
}
