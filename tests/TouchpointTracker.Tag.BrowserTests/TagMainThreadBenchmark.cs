using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// Benchmark (not a test: prints figures): the tag's own main-thread time per page view in Chromium, read from
/// Chromium's trace of each page load, for the tag the collector serves and, in the same run and interleaved, the
/// previous build (Fixtures/bench/tt.before.js), so that a loaded machine shows up in both.
/// </summary>
/// <remarks>
/// What counts is what the renderer's main thread spends in the tag's script and nothing else: the trace events
/// Chromium attributes to the tag's URL on the page's main thread, outermost only (nested ones are inside them).
/// <list type="bullet">
/// <item><b>script run</b> (the critical path: the page's parser waits for it): compiling and running the script
/// (EvaluateScript, v8.compile, v8.produceCache);</item>
/// <item><b>per page view</b>: that plus every later call into the tag while the page loads and for 0.5 s after
/// (FunctionCall: its start-up task, timers, listeners, the beacon's answer).</item>
/// </list>
/// Each as wall time (what the page waits; on a busy machine it includes time the thread was not scheduled, and
/// synchronous round trips to the browser process, such as the first document.cookie read) and as the main
/// thread's CPU time (trace "tdur"), the figure least moved by the machine's load. The breakdown lists the
/// costliest trace events inside the tag's (cookie reads and writes, starting the beacon's request, compiling,
/// producing the code cache). The download is not counted (it happens off the main thread), nor is anything the
/// fixture page does itself. First visit = a fresh browser context (nothing stored, the tag not cached); later
/// visits = three more loads of the page in that context (the tag cached, its code cache built).
/// An earlier version of this benchmark timed from the tag's responseEnd to a performance mark after the script:
/// that also counts the wait between the download's end and the parser getting the main thread back, which on a
/// busy machine is most of the figure and is not the tag's work.
/// </remarks>
public class TagMainThreadBenchmark
{
    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("TT_BENCH_RUNS"), out var n) && n > 0 ? n : 20;

    /// <summary>
    /// TT_BENCH_BUSY_PAGE=1 adds a third page, interleaved with the two others: the same tt.js on a page whose own
    /// inline script has already used navigator, screen, crypto, localStorage, the cookie, history and the fetch
    /// types, as a site's other scripts usually have by the time the tag runs. The first touch of each interface
    /// sets it up for the page once, whoever makes it; this page tells that one-off set-up from the tag's own work.
    /// </summary>
    private static readonly bool BusyPage = Environment.GetEnvironmentVariable("TT_BENCH_BUSY_PAGE") == "1";

    /// <summary>
    /// TT_BENCH_VARIANTS=a,b adds one page per name, interleaved with the others: Fixtures/bench/variant.html loading
    /// Fixtures/bench/NAME.js (a build of the tag with one thing changed, dropped there for an A/B), served and
    /// cached as the previous build is.
    /// </summary>
    private static readonly string[] Variants =
        (Environment.GetEnvironmentVariable("TT_BENCH_VARIANTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// TT_BENCH_TRACE_DIR=dir writes every traced page load there (build-visit-N.json) for a closer look, and
    /// TT_BENCH_CATEGORIES=a,b adds trace categories (e.g. disabled-by-default-v8.compile): both for profiling a
    /// change, not for the figures (more categories cost the traced page more).
    /// </summary>
    private static readonly string? TraceDir = Environment.GetEnvironmentVariable("TT_BENCH_TRACE_DIR");

    private static readonly string[] Categories =
    [
        "devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink", "loading",
        .. (Environment.GetEnvironmentVariable("TT_BENCH_CATEGORIES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    ];

    [Test, Explicit("benchmark: prints figures, run on an idle machine")]
    public async Task Benchmark_main_thread_time_of_the_tag_per_page_view()
    {
        var collectorTag = new Uri(TagEnvironment.Collector.BaseAddress, "/tt.js").ToString();
        var builds = new List<(string Name, string Page, string TagUrl)>
        {
            ("tt.js (collector)", "/bench.html", collectorTag),
            ("previous build", "/bench/before.html", TagEnvironment.Pages.Url("/bench/tt.before.js")),
        };
        if (BusyPage)
        {
            // The same tag on a page whose own script already touched the interfaces the tag uses (Fixtures/bench/busy.html).
            builds.Add(("tt.js (collector) on a page already using the platform", "/bench/busy.html", collectorTag));
        }
        foreach (var v in Variants)
        {
            builds.Add(($"variant {v}", $"/bench/variant.html?variant={Uri.EscapeDataString(v)}", TagEnvironment.Pages.Url($"/bench/{v}.js")));
        }
        var first = builds.Select(_ => new List<TagCost>()).ToArray();
        var later = builds.Select(_ => new List<TagCost>()).ToArray();
        var loadBefore = LoadAverage();
        for (var run = 0; run < Runs; run++)
        {
            for (var b = 0; b < builds.Count; b++)
            {
                await using var s = await TagSession.OpenAsync();
                first[b].Add(await TracedVisitAsync(s.Page, builds[b].Page, builds[b].TagUrl, $"{b}-{run}-0"));
                for (var j = 0; j < 3; j++)
                {
                    later[b].Add(await TracedVisitAsync(s.Page, builds[b].Page, builds[b].TagUrl, $"{b}-{run}-{j + 1}"));
                }
            }
        }
        var loadAfter = LoadAverage();
        var o = TestContext.Out;
        o.WriteLine($"load average (1, 5, 15 min): before {loadBefore}, after {loadAfter}; {Environment.ProcessorCount} cores");
        for (var b = 0; b < builds.Count; b++)
        {
            foreach (var (visits, costs) in new[] { ("first visit", first[b]), ("later visits", later[b]) })
            {
                o.WriteLine($"{builds[b].Name}, {visits} ({costs.Count} page views), median / p90:");
                o.WriteLine($"  script run (critical path): CPU {Fig(costs, c => c.ScriptCpu)}, wall {Fig(costs, c => c.ScriptWall)}");
                o.WriteLine($"  per page view (script run + its later tasks): CPU {Fig(costs, c => c.TotalCpu)}, wall {Fig(costs, c => c.TotalWall)}");
                foreach (var part in costs.SelectMany(c => c.Parts.Keys).Distinct().Order(StringComparer.Ordinal))
                {
                    o.WriteLine($"    {part}: wall {Fig(costs, c => c.Parts.GetValueOrDefault(part))}, CPU {Fig(costs, c => c.PartsCpu.GetValueOrDefault(part))}");
                }
            }
        }
    }

    private static async Task<TagCost> TracedVisitAsync(IPage page, string path, string tagUrl, string name)
    {
        // Chromium's tracing through the browser's DevTools protocol session (what Playwright's Node API calls
        // startTracing), the events reported as they are collected.
        var cdp = await TagEnvironment.Browser.NewBrowserCDPSessionAsync();
        var chunks = new List<string>();
        var complete = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cdp.Event("Tracing.dataCollected").OnEvent += (_, e) =>
        {
            if (e is { } p && p.TryGetProperty("value", out var value))
            {
                lock (chunks)
                {
                    chunks.AddRange(value.EnumerateArray().Select(x => x.GetRawText()));
                }
            }
        };
        cdp.Event("Tracing.tracingComplete").OnEvent += (_, _) => complete.TrySetResult();
        await cdp.SendAsync("Tracing.start", new Dictionary<string, object>
        {
            ["transferMode"] = "ReportEvents",
            ["traceConfig"] = new Dictionary<string, object> { ["includedCategories"] = Categories },
        });
        try
        {
            await page.GotoAsync(TagEnvironment.Pages.Url(path), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            await Task.Delay(500); // the start-up task, the beacon's answer
        }
        finally
        {
            await cdp.SendAsync("Tracing.end");
            await complete.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await cdp.DetachAsync();
        }
        string json;
        lock (chunks)
        {
            json = "[" + string.Join(",", chunks) + "]";
        }
        if (TraceDir is not null)
        {
            Directory.CreateDirectory(TraceDir);
            await File.WriteAllTextAsync(Path.Combine(TraceDir, name + ".json"), json);
        }
        return TagTrace.Measure(System.Text.Encoding.UTF8.GetBytes(json), tagUrl);
    }

    private static string Fig(List<TagCost> costs, Func<TagCost, double> f)
    {
        var xs = costs.Select(f).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{xs[xs.Count / 2]:F2} / {xs[xs.Count * 9 / 10]:F2} ms");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

/// <summary>The tag's main-thread time in one page load, in milliseconds.</summary>
public sealed record TagCost(double ScriptWall, double ScriptCpu, double TotalWall, double TotalCpu, IReadOnlyDictionary<string, double> Parts, IReadOnlyDictionary<string, double> PartsCpu);

/// <summary>Reads a Chromium trace (JSON, as Playwright's StopTracingAsync returns it): what the tag's script cost the page's main thread.</summary>
public static class TagTrace
{
    /// <summary>Trace events Chromium attributes to a script's URL: compiling, running, caching, and every call into it.</summary>
    private static readonly HashSet<string> ScriptEvents = ["EvaluateScript", "v8.compile", "v8.produceCache", "FunctionCall"];

    /// <summary>The trace events inside the tag's that the breakdown names.</summary>
    private static readonly Dictionary<string, string> PartNames = new(StringComparer.Ordinal)
    {
        ["CookieJar::Cookies"] = "document.cookie reads",
        ["CookieJar::SetCookie"] = "document.cookie writes",
        ["ResourceFetcher::requestResource"] = "starting the beacon's request (fetch)",
        ["v8.compile"] = "compiling",
        ["v8.produceCache"] = "producing the code cache",
    };

    private static readonly bool AllParts = Environment.GetEnvironmentVariable("TT_BENCH_ALL_PARTS") == "1";

    private sealed record Event(string Name, string Thread, double Ts, double Dur, double? ThreadDur, string? Url);

    public static TagCost Measure(byte[] trace, string tagUrl)
    {
        using var doc = JsonDocument.Parse(trace);
        var root = doc.RootElement;
        var list = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("traceEvents", out var te) ? te : root;
        var mainThreads = new HashSet<string>(StringComparer.Ordinal);
        var events = new List<Event>();
        foreach (var e in list.EnumerateArray())
        {
            var name = Str(e, "name");
            var ph = Str(e, "ph");
            var thread = $"{Raw(e, "pid")}:{Raw(e, "tid")}";
            var args = e.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
            if (ph == "M" && name == "thread_name" && args.ValueKind == JsonValueKind.Object && Str(args, "name") == "CrRendererMain")
            {
                mainThreads.Add(thread);
            }
            else if (ph == "X" && name is not null && e.TryGetProperty("dur", out var dur) && e.TryGetProperty("ts", out var ts))
            {
                var data = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
                var url = data.ValueKind == JsonValueKind.Object ? Str(data, "url") : null;
                double? tdur = e.TryGetProperty("tdur", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                events.Add(new Event(name, thread, ts.GetDouble(), dur.GetDouble(), tdur, url));
            }
        }
        var onMain = events.Where(e => mainThreads.Contains(e.Thread)).ToList();
        var tag = onMain.Where(e => ScriptEvents.Contains(e.Name) && e.Url == tagUrl).ToList();
        var outer = tag.Where(e => !tag.Any(o => !ReferenceEquals(o, e) && Contains(o, e))).ToList();
        double scriptWall = 0, scriptCpu = 0, totalWall = 0, totalCpu = 0;
        var parts = new Dictionary<string, double>(StringComparer.Ordinal);
        var partsCpu = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in outer)
        {
            var cpu = e.ThreadDur ?? e.Dur;
            totalWall += e.Dur;
            totalCpu += cpu;
            if (e.Name != "FunctionCall")
            {
                scriptWall += e.Dur;
                scriptCpu += cpu;
            }
            foreach (var inner in onMain)
            {
                if (!ReferenceEquals(inner, e) && Contains(e, inner) && (PartNames.TryGetValue(inner.Name, out var part) || (AllParts && (part = "(" + inner.Name + ")") is not null)))
                {
                    var key = (e.Name == "FunctionCall" ? "later tasks: " : "script run: ") + part;
                    parts[key] = parts.GetValueOrDefault(key) + inner.Dur / 1000;
                    partsCpu[key] = partsCpu.GetValueOrDefault(key) + (inner.ThreadDur ?? inner.Dur) / 1000;
                }
            }
        }
        return new TagCost(scriptWall / 1000, scriptCpu / 1000, totalWall / 1000, totalCpu / 1000, parts, partsCpu);
    }

    private static bool Contains(Event outer, Event inner) =>
        outer.Thread == inner.Thread && outer.Ts <= inner.Ts && outer.Ts + outer.Dur >= inner.Ts + inner.Dur;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Raw(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetRawText() : "";
}
