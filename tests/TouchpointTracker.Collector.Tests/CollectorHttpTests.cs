using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>The real collector on Kestrel, in the embedded mode, driven over HTTP.</summary>
public class CollectorHttpTests
{
    private CollectorHost _host = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:shop:Domains:0"] = "shop.example",
        });
        _http = _host.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Test]
    public async Task A_pageview_with_a_campaign_is_staged_and_shown_by_the_inspection_api()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var body = Beacons.Pageview("https://shop.example/landing?utm_source=newsletter&utm_medium=email&utm_campaign=launch",
            referrer: "https://mail.example.org/inbox", visitor: visitor);

        using var response = await _http.PostAsync("/collect", Beacons.AsText(body));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var staged = await WaitForEventsAsync(visitor, 1);
        var tp = staged[0]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)tp["schema"], Is.EqualTo("staged_touchpoint/1"));
            Assert.That((string?)tp["site_id"], Is.EqualTo("demo"));
            Assert.That((string?)tp["visitor_id"], Is.EqualTo(visitor));
            Assert.That((string?)tp["type"], Is.EqualTo("pageview"));
            Assert.That((string?)tp["page"]!["url"], Does.StartWith("https://shop.example/landing"));
            Assert.That((string?)tp["page"]!["path"], Is.EqualTo("/landing"));
            Assert.That((string?)tp["referrer"]!["host"], Is.EqualTo("mail.example.org"));
            Assert.That((string?)tp["campaign"]!["source"], Is.EqualTo("newsletter"));
            Assert.That((string?)tp["campaign"]!["medium"], Is.EqualTo("email"));
            Assert.That((string?)tp["campaign"]!["name"], Is.EqualTo("launch"));
            Assert.That((string?)tp["channel"], Is.EqualTo("Email"));
            Assert.That((string?)tp["journey"]!["stage"], Is.EqualTo("awareness"));
            Assert.That(tp["journey"]!["reasons"]!.AsArray().Select(r => (string?)r), Does.Contain("awareness.first-touch"));
        });
    }

    [Test]
    public async Task A_visit_from_a_search_engine_is_enriched_with_source_keyword_channel_and_device()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect")
        {
            Content = Beacons.AsText(Beacons.Pageview("https://shop.example/guides/tracking?gclid=abc123", referrer: "https://www.bing.com/search?q=journey+tracker", visitor: visitor)),
        };
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");

        using var response = await _http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var tp = (await WaitForEventsAsync(visitor, 1))[0]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)tp["referrer"]!["medium"], Is.EqualTo("search"));
            Assert.That((string?)tp["referrer"]!["term"], Is.EqualTo("journey tracker"));
            Assert.That((string?)tp["campaign"]!["click_id"], Is.EqualTo("abc123"));
            Assert.That((string?)tp["campaign"]!["click_platform"], Is.EqualTo("google_ads"));
            Assert.That((string?)tp["channel"], Is.EqualTo("Paid Search"));
            Assert.That(tp["received_ts"], Is.Not.Null);
            Assert.That(tp["derived_ts"], Is.Not.Null);
        });
        // uap-core's rules ship with the enrichment project (its UserAgents/uap-core), so they are always here.
        Assert.That(File.Exists(Path.Combine(AppContext.BaseDirectory, "uap-core", "regexes.yaml")), Is.True, "uap-core/regexes.yaml beside the binary");
        Assert.Multiple(() =>
        {
            Assert.That((string?)tp["device"]!["browser"], Is.EqualTo("Chrome"));
            Assert.That((string?)tp["device"]!["os"], Is.EqualTo("Windows"));
        });
    }

    [Test]
    public async Task Bots_are_dropped_listed_and_counted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://shop.example/")) };
        request.Headers.UserAgent.ParseAdd("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");

        using var response = await _http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That((int?)body["accepted"], Is.EqualTo(0));
            Assert.That((string?)body["rejected"]![0]!["reason"], Is.EqualTo("bot"));
        });
        Assert.That(await _http.GetStringAsync("/metrics"), Does.Contain("tt_rejected_events_total{reason=\"bot\",site=\"demo\"}"));
    }

    [Test]
    public async Task A_journey_moves_forward_through_the_stages()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var session = "s-" + Guid.NewGuid().ToString("N");
        foreach (var path in new[] { "/blog/what-is-a-journey", "/compare/acme-vs-others", "/pricing" })
        {
            using var r = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://shop.example" + path, visitor: visitor, session: session)));
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        var staged = await WaitForEventsAsync(visitor, 3);

        Assert.That(staged.Select(e => (string?)e!["journey"]!["stage"]), Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
        Assert.That((string?)staged[2]!["journey"]!["previous_stage"], Is.EqualTo("consideration"));
    }

    [Test]
    public async Task The_same_event_sent_twice_is_staged_once()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var body = Beacons.Pageview("https://shop.example/", visitor: visitor, eventId: Guid.NewGuid().ToString());
        for (var i = 0; i < 2; i++)
        {
            using var r = await _http.PostAsync("/collect", Beacons.AsText(body));
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }
        // A later event proves the pipeline went past both copies.
        using (var r = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://shop.example/next", visitor: visitor))))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        var staged = await WaitForEventsAsync(visitor, 2);
        await Task.Delay(200);

        Assert.That((await GetEventsAsync(visitor)).Count, Is.EqualTo(2));
        Assert.That((string?)staged[1]!["page"]!["path"], Is.EqualTo("/next"));
    }

    [TestCase("not json", HttpStatusCode.BadRequest, "invalid_json")]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":[]}""", HttpStatusCode.BadRequest, "no_events")]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":[{"id":"e","type":"pageview","ts":"now"}]}""", HttpStatusCode.BadRequest, "invalid_json")]
    [TestCase("""{"v":1,"site":"nobody","vid":"a","sid":"b","events":[{"id":"e","type":"pageview","url":"https://a.example/"}]}""", HttpStatusCode.Forbidden, "unknown_site")]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":[{"id":"e","type":"pageview"}]}""", HttpStatusCode.BadRequest, "invalid_url")]
    public async Task A_bad_beacon_gets_a_4xx_problem_with_its_reason_and_is_counted(string body, HttpStatusCode status, string reason)
    {
        var before = await RejectedCountAsync(reason);

        using var response = await _http.PostAsync("/collect", Beacons.AsText(body));

        Assert.That(response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["reason"], Is.EqualTo(reason));
            Assert.That((string?)problem["detail"], Is.Not.Empty);
        });
        Assert.That(await RejectedCountAsync(reason), Is.GreaterThan(before));
        using var health = await _http.GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the process stays up");
    }

    [Test]
    public async Task A_sender_cannot_grow_the_metric_labels_with_madeUp_site_keys()
    {
        var madeUp = "made-up-" + Guid.NewGuid().ToString("N");

        using var response = await _http.PostAsync("/collect", Beacons.AsText($$"""{"v":1,"site":"{{madeUp}}","vid":"has space","sid":"b","events":[{"id":"e","type":"pageview","url":"https://a.example/"}]}"""));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var metrics = await _http.GetStringAsync("/metrics");
        Assert.Multiple(() =>
        {
            Assert.That(metrics, Does.Contain("tt_rejected_batches_total{reason=\"invalid_visitor_id\",site=\"\"}"), "counted, without a site");
            Assert.That(metrics, Does.Not.Contain(madeUp));
        });
    }

    [Test]
    public async Task A_page_of_another_domain_may_not_send_for_a_configured_site()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect")
        {
            Content = Beacons.AsText(Beacons.Pageview("https://shop.example/", site: "shop")),
        };
        request.Headers.Add("Origin", "https://elsewhere.test");

        using var refused = await _http.SendAsync(request);
        using var allowed = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://www.shop.example/", site: "shop")));

        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(allowed.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        });
    }

    [Test]
    public async Task Origin_null_is_treated_as_absent_and_the_page_url_is_checked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://elsewhere.test/", site: "shop")) };
        request.Headers.Add("Origin", "null");
        using var fromElsewhere = await _http.SendAsync(request);
        using var request2 = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://shop.example/", site: "shop")) };
        request2.Headers.Add("Origin", "null");
        using var fromShop = await _http.SendAsync(request2);

        Assert.Multiple(() =>
        {
            Assert.That(fromElsewhere.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(fromShop.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        });
    }

    [Test]
    public async Task An_event_url_on_another_domain_is_refused_even_from_an_allowed_origin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://elsewhere.test/page", site: "shop")) };
        request.Headers.Add("Origin", "https://shop.example");

        using var response = await _http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That((string?)problem["reason"], Is.EqualTo("url_not_allowed"));
        Assert.That(await _http.GetStringAsync("/metrics"), Does.Contain("tt_rejected_events_total{reason=\"url_not_allowed\",site=\"shop\"}"));
    }

    [Test]
    public async Task Credentialed_cors_headers_go_to_allowed_origins_only()
    {
        using var evil = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://shop.example/", site: "shop")) };
        evil.Headers.Add("Origin", "https://evil.test");
        using var refused = await _http.SendAsync(evil);
        using var good = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://shop.example/", site: "shop")) };
        good.Headers.Add("Origin", "https://www.shop.example");
        using var accepted = await _http.SendAsync(good);

        Assert.Multiple(() =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(refused.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("*"));
            Assert.That(refused.Headers.Contains("Access-Control-Allow-Credentials"), Is.False);
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(accepted.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("https://www.shop.example"));
            Assert.That(accepted.Headers.GetValues("Access-Control-Allow-Credentials").Single(), Is.EqualTo("true"));
        });
    }

    [Test]
    public async Task A_preflight_echoes_only_an_origin_some_site_allows()
    {
        // The demo site (any origin) is replaced, so no site accepts every origin.
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Collector:Sites:demo:Domains:0"] = "shop.example" });
        using var http = host.CreateClient();

        async Task<HttpResponseMessage> PreflightAsync(string origin)
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/collect");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            return await http.SendAsync(preflight);
        }
        using var evil = await PreflightAsync("https://evil.test");
        using var shop = await PreflightAsync("https://shop.example");

        Assert.Multiple(() =>
        {
            Assert.That(evil.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("*"));
            Assert.That(evil.Headers.Contains("Access-Control-Allow-Credentials"), Is.False);
            Assert.That(shop.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo("https://shop.example"));
            Assert.That(shop.Headers.GetValues("Access-Control-Allow-Credentials").Single(), Is.EqualTo("true"));
        });
    }

    [Test]
    public async Task Personal_data_in_urls_is_redacted_before_the_touchpoint_leaves_the_collector()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var body = JsonNode.Parse(Beacons.Pageview("https://shop.example/welcome?email=alice%40example.com&token=s3cr3t&utm_source=news&utm_content=bob%40example.org",
            referrer: "https://mail.example/read?to=carol@example.net&folder=inbox", visitor: visitor))!;
        body["land"] = new JsonObject { ["url"] = "https://shop.example/welcome?email=alice%40example.com&utm_source=news", ["ref"] = "" };

        using var response = await _http.PostAsync("/collect", Beacons.AsText(body.ToJsonString()));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var tp = (await WaitForEventsAsync(visitor, 1))[0]!;
        var json = tp.ToJsonString();
        Assert.Multiple(() =>
        {
            Assert.That(json, Does.Not.Contain("alice").And.Not.Contain("bob").And.Not.Contain("carol").And.Not.Contain("s3cr3t"));
            Assert.That((string?)tp["page"]!["url"], Is.EqualTo("https://shop.example/welcome?email=redacted&token=redacted&utm_source=news&utm_content=redacted"));
            Assert.That((string?)tp["landing"]!["url"], Is.EqualTo("https://shop.example/welcome?email=redacted&utm_source=news"));
            Assert.That((string?)tp["referrer"]!["url"], Is.EqualTo("https://mail.example/read?to=redacted&folder=inbox"));
            Assert.That((string?)tp["campaign"]!["source"], Is.EqualTo("news"));
        });
    }

    [Test]
    public async Task A_site_can_keep_only_allowed_parameters()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:strict:Domains:0"] = "strict.example",
            ["Collector:Sites:strict:Privacy:KeepOnlyAllowedParameters"] = "true",
            ["Collector:Sites:strict:Privacy:AllowParameters:0"] = "page",
        });
        using var http = host.CreateClient();
        var visitor = "v-" + Guid.NewGuid().ToString("N");

        using var response = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://strict.example/list?page=2&order_id=991&utm_medium=cpc&gclid=g1", site: "strict", visitor: visitor)));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={visitor}"))!.AsArray();
        for (var i = 0; i < 200 && events.Count == 0; i++)
        {
            await Task.Delay(50);
            events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={visitor}"))!.AsArray();
        }
        Assert.That((string?)events.Single()!["page"]!["url"], Is.EqualTo("https://strict.example/list?page=2&utm_medium=cpc&gclid=g1"));
    }

    [Test]
    public async Task The_tag_is_served_with_an_etag_and_revalidated()
    {
        using var first = await _http.GetAsync("/tt.js");
        var etag = first.Headers.ETag;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tt.js");
        request.Headers.IfNoneMatch.Add(etag!);
        using var second = await _http.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(first.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
            Assert.That(first.Headers.CacheControl?.Public, Is.True);
            Assert.That(etag, Is.Not.Null);
            Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        });
        var script = await first.Content.ReadAsStringAsync();
        Assert.That(script, Does.Contain("collect"));
    }

    [Test]
    public async Task Every_tag_build_is_served_compressed_when_asked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tt.full.js");
        request.Headers.AcceptEncoding.ParseAdd("br");
        using var full = await _http.SendAsync(request);
        var core = await _http.GetByteArrayAsync("/tt.js");

        Assert.Multiple(() =>
        {
            Assert.That(full.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(full.Content.Headers.ContentEncoding, Is.EqualTo(new[] { "br" }));
            Assert.That(full.Content.Headers.ContentLength, Is.LessThan(core.Length), "brotli body smaller than the raw core");
        });
    }

    [TestCase("/tt.js", "", "/tt.js")]
    [TestCase("/tt.js", "full", "/tt.full.js")]
    [TestCase("/a/b", "full", "/a/b.full")]
    [TestCase("/s.v2/x.js", "full", "/s.v2/x.full.js")]
    public void Variants_are_served_beside_the_core_path(string core, string variant, string expected) =>
        Assert.That(Serving.TagAssets.PathFor(core, variant), Is.EqualTo(expected));

    [Test]
    public async Task Health_readiness_and_metrics_answer()
    {
        using var live = await _http.GetAsync("/healthz");
        using var ready = await _http.GetAsync("/readyz");
        var metrics = await _http.GetStringAsync("/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(metrics, Does.Contain("# TYPE tt_accepted_events_total counter"));
            Assert.That(metrics, Does.Contain("tt_buffer_depth"));
        });
    }

    [Test]
    public async Task The_inspection_api_refuses_a_silly_limit()
    {
        using var response = await _http.GetAsync("/api/events?limit=0");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    private async Task<JsonArray> GetEventsAsync(string visitor) =>
        JsonNode.Parse(await _http.GetStringAsync($"/api/events?limit=1000&visitor={visitor}"))!.AsArray();

    private async Task<JsonArray> WaitForEventsAsync(string visitor, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var events = await GetEventsAsync(visitor);
            if (events.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.That(events, Has.Count.EqualTo(count), $"staged events of {visitor}");
                return events;
            }
            await Task.Delay(50);
        }
    }

    private async Task<long> RejectedCountAsync(string reason)
    {
        var metrics = await _http.GetStringAsync("/metrics");
        return metrics.Split('\n')
            .Where(l => l.StartsWith("tt_rejected_batches_total{", StringComparison.Ordinal) && l.Contains($"reason=\"{reason}\"", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
