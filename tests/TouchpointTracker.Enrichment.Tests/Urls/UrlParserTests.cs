using TouchpointTracker.Enrichment.Urls;

namespace TouchpointTracker.Enrichment.Tests.Urls;

public class UrlParserTests
{
    [TestCase("https://www.Example.COM/Path/To?a=1&b=2#frag", "www.example.com", "/Path/To", "a=1&b=2")]
    [TestCase("http://example.com", "example.com", "/", null)]
    [TestCase("http://example.com?x=1", "example.com", "/", "x=1")]
    [TestCase("https://user:pw@example.com:8443/p", "example.com", "/p", null)]
    [TestCase("https://example.com./p", "example.com", "/p", null)]
    [TestCase("//cdn.example.com/a.js?v=3", "cdn.example.com", "/a.js", "v=3")]
    [TestCase("www.example.com/landing?utm_source=x", "www.example.com", "/landing", "utm_source=x")]
    [TestCase("www.example.com:8080/x", "www.example.com", "/x", null)]
    [TestCase("/relative/path?q=1", null, "/relative/path", "q=1")]
    [TestCase("http://[2001:DB8::1]:8080/x", "[2001:db8::1]", "/x", null)]
    [TestCase("http://192.0.2.1/", "192.0.2.1", "/", null)]
    [TestCase("android-app://com.google.android.gm/", "com.google.android.gm", "/", null)]
    [TestCase("https://example.com\\evil", "example.com", "\\evil", null)]
    [TestCase("  https://example.com/a  ", "example.com", "/a", null)]
    [TestCase("https://example.com/#/route?x=1", "example.com", "/", null)]
    public void Splits_urls(string url, string? host, string? path, string? query)
    {
        var parsed = UrlParser.Parse(url);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.HasValue, Is.True);
            Assert.That(parsed.Host, Is.EqualTo(host));
            Assert.That(parsed.Path, Is.EqualTo(path));
            Assert.That(parsed.Query, Is.EqualTo(query));
        });
    }

    [TestCase("about:blank")]
    [TestCase("javascript:alert(1)")]
    [TestCase("mailto:someone@example.com")]
    [TestCase("https://exa mple.com/")]
    [TestCase("https://bad<host>/")]
    [TestCase("https://../")]
    [TestCase("http://[::1/")]
    [TestCase("https://-start.example/")]
    [TestCase("http://例子.测试/")]
    public void Rejects_hosts_that_are_not_hosts(string url)
    {
        Assert.That(UrlParser.Parse(url).Host, Is.Null);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    public void Blank_is_no_url(string? url)
    {
        var parsed = UrlParser.Parse(url);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.HasValue, Is.False);
            Assert.That(parsed.Host, Is.Null);
            Assert.That(parsed.Path, Is.Null);
            Assert.That(parsed.Query, Is.Null);
            Assert.That(parsed.QuerySpan.IsEmpty, Is.True);
        });
    }

    [Test]
    public void Bounds_very_long_urls()
    {
        var url = "https://example.com/?q=" + new string('a', 100_000);
        var parsed = UrlParser.Parse(url);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.Url!, Has.Length.EqualTo(EnrichmentLimits.MaxUrlLength));
            Assert.That(parsed.Host, Is.EqualTo("example.com"));
        });
    }

    [Test]
    public void Host_longer_than_dns_limit_is_rejected()
    {
        Assert.That(UrlParser.Parse("https://" + new string('a', 300) + ".com/").Host, Is.Null);
    }

    [Test]
    public void Never_throws_on_random_input()
    {
        var random = new Random(1234);
        const string alphabet = "ab:/?#&=%[]@.\\ +-_\u00e9\u0000\ud83d\ude00";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var parsed = UrlParser.Parse(new string(chars));
            _ = parsed.Path;
            _ = parsed.Query;
            foreach (var p in parsed.Parameters)
            {
                _ = p.DecodeValue();
            }
        }

        Assert.Pass();
    }
}
