using System.Diagnostics;
using System.Net;
using TouchpointTracker.Enrichment.Referrers;
using TouchpointTracker.Enrichment.Urls;
using TouchpointTracker.Enrichment.Tests.Support;
using TouchpointTracker.Enrichment.UserAgents;
using YamlDotNet.Serialization;

namespace TouchpointTracker.Enrichment.Tests.Conformance;

/// <summary>
/// Throughput figures, printed, never asserted (machines are noisy). Explicit: run with
/// <c>dotnet test tests/TouchpointTracker.Enrichment.Tests --filter Category=Benchmark --logger "console;verbosity=detailed"</c>.
/// </summary>
[TestFixture]
[Explicit("benchmark: prints figures, asserts nothing")]
[Category("Benchmark")]
public class Benchmarks
{
    [Test]
    public void User_agent_parsing_cold_vs_cached()
    {
        var path = Path.Combine(TestPaths.UapCoreDirectory, "regexes.yaml");
        if (!File.Exists(path))
        {
            Assert.Ignore("uap-core not installed");
        }

        var agents = LoadAgents(Path.Combine(TestPaths.UapCoreDirectory, "tests", "test_ua.yaml"));
        foreach (var compile in new[] { false, true })
        {
            var watch = Stopwatch.StartNew();
            var regexes = UserAgentRegexes.LoadFile(path, new UserAgentParserOptions { CompileRegexes = compile });
            var load = watch.Elapsed;
            var warmUp = regexes.WarmUp();
            var parser = new UserAgentParser(regexes);

            var suite = Rate(agents, parser.Parse);
            var browsers = Rate(TypicalBrowsers, parser.Parse);
            var cached = new CachedUserAgentParser(parser, 10_000);
            var cachedRate = Rate(agents.Take(200).ToArray(), cached.Parse);
            TestContext.Out.WriteLine(
                $"compiled={compile}: load {load.TotalMilliseconds:F0} ms + warm-up {warmUp.TotalMilliseconds:F0} ms; uncached: {suite} (test_ua.yaml), {browsers} (6 everyday browsers); " +
                $"cached: {cachedRate} (200 distinct)");
        }
    }

    [Test]
    public void Enricher_without_user_agent_parser()
    {
        using var geo = Geo.GeoLocatorTestsAccess.OpenFixture();
        var enricher = new Enricher(new EnricherOptions
        {
            SiteDomains = new Dictionary<string, string[]> { ["s"] = ["shop.example"] },
            GeoLocator = geo,
        });
        var ip = IPAddress.Parse("81.2.69.1");
        var noGeo = new Enricher(new EnricherOptions { SiteDomains = new Dictionary<string, string[]> { ["s"] = ["shop.example"] } });
        string[] one = ["x"];
        var withGeo = Rate(one, _ => enricher.Enrich("s", "https://www.shop.example/p?utm_source=google&utm_medium=cpc&utm_campaign=x", "https://www.google.fr/", null, null, null, ip));
        var without = Rate(one, _ => noGeo.Enrich("s", "https://www.shop.example/p?utm_source=google&utm_medium=cpc&utm_campaign=x", "https://www.google.fr/", null, null, null, ip));
        TestContext.Out.WriteLine($"Enricher, one thread: url+campaign+referrer+channel {without}; plus geo {withGeo}");
    }

    [Test]
    public void Referrer_classification_mix()
    {
        var site = SiteDomains.None;
        var classifier = ReferrerClassifier.Default;
        var urls = ReferrerMix.Select(u => UrlParser.Parse(u)).ToArray();
        var i = 0;
        var rate = Rate(ReferrerMix, _ => classifier.Classify(urls[i++ % urls.Length], "www.shop.example", site));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 100_000; n++)
        {
            classifier.Classify(urls[n % urls.Length], "www.shop.example", site);
        }

        var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / 100_000.0;
        TestContext.Out.WriteLine($"ReferrerClassifier.Classify, {ReferrerMix.Length} referrers round-robin, one thread: {rate}; {bytes:F1} bytes allocated per call");
    }

    private static readonly string[] ReferrerMix =
    [
        "https://www.google.fr/", "https://www.bing.com/search?q=chaussures+running", "https://l.facebook.com/l.php?u=x",
        "https://deref-gmx.net/mail/client/abc/dereferrer/?redirectUrl=x", "https://mail.orange.fr/webmail/fr_FR/read.html",
        "https://www.lemonde.fr/article", "https://chatgpt.com/", "https://googleads.g.doubleclick.net/pagead/ads",
        "https://www.qwant.com/?q=comparatif&t=web", "https://semalt.com/", "https://t.co/abc", "https://news.example.org/a/b",
    ];

    private static readonly string[] TypicalBrowsers =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    ];

    /// <summary>
    /// Calls <paramref name="action"/> round-robin over <paramref name="inputs"/>: 2 s of warm-up (lets
    /// tiered JIT finish), then 3 s measured. Reports calls per wall-clock second and per CPU second
    /// (the latter is steadier on a shared machine).
    /// </summary>
    private static string Rate<T>(IReadOnlyList<string> inputs, Func<string, T> action)
    {
        var i = 0;
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 2000)
        {
            action(inputs[i++ % inputs.Count]);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.ElapsedMilliseconds < 3000)
        {
            action(inputs[n++ % inputs.Count]);
        }

        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        return $"{n / watch.Elapsed.TotalSeconds:N0}/s ({n / cpuSeconds:N0} per CPU-s)";
    }

    private static List<string> LoadAgents(string path)
    {
        using var reader = File.OpenText(path);
        var doc = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, string?>>>>(reader);
        return doc["test_cases"].Select(c => c["user_agent_string"]).OfType<string>().Distinct().ToList();
    }
}
