using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>
/// The rendered test template run by a real nginx in front of stand-in collectors: retries, forwarded
/// headers, caching headers, the body limit and the hidden paths behave as nginx.conf says.
/// </summary>
[NonParallelizable]
public sealed class NginxLoadBalancerTests
{
    private readonly List<FakeCollector> _collectors = [];
    private Process? _nginx;
    private string? _prefix;
    private HttpClient _http = null!;

    [SetUp]
    public void RequireNginx() => NginxTests.RequireNginx();

    [TearDown]
    public async Task Stop()
    {
        _http?.Dispose();
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }
        _nginx?.Dispose();
        _nginx = null;
        foreach (var c in _collectors)
        {
            await c.DisposeAsync();
        }
        _collectors.Clear();
        if (_prefix is not null)
        {
            Directory.Delete(_prefix, recursive: true);
            _prefix = null;
        }
    }

    private async Task StartAsync(params int[] upstreamPorts)
    {
        _prefix = Directory.CreateTempSubdirectory("tt-nginx-lb-").FullName;
        var port = Processes.FreePort();
        var conf = Path.Combine(_prefix, "nginx.conf");
        await File.WriteAllTextAsync(conf, NginxTests.RenderTemplate(_prefix, port, upstreamPorts));
        var psi = new ProcessStartInfo("/usr/sbin/nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-p", _prefix, "-c", conf, "-g", "daemon off;" })
        {
            psi.ArgumentList.Add(a);
        }
        _nginx = Process.Start(psi)!;
        var prefix = _prefix;
        await Processes.WaitForPortAsync(port, TimeSpan.FromSeconds(10), () => File.Exists(Path.Combine(prefix, "error.log")) ? File.ReadAllText(Path.Combine(prefix, "error.log")) : "");
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
    }

    private async Task<FakeCollector> CollectorAsync(int collectStatus)
    {
        var c = await FakeCollector.StartAsync(collectStatus);
        _collectors.Add(c);
        return c;
    }

    private static StringContent Beacon(int size = 200) =>
        new("{\"v\":1,\"site\":\"shop\",\"events\":[]," + "\"pad\":\"" + new string('x', size) + "\"}", Encoding.UTF8, "text/plain");

    [TestCase(true, TestName = "A beacon refused (503) by one collector is accepted by the next")]
    [TestCase(false, TestName = "A beacon sent to a dead collector is accepted by the next")]
    public async Task A_failing_collector_costs_no_beacon(bool refusing)
    {
        // 503: its buffer is full, its Redis unreachable, or it is draining. Dead: nothing listens.
        var failing = refusing ? await CollectorAsync(503) : null;
        var healthy = await CollectorAsync(202);
        await StartAsync(failing?.Port ?? Processes.FreePort(), healthy.Port);

        const int beacons = 12;
        for (var i = 0; i < beacons; i++)
        {
            using var response = await _http.PostAsync("/collect", Beacon());
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), $"beacon {i}");
        }
        Assert.That(healthy.Count("POST /collect"), Is.EqualTo(beacons), "each beacon reached the healthy collector exactly once");
        if (failing is not null)
        {
            Assert.That(failing.Count("POST /collect"), Is.GreaterThanOrEqualTo(1), "the refusing collector was tried, and its 503 retried on the next");
            Assert.That(failing.Count("POST /collect"), Is.LessThan(beacons), "passive health: a failing collector is skipped for fail_timeout");
        }
    }

    [Test]
    public async Task A_megabyte_of_offline_events_passes_where_a_beacon_that_size_is_refused()
    {
        var refusing = await CollectorAsync(503);
        var healthy = await CollectorAsync(202);
        await StartAsync(refusing.Port, healthy.Port);

        // A CSV export just under Offline:MaxBodyBytes: reaches a collector whole, after the refusing one's 503.
        var csv = new StringBuilder("event_id,type,occurred_at,visitor_id\n");
        for (var i = 0; csv.Length < 1000 * 1024; i++)
        {
            csv.Append("call-").Append(i).Append(",call,2026-03-01T14:05:00Z,visitor-0123456789abcdef\n");
        }
        var body = Encoding.UTF8.GetBytes(csv.ToString());
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var offline = await _http.PostAsync("/api/v1/offline-events?site=shop", content);
        Assert.That(offline.StatusCode, Is.EqualTo(HttpStatusCode.OK), await offline.Content.ReadAsStringAsync());
        Assert.That(await offline.Content.ReadAsStringAsync(), Is.EqualTo($"{{\"bytes\":{body.Length}}}"), "the whole body reached the collector");
        Assert.That(healthy.Count("POST /api/v1/offline-events"), Is.EqualTo(1));

        using var tooBig = await _http.PostAsync("/api/v1/offline-events?site=shop", new ByteArrayContent(new byte[1024 * 1024 + 1]));
        Assert.That(tooBig.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), "over Offline:MaxBodyBytes: nginx refuses");
        using var beacon = await _http.PostAsync("/collect", Beacon(100 * 1024));
        Assert.That(beacon.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), "beacons keep their 64k limit");
    }

    [Test]
    public async Task When_every_collector_refuses_the_client_gets_503_with_retry_after()
    {
        var a = await CollectorAsync(503);
        var b = await CollectorAsync(503);
        await StartAsync(a.Port, b.Port);

        using var response = await _http.PostAsync("/collect", Beacon());
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter, Is.Not.Null, "the collector's Retry-After reaches the tag");
        Assert.That(a.Count("POST /collect") + b.Count("POST /collect"), Is.EqualTo(2), "one try and one retry (proxy_next_upstream_tries)");
    }

    [Test]
    public async Task Collectors_see_the_client_address_and_scheme()
    {
        var c = await CollectorAsync(202);
        await StartAsync(c.Port);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacon() };
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var (forwardedFor, proto) = c.Forwarded.Last();
        Assert.That(forwardedFor, Is.EqualTo("203.0.113.9, 127.0.0.1"), "nginx appends the peer it saw; the collector trusts only Edge:TrustedProxies");
        Assert.That(proto, Is.EqualTo("http"));
    }

    [Test]
    public async Task The_tag_keeps_its_etag_and_cache_control_and_revalidates()
    {
        var c = await CollectorAsync(202);
        await StartAsync(c.Port);
        using var first = await _http.GetAsync("/tt.js");
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(first.Headers.ETag?.Tag, Is.EqualTo(FakeCollector.TagETag));
        Assert.That(first.Headers.CacheControl?.ToString(), Is.EqualTo(FakeCollector.TagCacheControl));
        Assert.That(first.Headers.Vary, Does.Contain("Accept-Encoding"));

        using var again = new HttpRequestMessage(HttpMethod.Get, "/tt.js");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(FakeCollector.TagETag));
        using var second = await _http.SendAsync(again);
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
    }

    [Test]
    public async Task Oversized_beacons_metrics_and_readiness_stop_at_nginx()
    {
        var c = await CollectorAsync(202);
        await StartAsync(c.Port);

        using (var ok = await _http.PostAsync("/collect", Beacon(60 * 1024)))
        {
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "60 KB is under Collector:MaxBodyBytes");
        }
        using (var tooLarge = await _http.PostAsync("/collect", Beacon(70 * 1024)))
        {
            Assert.That(tooLarge.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        }
        using (var metrics = await _http.GetAsync("/metrics"))
        {
            Assert.That(metrics.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
        using (var ready = await _http.GetAsync("/readyz"))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
        using (var live = await _http.GetAsync("/healthz"))
        {
            Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK), "other paths reach the collectors");
        }
        Assert.That(c.Requests, Is.EquivalentTo(new[] { "POST /collect", "GET /healthz" }));
    }
}
