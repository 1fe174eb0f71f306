using System.Net;
using System.Text;
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

    /// <summary>Bodies that made POST /collect answer 500 (issue 12, item 1).</summary>
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
}
