using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests.UserAgents;

public class BotDetectorTests
{
    [TestCase("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")]
    [TestCase("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)")]
    [TestCase("Mozilla/5.0 (compatible; YandexBot/3.0)")]
    [TestCase("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36")]
    [TestCase("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse")]
    [TestCase("curl/8.4.0")]
    [TestCase("Wget/1.21.3")]
    [TestCase("python-requests/2.31.0")]
    [TestCase("Go-http-client/2.0")]
    [TestCase("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")]
    [TestCase("Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)")]
    [TestCase("Scrapy/2.11.0 (+https://scrapy.org)")]
    [TestCase("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)")]
    [TestCase("Mozilla/5.0 (compatible; Baiduspider/2.0)")]
    public void Flags_automated_clients(string ua)
    {
        Assert.That(BotDetector.IsBot(ua), Is.True);
    }

    [TestCase("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")]
    [TestCase("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")]
    [TestCase("Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36")]
    [TestCase("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")]
    [TestCase("")]
    public void Leaves_browsers_alone(string ua)
    {
        Assert.That(BotDetector.IsBot(ua), Is.False);
    }

    [Test]
    public void Spider_device_family_is_enough()
    {
        Assert.That(BotDetector.IsBot("Mozilla/5.0", "Spider"), Is.True);
    }
}
