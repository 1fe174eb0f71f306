using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Journeys;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// Hostile requests against the real collector on Kestrel: each gets a 4xx with a reason or a bounded 2xx,
/// never a 5xx, and the process stays healthy.
/// </summary>
public class HostileInputTests
{
    private CollectorHost _host = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync();
        _http = _host.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static string Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bodies that made POST /collect answer 500.</summary>
    public static IEnumerable<TestCaseData> BadText()
    {
        string Beacon(string vid, string title, string props) =>
            $$"""{"v":1,"site":"demo","vid":{{vid}},"sid":"s","events":[{"id":"{{Guid.NewGuid()}}","type":"pageview","ts":{{Now}},"url":"https://a.example/","title":{{title}},"props":{{props}}}],"sent":{{Now}}}""";
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"v\"", "\"\\ud83d\"", "{}"))).SetName("unpaired surrogate in a title");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"v\"", "\"t\"", "{\"plan\":\"" + new string('x', 255) + "\\ud83d\"}"))).SetName("a prop cut inside an emoji");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"\\udc00\"", "\"t\"", "{}"))).SetName("unpaired surrogate in vid");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"v\"", "\"t\"", "{\"\\ud83d\":1}"))).SetName("unpaired surrogate in a prop name");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"v\"", "\"t\"", "{}")).Select(b => b == (byte)'t' ? (byte)0xff : b).ToArray()).SetName("invalid UTF-8 bytes");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Beacon("\"v\"", "\"t\"", "{}").Replace("\"title\"", "\"\\ud83d\"", StringComparison.Ordinal))).SetName("unpaired surrogate in a property name");
    }

    [TestCaseSource(nameof(BadText))]
    public async Task Text_that_is_not_unicode_gets_a_4xx_not_a_500(byte[] body)
    {
        using var post = await _http.PostAsync("/collect", new ByteArrayContent(body) { Headers = { ContentType = new("text/plain") } });
        using var pixel = await _http.GetAsync("/collect?d=" + Convert.ToBase64String(body).TrimEnd('=').Replace('+', '-').Replace('/', '_'));

        Assert.Multiple(() =>
        {
            Assert.That((int)post.StatusCode, Is.InRange(400, 499).Or.EqualTo(202), "POST");
            Assert.That((int)pixel.StatusCode, Is.InRange(400, 499).Or.EqualTo(200), "pixel");
        });
        if (post.StatusCode == HttpStatusCode.Accepted)
        {
            Assert.That(await post.Content.ReadAsStringAsync(), Does.Contain("\"accepted\":0"), "the bad event refused alone");
        }
        using var health = await _http.GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>A beacon of <paramref name="events"/> page views with the given landing fields, as bytes.</summary>
    private static string LandingBeacon(string visitor, string landUrl, string landRef, int events)
    {
        var items = string.Join(",", Enumerable.Range(0, events).Select(i =>
            $$"""{"id":"{{Guid.NewGuid()}}","type":"pageview","ts":{{Now}},"url":"https://a.example/{{i}}"}"""));
        return $$"""{"v":1,"site":"demo","vid":"{{visitor}}","sid":"s","land":{"url":"{{landUrl}}","ref":"{{landRef}}"},"events":[{{items}}],"sent":{{Now}}}""";
    }

    [TestCase("url", "https://a.example/?x=", 57_000, "url_too_long")]
    [TestCase("ref", "https://ref.example/?x=", 57_000, "url_too_long")]
    [TestCase("url", "javascript:alert(7)//", 10, "invalid_url")]
    [TestCase("ref", "data:text/html,", 10, "invalid_url")]
    public async Task An_oversized_or_non_http_landing_field_is_refused(string field, string prefix, int padding, string reason)
    {
        var value = prefix + new string('x', padding);
        var body = LandingBeacon("v-" + Guid.NewGuid().ToString("N"), field == "url" ? value : "https://a.example/", field == "ref" ? value : "", 1);

        using var response = await _http.PostAsync("/collect", new StringContent(body, Encoding.UTF8, "text/plain"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await response.Content.ReadAsStringAsync());
        Assert.That((string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["reason"], Is.EqualTo(reason));
    }

    [Test]
    public async Task The_worst_accepted_landing_request_stays_within_bounded_output_and_state()
    {
        // A 65 KB request with a 57 KB land.url and 100 events staged 5.8 MB. The largest landing
        // still accepted is MaxUrlLength (2,048) long; with 100 events it must stage well under 1 MB, and the
        // visitor's journey state must stay a few KB.
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var body = LandingBeacon(visitor, "https://a.example/?x=" + new string('x', 2048 - 21), "https://ref.example/?y=" + new string('y', 2048 - 23), 100);
        Assert.That(body.Length, Is.LessThan(64 * 1024));

        using var response = await _http.PostAsync("/collect", new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());

        var staged = await WaitForStagedAsync(visitor, 100);
        var stagedBytes = Encoding.UTF8.GetByteCount(staged);
        var store = _host.Services.GetRequiredService<InMemoryJourneyStore>();
        var stateBytes = JsonSerializer.SerializeToUtf8Bytes(store.GetOrCreate("demo", visitor), JourneysJsonContext.Default.JourneyState).Length;
        Assert.Multiple(() =>
        {
            Assert.That(stagedBytes, Is.LessThan(100 * 6 * 1024), "staged output of 100 touchpoints, landing fields included");
            Assert.That(stateBytes, Is.LessThan(8 * 1024), "journey state of the visitor");
        });
    }

    private async Task<string> WaitForStagedAsync(string visitor, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var json = await _http.GetStringAsync($"/api/events?limit=1000&visitor={visitor}");
            var n = JsonNode.Parse(json)!.AsArray().Count;
            if (n >= count || DateTime.UtcNow > deadline)
            {
                Assert.That(n, Is.EqualTo(count), "staged events");
                return json;
            }
            await Task.Delay(50);
        }
    }

    [Test]
    public async Task The_inspection_api_is_never_sniffed_and_the_demo_pages_have_a_csp_and_cannot_be_framed()
    {
        using var events = await _http.GetAsync("/api/events?limit=1");
        using var refused = await _http.GetAsync("/api/events?limit=0");
        using var demo = await _http.GetAsync("/demo/");

        Assert.Multiple(() =>
        {
            Assert.That(events.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
            Assert.That(refused.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
            Assert.That(demo.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(demo.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
            var csp = demo.Headers.GetValues("Content-Security-Policy").Single();
            Assert.That(csp, Does.Contain("frame-ancestors 'none'").And.Contain("script-src 'self' 'sha256-").And.Not.Contain("unsafe-inline"));
        });
    }

    [Test]
    public async Task The_embedded_mode_on_a_public_address_without_an_inspection_key_refuses_to_start()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:0" });
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        await Task.Delay(TimeSpan.FromSeconds(10), stopping).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.That(stopping.IsCancellationRequested, Is.True, "the collector stops itself");
        Assert.That(Environment.ExitCode, Is.EqualTo(1));
        Environment.ExitCode = 0;
    }

    [Test]
    public async Task With_an_inspection_key_the_api_needs_it()
    {
        const string key = "k-0123456789abcdef";
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:0", ["Collector:InspectApiKey"] = key });
        var port = host.BaseAddress.Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var without = await http.GetAsync("/api/events");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/events") { Headers = { { "X-Api-Key", "k-0123456789abcdeX" } } };
        using var wrongResponse = await http.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/api/events") { Headers = { { "X-Api-Key", key } } };
        using var rightResponse = await http.SendAsync(right);

        Assert.Multiple(() =>
        {
            Assert.That(without.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(wrongResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(rightResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, Is.False);
        });
    }

    [Test]
    public void An_image_that_requires_an_explicit_mode_refuses_to_start_without_one()
    {
        var ex = Assert.CatchAsync(async () => await (await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Collector:RequireExplicitMode"] = "true" })).DisposeAsync());
        Assert.That(ex!.Message, Does.Contain("Collector:Mode"));
    }

    /// <summary>Requests against every public endpoint: malformed, oversized, wrong types, odd encodings, header abuse.</summary>
    public static IEnumerable<TestCaseData> HostileRequests()
    {
        HttpRequestMessage Post(string body, string? type = "text/plain") =>
            new(HttpMethod.Post, "/collect") { Content = type is null ? new ByteArrayContent(Encoding.UTF8.GetBytes(body)) : new StringContent(body, Encoding.UTF8, type) };
        var now = Now;
        var valid = $$"""{"v":1,"site":"demo","vid":"v","sid":"s","events":[{"id":"e","type":"pageview","ts":{{now}},"url":"https://a.example/"}],"sent":{{now}}}""";
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post("{\"v\":1,\"site\":{\"a\":1}}"))).SetName("site of the wrong type");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post("{\"v\":1e400}"))).SetName("version out of range");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(new string('[', 100_000)))).SetName("deep nesting over the body limit");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(new string('[', 1000)))).SetName("deep nesting");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(valid.Replace("\"events\"", "\"events\":1,\"events\"", StringComparison.Ordinal)))).SetName("repeated property");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(valid, "application/xml"))).SetName("wrong content type");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post("\uFEFF" + valid))).SetName("byte order mark");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(valid.Replace("https://a.example/", "https://a.example/" + new string('%', 2000), StringComparison.Ordinal)))).SetName("percent storm in a url");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => Post(valid.Replace("\"ts\":" + now, "\"ts\":-9223372036854775808", StringComparison.Ordinal)))).SetName("minimum long timestamp");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Get, "/collect?d=" + new string('A', 200_000)))).SetName("oversized pixel");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Get, "/collect?d=%FF%FE&d=x"))).SetName("pixel with bad encoding twice");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Get, "/api/events?limit=abc&visitor=%00"))).SetName("inspection api with wrong types");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Get, "/api/events?limit=99999999999999999999"))).SetName("inspection api with a huge limit");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Get, "/tt.js?" + new string('x', 8000)) { Headers = { { "If-None-Match", "\"" + new string('x', 4000) + "\"" } } })).SetName("tag with odd validators");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() =>
        {
            var r = Post(valid);
            r.Headers.TryAddWithoutValidation("X-Forwarded-For", string.Join(",", Enumerable.Repeat("not-an-ip", 500)));
            r.Headers.TryAddWithoutValidation("Origin", "https://" + new string('a', 3000));
            r.Headers.TryAddWithoutValidation("User-Agent", new string('U', 6000));
            return r;
        })).SetName("header abuse");
        yield return new TestCaseData((Func<HttpRequestMessage>)(() => new HttpRequestMessage(HttpMethod.Options, "/collect") { Headers = { { "Origin", "null" } } })).SetName("preflight from null");
    }

    [TestCaseSource(nameof(HostileRequests))]
    public async Task Every_public_endpoint_answers_hostile_input_with_a_4xx_or_a_bounded_2xx(Func<HttpRequestMessage> make)
    {
        using var request = make();
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.That((int)response.StatusCode, Is.LessThan(500), Encoding.UTF8.GetString(body));
        if ((int)response.StatusCode >= 400 && request.RequestUri!.AbsolutePath == "/collect" && request.Method == HttpMethod.Post)
        {
            Assert.That((string?)JsonNode.Parse(body)!["reason"], Is.Not.Empty, "a refusal says why");
        }
        Assert.That(body.Length, Is.LessThan(256 * 1024), "bounded answer");
        using var health = await _http.GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
