using System.Buffers;

namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// Flags automated clients: uap-core's "Spider" device family, plus keywords common in crawler,
/// monitoring, headless-browser and HTTP-library user agents.
/// </summary>
public static class BotDetector
{
    /// <summary>The keywords (matched case-insensitively anywhere in the user agent).</summary>
    public static IReadOnlyList<string> Keywords { get; } =
    [
        "bot", "crawl", "spider", "slurp", "headless", "lighthouse", "pagespeed", "gtmetrix",
        "phantomjs", "selenium", "puppeteer", "playwright", "webdriver", "curl/", "wget/", "python-requests",
        "python-urllib", "python/", "aiohttp", "httpx", "go-http-client", "java/", "apache-httpclient",
        "libwww-perl", "scrapy", "axios/", "node-fetch", "undici", "postmanruntime", "facebookexternalhit",
        "mediapartners-google", "feedfetcher", "pingdom", "uptimerobot", "statuscake", "validator", "bingpreview",
    ];

    private static readonly SearchValues<string> Search = SearchValues.Create([.. Keywords], StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the user agent or its parsed device family says "automated".</summary>
    public static bool IsBot(ReadOnlySpan<char> userAgent, string? deviceFamily = null)
    {
        if (string.Equals(deviceFamily, UserAgentInfo.SpiderFamily, StringComparison.Ordinal))
        {
            return true;
        }

        var offset = 0;
        while (offset < userAgent.Length)
        {
            var i = userAgent[offset..].IndexOfAny(Search);
            if (i < 0)
            {
                return false;
            }

            var at = offset + i;
            if (!IsKnownFalsePositive(userAgent, at))
            {
                return true;
            }

            offset = at + 1;
        }

        return false;
    }

    // "Cubot" is a phone brand; "bot" inside it is no crawler.
    private static bool IsKnownFalsePositive(ReadOnlySpan<char> ua, int at) =>
        at >= 2 && ua[(at - 2)..].StartsWith("cubot", StringComparison.OrdinalIgnoreCase);
}
