using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>Rate limiting per client IP, forwarded headers from trusted proxies only, the pixel, the collector's own cookie.</summary>
public class EdgeTests
{
    private static async Task<HttpStatusCode> PostFromAsync(HttpClient http, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://a.example/")) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Test]
    public async Task Each_client_ip_behind_a_trusted_proxy_has_its_own_rate_limit()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "2",
        });
        using var http = host.CreateClient();

        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            first.Add(await PostFromAsync(http, "203.0.113.7"));
        }
        var other = await PostFromAsync(http, "198.51.100.9");

        Assert.That(first, Does.Contain(HttpStatusCode.TooManyRequests), "the third request in the same second is over the burst");
        Assert.That(other, Is.EqualTo(HttpStatusCode.Accepted), "another client behind the same proxy has its own bucket");
        var metrics = await http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_rejected_batches_total{reason=\"rate_limited\""));
    }

    [Test]
    public async Task A_429_says_when_to_retry_and_why()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "1",
        });
        using var http = host.CreateClient();
        await PostFromAsync(http, null);

        using var response = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/")));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        Assert.That((string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["reason"], Is.EqualTo("rate_limited"));
    }

    [Test]
    public async Task Forwarded_headers_from_an_untrusted_peer_are_ignored()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "2",
            ["Edge:TrustedProxies:0"] = "10.0.0.0/8",
        });
        using var http = host.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add(await PostFromAsync(http, $"203.0.113.{i + 1}"));
        }

        Assert.That(statuses, Does.Contain(HttpStatusCode.TooManyRequests), "spoofed X-Forwarded-For must not buy a fresh bucket per request");
    }

    private static async Task<List<HttpStatusCode>> PostManyAsync(HttpClient http, int count, Func<int, string> forwardedFor)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            statuses.Add(await PostFromAsync(http, forwardedFor(i)));
        }
        return statuses;
    }

    [Test]
    public async Task By_default_only_loopback_is_a_trusted_proxy_so_a_private_hop_cannot_be_walked_past()
    {
        // With private ranges trusted, "random, 10.0.0.5" made the random value the client.
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "2",
        });
        using var http = host.CreateClient();

        var statuses = await PostManyAsync(http, 4, i => $"198.51.100.{i + 1}, 10.0.0.5");

        Assert.That(statuses, Does.Contain(HttpStatusCode.TooManyRequests), "every request is 10.0.0.5's");
    }

    [Test]
    public async Task The_forward_limit_stops_at_the_configured_number_of_proxies()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "2",
            ["Edge:TrustedProxies:0"] = "127.0.0.0/8",
            ["Edge:TrustedProxies:1"] = "10.0.0.0/8",
        });
        using var http = host.CreateClient();

        // One proxy (the loopback peer): its entry, 10.0.0.5, is the client; the client-written ones left of it are not read.
        var statuses = await PostManyAsync(http, 4, i => $"198.51.100.{i + 1}, 10.0.0.5");

        Assert.That(statuses, Does.Contain(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task Ipv6_clients_are_limited_per_64()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Edge:RateLimitPerSecond"] = "1",
            ["Edge:RateLimitBurst"] = "2",
        });
        using var http = host.CreateClient();

        var sameNetwork = await PostManyAsync(http, 4, i => $"2001:db8:1:2::{i + 1:x}");
        var otherNetwork = await PostFromAsync(http, "2001:db8:1:3::1");

        Assert.Multiple(() =>
        {
            Assert.That(sameNetwork, Does.Contain(HttpStatusCode.TooManyRequests), "addresses of one /64 share a bucket");
            Assert.That(otherNetwork, Is.EqualTo(HttpStatusCode.Accepted), "another /64 has its own");
        });
    }

    [Test]
    public async Task Readiness_details_are_for_callers_on_the_same_host_only()
    {
        await using var host = await CollectorHost.StartAsync();
        using var http = host.CreateClient();
        using var remote = new HttpRequestMessage(HttpMethod.Get, "/readyz");
        remote.Headers.Add("X-Forwarded-For", "203.0.113.5");

        var local = JsonNode.Parse(await http.GetStringAsync("/readyz"))!;
        using var response = await http.SendAsync(remote);
        var anonymous = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(local["checks"]!.AsObject().Select(c => (string?)c.Value!["description"]), Has.Some.Not.Null);
            Assert.That(anonymous["checks"]!.AsObject().Select(c => c.Value!["description"]), Has.All.Null, anonymous.ToJsonString());
            Assert.That(anonymous["checks"]!.AsObject().Select(c => (string?)c.Value!["status"]), Has.All.EqualTo("Healthy"));
        });
    }

    [TestCase("203.0.113.7", "203.0.113.7")]
    [TestCase("::ffff:203.0.113.7", "203.0.113.7")]
    [TestCase("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    public void Rate_limit_keys(string ip, string key) =>
        Assert.That(Hosting.EdgeExtensions.RateLimitKey(IPAddress.Parse(ip)), Is.EqualTo(IPAddress.Parse(key)));

    [Test]
    public async Task The_pixel_takes_a_base64url_beacon_and_answers_a_gif()
    {
        await using var host = await CollectorHost.StartAsync();
        using var http = host.CreateClient();
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var beacon = Beacons.Pageview("https://mail.example/open?utm_source=digest&utm_medium=email&utm_campaign=week48", visitor: visitor);
        var d = Convert.ToBase64String(Encoding.UTF8.GetBytes(beacon)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        using var ok = await http.GetAsync($"/collect?d={d}");
        using var bad = await http.GetAsync("/collect?d=%%%");

        Assert.Multiple(() =>
        {
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(ok.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/gif"));
            Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(bad.Headers.GetValues("X-Reject-Reason").Single(), Is.EqualTo("invalid_json"));
        });
        var staged = await StagedAsync(http, visitor);
        Assert.That((string?)staged["campaign"]!["name"], Is.EqualTo("week48"));
    }

    [Test]
    public async Task The_collectors_own_cookie_keeps_the_visitor_when_the_script_cookie_is_lost()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Edge:VisitorCookieName"] = "tt_vid" });
        using var handler = new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() };
        using var http = new HttpClient(handler) { BaseAddress = host.BaseAddress };
        var original = "v-" + Guid.NewGuid().ToString("N");

        using var first = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/", visitor: original)));
        var setCookie = first.Headers.GetValues("Set-Cookie").Single();
        using var second = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/later", visitor: "v-new-after-cookie-loss")));

        Assert.That(setCookie, Does.Contain("tt_vid=" + original).And.Contain("httponly").IgnoreCase.And.Contain("samesite=lax").IgnoreCase);
        var events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={original}&limit=10"))!.AsArray();
        for (var i = 0; i < 100 && events.Count < 2; i++)
        {
            await Task.Delay(50);
            events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={original}&limit=10"))!.AsArray();
        }
        Assert.That(events.Select(e => (string?)e!["page"]!["path"]), Is.EqualTo(new[] { "/", "/later" }));
    }

    [TestCase("%0A%3Cscript%3Ealert(1)%3C%2Fscript%3E")]
    [TestCase("v%E2%80%AEgnp.exe")]
    [TestCase("v%00x")]
    [TestCase("has%20space")]
    public async Task A_visitor_cookie_that_is_not_a_valid_id_is_ignored(string cookie)
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Edge:VisitorCookieName"] = "tt_vid" });
        using var http = host.CreateClient();
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(Beacons.Pageview("https://a.example/", visitor: visitor)) };
        request.Headers.Add("Cookie", "tt_vid=" + cookie);

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var staged = await StagedAsync(http, visitor);
        Assert.That((string?)staged["visitor_id"], Is.EqualTo(visitor), "the beacon's vid, not the cookie");
        Assert.That(response.Headers.GetValues("Set-Cookie").Single(), Does.StartWith("tt_vid=" + visitor + ";"), "the bad cookie is replaced");
    }

    private static async Task<JsonNode> StagedAsync(HttpClient http, string visitor)
    {
        for (var i = 0; i < 200; i++)
        {
            var events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={visitor}"))!.AsArray();
            if (events.Count > 0)
            {
                return events[0]!;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"nothing staged for {visitor}");
        throw new InvalidOperationException();
    }
}
