using System.Net;
using FsCheck;
using FsCheck.Fluent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.ServiceDefaults;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>
/// GET /numbers on a real embedded collector (Kestrel, free port): the shop has a two-number default pool and a
/// paid pool; another site has none.
/// </summary>
[NonParallelizable]
public sealed class NumbersApiTests
{
    private CollectorHost _host = null!;
    private HttpClient _http = null!;
    private string _folder = null!;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Collector:Sites:shop:Domains:0"] = "shop.example",
        ["Collector:Sites:shop:CallTracking:Pools:main:ReplacesNumber"] = "+33 1 23 45 67 89",
        ["Collector:Sites:shop:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
        ["Collector:Sites:shop:CallTracking:Pools:main:Numbers:1"] = "+33 1 23 45 67 02",
        ["Collector:Sites:shop:CallTracking:Pools:paid:ReplacesNumber"] = "+33 1 23 45 67 89",
        ["Collector:Sites:shop:CallTracking:Pools:paid:Numbers:0"] = "+33 1 23 45 67 11",
        ["Collector:Sites:shop:CallTracking:Pools:paid:Channels:0"] = "Paid Search",
        ["Collector:Sites:plain:Domains:0"] = "plain.example",
        // A pool only the two-numbers scenario uses.
        ["Collector:Sites:duo:Domains:0"] = "shop.example",
        ["Collector:Sites:duo:CallTracking:Pools:main:ReplacesNumber"] = "+33 1 23 45 67 89",
        ["Collector:Sites:duo:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
        ["Collector:Sites:duo:CallTracking:Pools:main:Numbers:1"] = "+33 1 23 45 67 02",
    };

    [OneTimeSetUp]
    public async Task Start()
    {
        _folder = CollectorHost.NewDataFolder();
        _host = await CollectorHost.StartAsync(new Dictionary<string, string?>(Settings) { ["Analytics:Path"] = Path.Combine(_folder, "analytics.duckdb") });
        _http = _host.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<(HttpResponseMessage Response, JsonNode? Body)> GetAsync(string query, string? origin = "https://www.shop.example")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/numbers?" + query);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private static string Visitor() => "v-" + Guid.NewGuid().ToString("N");

    private long Counter(string name, params (string, string?)[] labels)
    {
        var metrics = _host.Services.GetRequiredService<CallTrackingMetrics>();
        var counter = name switch { "given" => metrics.Given, "exhausted" => metrics.Exhausted, _ => metrics.Calls };
        return counter.Get(MetricsRegistry.Labels(labels));
    }

    [Test]
    public async Task Two_visitors_get_different_numbers_a_reload_keeps_it_and_a_third_reuses_the_least_recently_active_and_the_counter_moves()
    {
        var (alice, bob, carol) = (Visitor(), Visitor(), Visitor());
        var exhausted = Counter("exhausted", ("site", "duo"), ("pool", "main"));
        var (r1, a) = await GetAsync($"site=duo&vid={alice}&sid=s-a&phone=%2B33123456789");
        await Task.Delay(20); // "least recently active" is by the millisecond
        var (_, b) = await GetAsync($"site=duo&vid={bob}&sid=s-b");
        await Task.Delay(20);
        var (_, aReload) = await GetAsync($"site=duo&vid={alice}&sid=s-a");
        await Task.Delay(20);
        Assert.Multiple(() =>
        {
            Assert.That(r1.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(r1.Headers.CacheControl?.NoStore, Is.True);
            Assert.That(r1.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("https://www.shop.example"));
            Assert.That(r1.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That((string?)a!["pool"], Is.EqualTo("main"));
            Assert.That((string?)a["replaces"], Is.EqualTo("+33123456789"));
            Assert.That(((string?)a["cc"], (string?)a["trunk"]), Is.EqualTo(("33", "0")));
            Assert.That((string?)b!["number"], Is.Not.EqualTo((string?)a["number"]));
            Assert.That((string?)aReload!["number"], Is.EqualTo((string?)a["number"]));
        });
        Assert.That(new[] { (string?)a!["number"], (string?)b!["number"] }, Is.EquivalentTo(new[] { "+33123456701", "+33123456702" }));
        Assert.That((string?)a["display"], Is.EqualTo((string?)a["number"] == "+33123456701" ? "01 23 45 67 01" : "01 23 45 67 02"));

        // Bob was active less recently than Alice (her reload): Carol gets Bob's number, counted as pool_exhausted.
        var (_, c) = await GetAsync($"site=duo&vid={carol}&sid=s-c");
        Assert.Multiple(() =>
        {
            Assert.That((string?)c!["number"], Is.EqualTo((string?)b["number"]));
            Assert.That(Counter("exhausted", ("site", "duo"), ("pool", "main")), Is.EqualTo(exhausted + 1));
        });
    }

    [Test]
    public async Task A_session_from_a_paid_search_ad_gets_the_paid_pool_and_others_the_default()
    {
        var (_, paid) = await GetAsync($"site=shop&vid={Visitor()}&sid=s&url={Uri.EscapeDataString("https://www.shop.example/?gclid=abc")}&ref={Uri.EscapeDataString("https://www.google.com/")}");
        var (_, told) = await GetAsync($"site=shop&vid={Visitor()}&sid=s&channel=paid%20search");
        var (_, organic) = await GetAsync($"site=shop&vid={Visitor()}&sid=s&url={Uri.EscapeDataString("https://www.shop.example/")}&ref={Uri.EscapeDataString("https://www.google.com/")}");
        Assert.Multiple(() =>
        {
            Assert.That((string?)paid!["pool"], Is.EqualTo("paid"));
            Assert.That((string?)paid["number"], Is.EqualTo("+33123456711"));
            Assert.That((string?)told!["pool"], Is.EqualTo("paid"));
            Assert.That((string?)organic!["pool"], Is.EqualTo("main"));
        });
    }

    [Test]
    public async Task No_pool_no_number()
    {
        var (plain, _) = await GetAsync($"site=plain&vid={Visitor()}&sid=s", "https://plain.example");
        var (otherNumber, _) = await GetAsync($"site=shop&vid={Visitor()}&sid=s&phone=%2B442079460958");
        var (demo, _) = await GetAsync($"site=demo&vid={Visitor()}&sid=s", null);
        Assert.That(new[] { plain.StatusCode, otherNumber.StatusCode, demo.StatusCode }, Is.All.EqualTo(HttpStatusCode.NoContent));
    }

    [Test]
    public async Task Under_global_privacy_control_the_page_keeps_its_number()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/numbers?site=shop&vid={Visitor()}&sid=s");
        request.Headers.Add("Sec-GPC", "1");
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
    }

    [TestCase("vid=x", HttpStatusCode.BadRequest, "missing_site")]
    [TestCase("site=nope&vid=x", HttpStatusCode.Forbidden, "unknown_site")]
    [TestCase("site=shop", HttpStatusCode.BadRequest, "invalid_visitor_id")]
    [TestCase("site=shop&vid=a%20b", HttpStatusCode.BadRequest, "invalid_visitor_id")]
    [TestCase("site=shop&vid=ok&sid=%0a", HttpStatusCode.BadRequest, "invalid_session_id")]
    [TestCase("site=shop&vid=ok&phone=12", HttpStatusCode.BadRequest, "invalid_phone")]
    [TestCase("site=shop&vid=ok&channel=Billboards", HttpStatusCode.BadRequest, "invalid_channel")]
    public async Task Bad_input_is_refused_with_its_reason_and_counted(string query, HttpStatusCode status, string reason)
    {
        var ingest = _host.Services.GetRequiredService<IngestMetrics>();
        var site = query.Contains("site=shop", StringComparison.Ordinal) ? "shop" : "";
        var before = ingest.RejectedBatches.Get(ingest.ReasonLabels(reason, site));
        var (response, body) = await GetAsync(query);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(status));
            Assert.That((string?)body!["reason"], Is.EqualTo(reason));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Origin"), Is.True, "the tag can read the status");
            Assert.That(ingest.RejectedBatches.Get(ingest.ReasonLabels(reason, site)), Is.EqualTo(before + 1));
        });
    }

    [Test]
    public async Task A_page_of_another_domain_is_refused()
    {
        var (response, body) = await GetAsync($"site=shop&vid={Visitor()}", "https://evil.example");
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That((string?)body!["reason"], Is.EqualTo("origin_not_allowed"));
        });
    }

    [Test]
    public async Task Assignments_survive_a_restart_and_the_metrics_show_the_pool()
    {
        var metrics = await _http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_call_pool_numbers{pool=\"main\",site=\"shop\"} 2"));

        var folder = CollectorHost.NewDataFolder();
        var settings = new Dictionary<string, string?>(Settings) { ["Analytics:Path"] = Path.Combine(folder, "analytics.duckdb") };
        var dana = Visitor();
        string? first;
        await using (var host = await CollectorHost.StartAsync(settings))
        {
            using var http = host.CreateClient();
            first = (string?)JsonNode.Parse(await http.GetStringAsync($"/numbers?site=shop&vid={dana}&sid=s&channel=Paid%20Search"))!["number"];
            var text = await http.GetStringAsync("/metrics");
            Assert.Multiple(() =>
            {
                Assert.That(text, Does.Contain("tt_call_numbers_in_use{pool=\"paid\",site=\"shop\"} 1"));
                Assert.That(text, Does.Contain("tt_call_numbers_given_total{outcome=\"free\",pool=\"paid\",site=\"shop\"} 1"));
            });
        }
        await using (var host = await CollectorHost.StartAsync(settings))
        {
            using var http = host.CreateClient();
            var again = (string?)JsonNode.Parse(await http.GetStringAsync($"/numbers?site=shop&vid={dana}&sid=s&channel=Paid%20Search"))!["number"];
            var calls = host.Services.GetRequiredService<CallTrackingMetrics>();
            Assert.Multiple(() =>
            {
                Assert.That(again, Is.EqualTo(first));
                Assert.That(calls.Given.Get(MetricsRegistry.Labels(("site", "shop"), ("pool", "paid"), ("outcome", "kept"))), Is.EqualTo(1), "kept after the restart, not given anew");
                Assert.That(calls.Exhausted.Total, Is.Zero);
            });
        }
        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public async Task A_mistake_in_the_pools_stops_the_start_with_the_setting_named()
    {
        var ex = Assert.CatchAsync(async () => await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:bad:Domains:0"] = "bad.example",
            ["Collector:Sites:bad:CallTracking:Pools:main:ReplacesNumber"] = "01 23 45 67 89",
            ["Collector:Sites:bad:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
        }));
        Assert.That(ex!.Message, Does.Contain("Collector:Sites:bad:CallTracking:Pools:main:ReplacesNumber must be the site's published number in international form"));
        await Task.CompletedTask;
    }

    private static readonly string[] Keys = ["site", "vid", "sid", "phone", "url", "ref", "channel", "x"];

    private static readonly string[] Values =
    [
        "shop", "plain", "demo", "nope", "", " ", "v-1", "a b", "%00", "%0a", "%ff", "%ed%a0%bd", "%F0%9F%98%80", "+33123456789", "%2B33%201%2023%2045%2067%2089",
        "01 23 45 67 89", "((((", "+", "00", "Paid Search", "paid%20search", "Billboards", "https://www.shop.example/?gclid=1", "javascript:alert(1)",
        "https://www.google.com/", "%", "%%", "&", "=", new string('9', 40), new string('u', 3000), "\\", "%C0%AF",
    ];

    /// <summary>Query strings of the endpoint's keys (repeated, missing, empty) with hostile values.</summary>
    private static Gen<string> Queries => Gen.Zip(
            Gen.Elements("site=shop&vid=v-ok&", "site=shop&vid=v-ok&phone=%2B442079460958&", "site=plain&vid=v-ok&", "site=shop&", ""),
            Gen.Choose(0, 4).SelectMany(n => Gen.ListOf(Gen.Zip(Gen.Elements(Keys), Gen.Elements(Values)), n)))
        .Select(t => t.Item1 + string.Join("&", t.Item2.Select(p => p.Item1 + "=" + p.Item2.Replace(" ", "%20", StringComparison.Ordinal))));

    [Test]
    public void No_query_string_makes_the_endpoint_answer_5xx()
    {
        var statuses = new HashSet<int>();
        Prop.ForAll(Queries.ToArbitrary(), query =>
        {
            var (response, _) = GetAsync(query).GetAwaiter().GetResult();
            using (response)
            {
                statuses.Add((int)response.StatusCode);
                return (int)response.StatusCode < 500;
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(400));
        // The generator reaches numbers, no-pool answers and refusals, so the property tests all three.
        Assert.That(statuses, Is.SupersetOf(new[] { 200, 204, 400, 403 }));
    }
}
