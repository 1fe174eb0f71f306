using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// Global Privacy Control checked on the server too (Sec-GPC), the tag's ctx.storage kept on the
/// touchpoint, and headless browsers taken for the embedded demo site only.
/// </summary>
public class PrivacySignalTests
{
    private const string HeadlessUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
    private CollectorHost _host = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:shop:Domains:0"] = "shop.example",
            ["Collector:Sites:legal:Domains:0"] = "legal.example",
            ["Collector:Sites:legal:IgnoreGpc"] = "true",
            ["Edge:VisitorCookieName"] = "tt_vid",
        });
        // No cookie jar: each request is a new browser, so the collector's cookie of one test never reaches another.
        _http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _host.BaseAddress };
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static string Beacon(string site, string url, string visitor, string? storage)
    {
        var b = JsonNode.Parse(Beacons.Pageview(url, site: site, visitor: visitor))!;
        if (storage is not null)
        {
            b["ctx"] = new JsonObject { ["sw"] = 1280, ["sh"] = 720, ["lang"] = "en", ["storage"] = storage };
        }
        return b.ToJsonString();
    }

    private async Task<(HttpResponseMessage Response, JsonNode Body)> PostAsync(string body, bool gpc = false, string? userAgent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(body) };
        if (gpc)
        {
            request.Headers.Add("Sec-GPC", "1");
        }
        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }
        var response = await _http.SendAsync(request);
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private async Task<JsonArray> StagedAsync(string site, string visitor, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var events = JsonNode.Parse(await _http.GetStringAsync($"/api/events?site={site}&visitor={visitor}"))!.AsArray();
            if (events.Count >= count || DateTime.UtcNow > deadline)
            {
                return events;
            }
            await Task.Delay(50);
        }
    }

    [Test]
    public async Task Sec_GPC_refuses_beacons_with_stored_identifiers_counted_as_gpc_and_sets_no_cookie()
    {
        var (response, body) = await PostAsync(Beacon("shop", "https://shop.example/", "v-" + Guid.NewGuid().ToString("N"), null), gpc: true);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "refused events of a good batch are listed in a 202: not retried");
            Assert.That((int)body["accepted"]!, Is.EqualTo(0));
            Assert.That((string?)body["rejected"]![0]!["reason"], Is.EqualTo("gpc"));
            Assert.That(response.Headers.Contains("Set-Cookie"), Is.False);
        });
    }

    [Test]
    public async Task Sec_GPC_takes_the_tags_cookieless_beacons_and_keeps_ctx_storage_without_a_cookie()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var (response, body) = await PostAsync(Beacon("shop", "https://shop.example/", visitor, "gpc"), gpc: true);
        Assert.That((int)body["accepted"]!, Is.EqualTo(1), body.ToJsonString());
        Assert.That(response.Headers.Contains("Set-Cookie"), Is.False, "no stored identifier from the collector either");
        var staged = await StagedAsync("shop", visitor, 1);
        Assert.That((string?)staged.Single()!["context"]!["storage"], Is.EqualTo("gpc"));
    }

    [Test]
    public async Task A_site_with_IgnoreGpc_takes_beacons_with_stored_identifiers_under_Sec_GPC()
    {
        var (_, body) = await PostAsync(Beacon("legal", "https://legal.example/", "v-" + Guid.NewGuid().ToString("N"), null), gpc: true);
        Assert.That((int)body["accepted"]!, Is.EqualTo(1), body.ToJsonString());
    }

    [Test]
    public async Task Blocked_storage_is_kept_on_the_touchpoint_and_the_collectors_cookie_is_the_fallback()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var (response, body) = await PostAsync(Beacon("shop", "https://shop.example/", visitor, "none"));
        Assert.That((int)body["accepted"]!, Is.EqualTo(1), body.ToJsonString());
        Assert.That(response.Headers.GetValues("Set-Cookie").Single(), Does.StartWith("tt_vid=" + visitor));
        var staged = await StagedAsync("shop", visitor, 1);
        Assert.That((string?)staged.Single()!["context"]!["storage"], Is.EqualTo("none"));
    }

    [Test]
    public async Task Headless_browsers_are_taken_for_the_embedded_demo_site_only_and_crawlers_never()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var (_, demo) = await PostAsync(Beacon("demo", "https://localhost/demo/", visitor, null), userAgent: HeadlessUserAgent);
        var (_, shop) = await PostAsync(Beacon("shop", "https://shop.example/", "v-" + Guid.NewGuid().ToString("N"), null), userAgent: HeadlessUserAgent);
        var (_, crawler) = await PostAsync(Beacon("demo", "https://localhost/demo/", "v-" + Guid.NewGuid().ToString("N"), null),
            userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        Assert.Multiple(() =>
        {
            Assert.That((int)demo["accepted"]!, Is.EqualTo(1), demo.ToJsonString());
            Assert.That((string?)shop["rejected"]![0]!["reason"], Is.EqualTo("bot"));
            Assert.That((string?)crawler["rejected"]![0]!["reason"], Is.EqualTo("bot"));
        });
        var staged = await StagedAsync("demo", visitor, 1);
        Assert.That(staged, Has.Count.EqualTo(1), "staged: the demo's live panel shows it");
    }
}
