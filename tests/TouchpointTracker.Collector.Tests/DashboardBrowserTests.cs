using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// The dashboard in headless Chromium against the embedded collector, on a dataset seeded through <c>/collect</c>:
/// every view at 1280 and 390 px, its figures checked against the JSON API, no console error, no sideways
/// scrolling of the page, screenshots attached to the test results.
/// </summary>
[NonParallelizable]
public sealed class DashboardBrowserTests
{
    private const string LockedSite = "acme";
    private const string LockedKey = "acme-read-key-0123456789";

    /// <summary>One pageview: who, how many days ago (minutes before now within that day), session, page, referrer.</summary>
    private sealed record Visit(string Visitor, int DaysAgo, int MinutesAgo, string Session, string Url, string Referrer = "");

    private static readonly Visit[] Seed =
    [
        new("dash-gus", 6, 30, "gus-1", "https://acme.example/demo/", "https://www.google.com/"),
        new("dash-bob", 5, 30, "bob-1", "https://acme.example/demo/blog/?utm_source=newsletter&utm_medium=email&utm_campaign=june"),
        new("dash-fay", 4, 30, "fay-1", "https://acme.example/demo/blog/", "https://partner.example.org/links"),
        new("dash-ann", 3, 40, "ann-1", "https://acme.example/demo/blog/how-to-map-journeys", "https://www.google.com/"),
        new("dash-kim", 3, 30, "kim-1", "https://acme.example/demo/contact/"),
        new("dash-eve", 2, 30, "eve-1", "https://acme.example/demo/compare/", "https://www.linkedin.com/feed/"),
        new("dash-ivy", 2, 20, "ivy-1", "https://acme.example/demo/compare/?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=crm"),
        new("dash-cat", 1, 40, "cat-1", "https://acme.example/demo/pricing/?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=journey+tool", "https://www.google.com/"),
        new("dash-cat", 1, 39, "cat-1", "https://acme.example/demo/contact/"),
        new("dash-jon", 1, 30, "jon-1", "https://acme.example/demo/blog/", "https://www.bing.com/"),
        new("dash-jon", 1, 29, "jon-1", "https://acme.example/demo/compare/"),
        new("dash-ann", 0, 3, "ann-2", "https://acme.example/demo/compare/"),
        new("dash-ann", 0, 2, "ann-2", "https://acme.example/demo/pricing/"),
        new("dash-dan", 0, 2, "dan-1", "https://acme.example/demo/"),
        new("dash-hal", 0, 1, "hal-1", "https://acme.example/demo/pricing/?utm_source=newsletter&utm_medium=email&utm_campaign=june"),
        new("dash-lee", 0, 1, "lee-1", "https://acme.example/demo/blog/", "https://www.linkedin.com/"),
    ];

    private CollectorHost _host = null!;
    private HttpClient _http = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _shots = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Analytics:FlushIntervalMs"] = "200",
            [$"Analytics:ApiKeys:{LockedSite}:0"] = LockedKey,
        });
        _http = _host.CreateClient();
        _shots = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(_shots);
        await SeedAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        _http?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private async Task SeedAsync()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var v in Seed)
        {
            var ts = now.AddDays(-v.DaysAgo).AddMinutes(-v.MinutesAgo).ToUnixTimeMilliseconds();
            var beacon = new JsonObject
            {
                ["v"] = 1,
                ["site"] = "demo",
                ["vid"] = v.Visitor,
                ["sid"] = v.Session,
                ["events"] = new JsonArray(new JsonObject
                {
                    ["id"] = Guid.NewGuid().ToString(),
                    ["type"] = "pageview",
                    ["ts"] = ts,
                    ["url"] = v.Url,
                    ["ref"] = v.Referrer,
                    ["title"] = "Acme",
                }),
                ["sent"] = now.ToUnixTimeMilliseconds(),
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = Beacons.AsText(beacon.ToJsonString()) };
            request.Headers.UserAgent.ParseAdd(Chromium.DesktopUserAgent);
            using var response = await _http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        }

        // The store commits every 200 ms: wait until the API counts every visitor and touchpoint.
        var visitors = Seed.Select(v => v.Visitor).Distinct().Count();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await _http.GetStringAsync("/api/v1/overview?site=demo");
            var o = JsonNode.Parse(last)!;
            if ((long?)o["visitors"] == visitors && (long?)o["touchpoints"] == Seed.Length)
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"the API did not show {visitors} visitors and {Seed.Length} touchpoints within 30 s; last answer: {last}");
    }

    private async Task<JsonNode> ApiAsync(string pathAndQuery) => JsonNode.Parse(await _http.GetStringAsync(pathAndQuery))!;

    // ---- the page and its files ----

    [Test]
    public async Task The_page_and_its_files_carry_content_types_cache_and_security_headers()
    {
        using var page = await _http.GetAsync("/dashboard?site=demo");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(page.Content.Headers.ContentType!.ToString(), Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(page.Headers.CacheControl!.NoCache, Is.True);
            AssertSecurityHeaders(page);
            Assert.That(html, Does.Not.Contain("<script>").And.Not.Contain(" onclick=").And.Not.Contain("style="), "no inline script, handler or style");
        });

        var assets = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"(/dashboard/assets/[^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.That(assets, Has.Count.GreaterThanOrEqualTo(5));
        var folder = System.Text.RegularExpressions.Regex.Match(assets[0], "^/dashboard/assets/[0-9a-f]{12}").Value;
        Assert.That(assets, Has.All.StartWith(folder + "/"), "one versioned folder");
        foreach (var asset in assets.Append(folder + "/js/views/journeys.js"))
        {
            using var response = await _http.GetAsync(asset);
            var expected = Path.GetExtension(asset) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "text/plain; charset=utf-8",
            };
            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), asset);
                Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo(expected), asset);
                Assert.That(response.Headers.CacheControl!.ToString(), Does.Contain("immutable"), asset);
                Assert.That(response.Headers.ETag, Is.Not.Null, asset);
                AssertSecurityHeaders(response);
            });
        }

        var license = await _http.GetStringAsync(folder + "/vendor/uplot/LICENSE");
        Assert.That(license, Does.Contain("MIT License"), "uPlot's licence is served beside it");
        using var stale = await _http.GetAsync("/dashboard/assets/0123456789ab/dashboard.css");
        Assert.That(stale.Headers.CacheControl!.NoCache, Is.True, "a page from an older version gets today's file, revalidated");
        using var missing = await _http.GetAsync("/dashboard/assets/0123456789ab/nope.js");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var demo = await _http.GetStringAsync("/demo/");
        Assert.That(demo, Does.Contain("href=\"/dashboard?site=demo\""), "the demo's nav links to the dashboard");
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.That(response.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
        Assert.That(response.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.That(csp, Does.StartWith("default-src 'self'").And.Contain("frame-ancestors 'none'").And.Not.Contain("unsafe"));
    }

    // ---- the views ----

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Overview_shows_the_apis_totals_stages_and_daily_charts(int width)
    {
        var api = await ApiAsync("/api/v1/overview?site=demo");
        await using var view = await OpenAsync(width, "/dashboard?site=demo", "overview");
        var page = view.Page;
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await KpiAsync(page, "visitors"), Is.EqualTo((long)api["visitors"]!));
            Assert.That(await KpiAsync(page, "sessions"), Is.EqualTo((long)api["sessions"]!));
            Assert.That(await KpiAsync(page, "touchpoints"), Is.EqualTo((long)api["touchpoints"]!));
            foreach (var stage in new[] { "awareness", "consideration", "decision", "retention", "advocacy" })
            {
                Assert.That(await KpiAsync(page, "reached-" + stage), Is.EqualTo((long)api["reached"]![stage]!), stage);
            }
            Assert.That(await page.Locator(".chart canvas").CountAsync(), Is.EqualTo(2), "two uPlot charts");
            var days = api["days"]!.AsArray().Where(d => (long)d!["touchpoints"]! > 0).ToList();
            Assert.That(await page.Locator("#table-days tbody tr").CountAsync(), Is.EqualTo(days.Count));
            foreach (var day in days)
            {
                var row = page.Locator("#table-days tbody tr", new() { HasText = (string)day!["day"]! });
                Assert.That(Number(await row.Locator("td").First.InnerTextAsync()), Is.EqualTo((long)day["visitors"]!), (string?)day["day"]);
            }
            Assert.That(await page.Locator("#table-days").Locator("xpath=ancestor::section").Locator("a.export").GetAttributeAsync("href"),
                Does.StartWith("/api/v1/export?site=demo").And.Contain("view=overview").And.Contain("format=csv"));
        });
        await view.FinishAsync($"overview-{width}");
    }

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Sources_tabs_show_the_breakdown_of_each_dimension_with_stage_counts(int width)
    {
        await using var view = await OpenAsync(width, "/dashboard?site=demo&view=sources", "sources");
        var page = view.Page;
        foreach (var (tab, by) in new[] { ("channels", "channel"), ("sources", "source"), ("campaigns", "campaign"), ("keywords", "term") })
        {
            if (tab != "channels")
            {
                await view.NavigateAsync(() => page.ClickAsync($"#subtab-{tab}"), "sources");
            }
            var api = await ApiAsync($"/api/v1/breakdown?site=demo&by={by}");
            var rows = api["rows"]!.AsArray();
            await Assert.MultipleAsync(async () =>
            {
                Assert.That(await page.GetAttributeAsync($"#subtab-{tab}", "aria-selected"), Is.EqualTo("true"), tab);
                Assert.That(page.Url, tab == "channels" ? Does.Not.Contain("tab=") : Does.Contain("tab=" + tab), "the tab is in the URL");
                Assert.That(await page.Locator("#table-breakdown tbody tr").CountAsync(), Is.EqualTo(Math.Max(1, rows.Count)), tab);
                var table = await TableAsync(page, "#table-breakdown");
                foreach (var row in rows)
                {
                    var value = (string)row!["value"]! is { Length: > 0 } v ? v : "(none)";
                    Assert.That(table, Does.ContainKey(value), $"{tab}: {value}");
                    var cells = table[value];
                    Assert.That(Number(cells[0]), Is.EqualTo((long)row["visitors"]!), $"{tab}: {value} visitors");
                    Assert.That(Number(cells[3]), Is.EqualTo((long)row["reached"]!["awareness"]!), $"{tab}: {value} awareness");
                    Assert.That(Number(cells[7]), Is.EqualTo((long)row["reached"]!["decision"]!), $"{tab}: {value} decision");
                }
            });
            var export = await page.Locator("#table-breakdown").Locator("xpath=ancestor::section").Locator("a.export").GetAttributeAsync("href");
            using var csv = await _http.GetAsync(export);
            Assert.Multiple(() =>
            {
                Assert.That(export, Does.Contain("view=breakdown").And.Contain("by=" + by));
                Assert.That(csv.StatusCode, Is.EqualTo(HttpStatusCode.OK), export);
                Assert.That(csv.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/csv"));
            });
            await view.ShotAsync($"sources-{tab}-{width}");
        }

        // A value filters every view, and the filter is in the URL.
        await view.NavigateAsync(() => page.ClickAsync("#subtab-campaigns"), "sources");
        await view.NavigateAsync(() => page.ClickAsync("#table-breakdown tbody th a:text-is('june')"), "sources");
        var filtered = await ApiAsync("/api/v1/breakdown?site=demo&by=campaign&campaign=june");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(page.Url, Does.Contain("campaign=june"));
            Assert.That(await page.Locator("#filters [data-filter=campaign]").CountAsync(), Is.EqualTo(1));
            Assert.That(await page.Locator("#table-breakdown tbody tr").CountAsync(), Is.EqualTo(filtered["rows"]!.AsArray().Count));
        });
        await view.FinishAsync($"sources-filtered-{width}");
    }

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Funnel_shows_each_stage_and_the_stage_mix_per_channel(int width)
    {
        var funnel = await ApiAsync("/api/v1/funnel?site=demo");
        var mix = await ApiAsync("/api/v1/funnel?site=demo&by=channel&limit=20");
        await using var view = await OpenAsync(width, "/dashboard?site=demo&view=funnel", "funnel");
        var page = view.Page;
        var table = await TableAsync(page, "#table-funnel");
        var mixTable = await TableAsync(page, "#table-mix");
        Assert.Multiple(() =>
        {
            foreach (var stage in funnel["stages"]!.AsArray())
            {
                var name = CultureInfo.InvariantCulture.TextInfo.ToTitleCase((string)stage!["stage"]!);
                Assert.That(Number(table[name][0]), Is.EqualTo((long)stage["visitors"]!), name);
                Assert.That(Number(table[name][2]), Is.EqualTo((long)stage["drop_off"]!), name + " drop-off");
            }
            Assert.That(mixTable, Has.Count.EqualTo(mix["groups"]!.AsArray().Count));
            foreach (var group in mix["groups"]!.AsArray())
            {
                var cells = mixTable[(string)group!["value"]!];
                var stages = group["stages"]!.AsArray();
                for (var i = 0; i < stages.Count; i++)
                {
                    Assert.That(Number(cells[i]), Is.EqualTo((long)stages[i]!["visitors"]!), $"{group["value"]} {stages[i]!["stage"]}");
                }
            }
        });
        await view.FinishAsync($"funnel-{width}");
    }

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Journey_explorer_finds_a_visitor_and_shows_the_timeline_by_session(int width)
    {
        await using var view = await OpenAsync(width, "/dashboard?site=demo&view=journeys", "journeys");
        var page = view.Page;
        await page.FillAsync("#journey-search", "dash-a");
        await view.NavigateAsync(() => page.PressAsync("#journey-search", "Enter"), "journeys");
        var hits = await ApiAsync("/api/v1/journeys?site=demo&search=dash-a");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(page.Url, Does.Contain("search=dash-a"));
            Assert.That(await page.Locator("#table-visitors tbody a.visitor").AllInnerTextsAsync(),
                Is.EquivalentTo(hits["visitors"]!.AsArray().Select(v => (string)v!["visitor_id"]!)));
        });

        await view.NavigateAsync(() => page.ClickAsync("a.visitor[data-visitor='dash-ann']"), "journeys");
        var journey = await ApiAsync("/api/v1/journeys/dash-ann?site=demo");
        var sessions = journey["sessions"]!.AsArray();
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(page.Url, Does.Contain("visitor=dash-ann"));
            Assert.That(await page.InnerTextAsync("[data-fact=touches]"), Is.EqualTo(((int)journey["touches"]!).ToString(CultureInfo.InvariantCulture)));
            Assert.That(await page.InnerTextAsync("[data-fact=stage]"), Is.EqualTo((string?)journey["current_stage"]));
            Assert.That(await page.Locator("li.session").CountAsync(), Is.EqualTo(sessions.Count));
            foreach (var session in sessions)
            {
                var li = page.Locator($"li.session[data-session='{session!["session_index"]}']");
                Assert.That(await li.Locator("li.touch").CountAsync(), Is.EqualTo(session["touches"]!.AsArray().Count));
                Assert.That(await li.Locator(".session-source").InnerTextAsync(), Does.Contain((string?)session["channel"] ?? "(no channel)"));
                foreach (var touch in session["touches"]!.AsArray())
                {
                    var item = li.Locator($"li.touch[data-touch='{touch!["touch_index"]}']");
                    var text = await item.InnerTextAsync();
                    Assert.That(text, Does.Contain((string)touch["page_path"]!));
                    Assert.That(text, Does.Contain((string?)touch["stage_after"]));
                    foreach (var reason in touch["reasons"]!.AsArray())
                    {
                        Assert.That(text, Does.Contain((string)reason!), "the rules that fired");
                    }
                }
            }
            Assert.That(await page.Locator(".journey a.export").GetAttributeAsync("href"), Does.Contain("view=journey").And.Contain("id=dash-ann"));
        });
        await view.FinishAsync($"journey-{width}");
    }

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Realtime_shows_the_visitors_of_the_last_five_minutes(int width)
    {
        // The seed may be older than 5 minutes by now: one more visitor arrives.
        var visitor = $"dash-now-{width}";
        using (var posted = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://acme.example/demo/pricing/", visitor: visitor, session: visitor + "-s1"))))
        {
            Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await ApiAsync("/api/v1/realtime?site=demo&limit=100"))["recent"]!.AsArray().Any(v => (string?)v!["visitor_id"] == visitor) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        await using var view = await OpenAsync(width, "/dashboard?site=demo&view=realtime", "realtime");
        var page = view.Page;
        var api = await ApiAsync("/api/v1/realtime?site=demo&limit=100");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await KpiAsync(page, "realtime-visitors"), Is.EqualTo((long)api["visitors"]!));
            Assert.That(await page.Locator($"#table-realtime a.visitor:text-is('{visitor}')").CountAsync(), Is.EqualTo(1));
            Assert.That(await page.Locator("#table-realtime tbody a.visitor").AllInnerTextsAsync(),
                Is.EquivalentTo(api["recent"]!.AsArray().Select(v => (string)v!["visitor_id"]!)));
        });
        await view.FinishAsync($"realtime-{width}");
    }

    [Test]
    public async Task Views_are_tabs_a_keyboard_reaches_and_the_url_keeps_range_and_filters()
    {
        await using var view = await OpenAsync(1280, "/dashboard?site=demo&from=2020-01-01&to=2020-01-31&channel=Email", "overview");
        var page = view.Page;
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.InputValueAsync("#from"), Is.EqualTo("2020-01-01"));
            Assert.That(await KpiAsync(page, "visitors"), Is.Zero, "a range without data");
            Assert.That(await page.GetAttributeAsync("#tab-overview", "aria-selected"), Is.EqualTo("true"));
        });
        await page.FocusAsync("#tab-overview");
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.That(await page.EvaluateAsync<string>("document.activeElement.id"), Is.EqualTo("tab-sources"));
        await view.NavigateAsync(() => page.Keyboard.PressAsync("Enter"), "sources");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.GetAttributeAsync("#tab-sources", "aria-selected"), Is.EqualTo("true"));
            Assert.That(page.Url, Does.Contain("view=sources").And.Contain("from=2020-01-01").And.Contain("to=2020-01-31").And.Contain("channel=Email"));
        });
        await view.NavigateAsync(() => page.GoBackAsync(), "overview");
        Assert.That(await page.GetAttributeAsync("#tab-overview", "aria-selected"), Is.EqualTo("true"), "back returns to the previous view");
        await view.FinishAsync("keyboard-1280");
    }

    [Test]
    public async Task A_site_with_a_key_asks_for_it_and_sends_it_only_as_a_bearer_header()
    {
        await using var view = await OpenAsync(1280, $"/dashboard?site={LockedSite}", "overview", consoleErrorsExpected: true);
        var page = view.Page;
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.IsVisibleAsync("#keyform"), Is.True, "401: the key form shows");
            Assert.That(await page.InnerTextAsync("main"), Does.Contain("401"));
        });

        var authorizations = new List<string>();
        var urls = new List<string>();
        page.Request += (_, r) =>
        {
            lock (urls)
            {
                urls.Add(r.Url);
                if (r.Url.Contains("/api/v1/", StringComparison.Ordinal))
                {
                    authorizations.Add(r.Headers.TryGetValue("authorization", out var a) ? a : "");
                }
            }
        };
        await view.NavigateAsync(() => page.GotoAsync(new Uri(_host.BaseAddress, $"/dashboard?site={LockedSite}&key={LockedKey}").ToString()), "overview");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(page.Url, Does.Not.Contain("key="), "the key leaves the address bar once read");
            Assert.That(await page.IsVisibleAsync("#keyform"), Is.False);
            Assert.That(await KpiAsync(page, "visitors"), Is.Zero);
            Assert.That(authorizations, Is.Not.Empty.And.All.EqualTo("Bearer " + LockedKey));
            Assert.That(urls.Where(u => u.Contains("/api/", StringComparison.Ordinal)), Has.None.Contain(LockedKey), "the key never travels in an API URL");
            var links = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('a[href]')].map(a => a.href)");
            Assert.That(links, Has.None.Contain(LockedKey), "no link carries the key");
        });

        // Views reached from there keep the key (kept for the tab), and the export downloads with the header.
        await view.NavigateAsync(() => page.ClickAsync("#tab-funnel"), "funnel");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#table-funnel").Locator("xpath=ancestor::section").Locator("a.export").ClickAsync());
        var file = Path.Combine(_shots, "acme-funnel.csv");
        await download.SaveAsAsync(file);
        Assert.That(await File.ReadAllTextAsync(file, Encoding.UTF8), Does.StartWith("group,stage,"));
        await view.FinishAsync("key-1280");
    }

    [TestCase(1280)]
    [TestCase(390)]
    public async Task Attribution_shows_every_model_side_by_side_with_the_switcher_and_the_top_paths(int width)
    {
        AddConversions();
        var api = await ApiAsync("/api/v1/attribution?site=demo");
        await using var view = await OpenAsync(width, "/dashboard?site=demo&view=attribution", "attribution");
        var page = view.Page;
        var rows = api["rows"]!.AsArray();
        await Assert.MultipleAsync(async () =>
        {
            Assert.That((double)api["conversions"]!, Is.EqualTo(2), "cat's and ann's conversions");
            Assert.That(await page.InnerTextAsync("[data-kpi='conversions'] .kpi-value"), Is.EqualTo("2.00"));
            Assert.That(await page.InnerTextAsync("[data-kpi='revenue'] .kpi-value"), Is.EqualTo("200.00"));
            var table = await TableAsync(page, "#table-attribution");
            Assert.That(table.Keys, Is.EquivalentTo(rows.Select(r => (string)r!["key"]!)));
            foreach (var row in rows)
            {
                var cells = table[(string)row!["key"]!];
                Assert.That(cells[0], Is.EqualTo(((double)row["conversions"]!["first_touch"]!).ToString("N2", CultureInfo.InvariantCulture)));
                Assert.That(cells[6], Is.EqualTo(((double)row["conversions"]!["markov"]!).ToString("N2", CultureInfo.InvariantCulture)));
            }
            // ann: Organic Search first, Direct last; the difference is highlighted both ways
            Assert.That(await page.Locator("#table-attribution tbody tr", new() { HasText = "Organic Search" }).Locator(".diff-down").CountAsync(), Is.EqualTo(1));
            Assert.That(await page.Locator("#table-attribution tbody tr", new() { HasText = "Direct" }).Locator(".diff-up").CountAsync(), Is.EqualTo(1));
            Assert.That(await page.Locator("#table-attribution thead th.current").InnerTextAsync(), Is.EqualTo("Markov"));
            Assert.That(await page.Locator("#table-paths tbody tr").CountAsync(), Is.EqualTo(api["top_paths"]!.AsArray().Count));
            Assert.That(await page.Locator("#table-attribution").Locator("xpath=ancestor::section").Locator("a.export").GetAttributeAsync("href"),
                Does.StartWith("/api/v1/export?site=demo").And.Contain("view=attribution").And.Contain("format=csv"));
        });

        // The model switcher moves the highlight and the order, and lands in the URL; revenue and campaigns likewise.
        await view.NavigateAsync(() => page.SelectOptionAsync("#attr-model", "first_touch"), "attribution");
        await view.NavigateAsync(() => page.SelectOptionAsync("#attr-measure", "revenue"), "attribution");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(page.Url, Does.Contain("model=first_touch").And.Contain("measure=revenue"));
            Assert.That(await page.Locator("#table-attribution thead th.current").InnerTextAsync(), Is.EqualTo("First touch"));
            Assert.That(await page.Locator("#table-attribution tbody tr th").First.InnerTextAsync(), Is.EqualTo("Paid Search"), "ordered by first-touch revenue: cat 120 to Paid Search, ann 80 to Organic Search");
        });
        await view.NavigateAsync(() => page.ClickAsync("#attr-by-campaign"), "attribution");
        var campaigns = await ApiAsync("/api/v1/attribution?site=demo&by=campaign");
        Assert.That(await TableAsync(page, "#table-attribution"), Has.Count.EqualTo(campaigns["rows"]!.AsArray().Count));
        await view.FinishAsync($"attribution-{width}");
    }

    private bool _conversionsAdded;

    /// <summary>Conversions go straight into the embedded store (the conversion pipeline is not part of this test): cat buys
    /// for 120 after his paid search session, ann for 80 after her direct return (her first touch was organic search).</summary>
    private void AddConversions()
    {
        if (_conversionsAdded)
        {
            return;
        }
        _conversionsAdded = true;
        var store = _host.Services.GetRequiredService<TouchpointTracker.Analytics.AnalyticsStore>();
        using var c = store.OpenReadConnection();
        var now = DateTime.UtcNow;
        foreach (var (id, visitor, ts, value) in new[] { ("cv-cat", "dash-cat", now.AddDays(-1).AddMinutes(-30), 120.0), ("cv-ann", "dash-ann", now.AddSeconds(-30), 80.0) })
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                INSERT INTO conversions VALUES ('demo', $id, 'purchase', NULL, $ts, md5_number_lower($visitor), md5_number_lower($visitor), NULL,
                    'ev-' || $id, NULL, $value, 'EUR', $value, false)
                """;
            cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("id", id));
            cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("ts", ts));
            cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("visitor", visitor));
            cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("value", value));
            cmd.ExecuteNonQuery();
        }
    }

    // ---- helpers ----

    private async Task<DashboardPage> OpenAsync(int width, string pathAndQuery, string view, bool consoleErrorsExpected = false)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = 900 },
            AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();
        var result = new DashboardPage(context, page, width, _shots, consoleErrorsExpected);
        await result.NavigateAsync(() => page.GotoAsync(new Uri(_host.BaseAddress, pathAndQuery).ToString()), view);
        return result;
    }

    private static async Task<long> KpiAsync(IPage page, string name) => Number(await page.InnerTextAsync($"[data-kpi='{name}'] .kpi-value"));

    /// <summary>A table's body as row header -> the other cells' texts.</summary>
    private static async Task<Dictionary<string, string[]>> TableAsync(IPage page, string selector) =>
        await page.EvaluateAsync<Dictionary<string, string[]>>(
            "sel => Object.fromEntries([...document.querySelectorAll(sel + ' tbody tr')].filter(tr => tr.querySelector('th'))" +
            ".map(tr => [tr.querySelector('th').innerText.trim(), [...tr.querySelectorAll('td')].map(td => td.innerText.trim())]))",
            selector);

    private static long Number(string text) => long.Parse(text.Replace(",", "", StringComparison.Ordinal).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>One browser context on one view: collects console errors, checks the layout, saves screenshots.</summary>
    private sealed class DashboardPage : IAsyncDisposable
    {
        private readonly IBrowserContext _context;
        private readonly int _width;
        private readonly string _folder;
        private readonly bool _errorsExpected;
        private readonly List<string> _errors = [];

        public DashboardPage(IBrowserContext context, IPage page, int width, string folder, bool errorsExpected)
        {
            _context = context;
            Page = page;
            _width = width;
            _folder = folder;
            _errorsExpected = errorsExpected;
            page.Console += (_, m) =>
            {
                if (m.Type is "error" or "warning")
                {
                    lock (_errors)
                    {
                        _errors.Add($"console {m.Type}: {m.Text}");
                    }
                }
            };
            page.PageError += (_, e) =>
            {
                lock (_errors)
                {
                    _errors.Add("page error: " + e);
                }
            };
        }

        public IPage Page { get; }

        /// <summary>Runs an action that renders a view and waits until the dashboard says it is drawn.</summary>
        public async Task NavigateAsync(Func<Task> action, string view)
        {
            await Page.EvaluateAsync("() => { if (document.documentElement) delete document.documentElement.dataset.ready; }").ConfigureAwait(false);
            await action();
            await Page.WaitForSelectorAsync($"html[data-ready='{view}']", new() { State = WaitForSelectorState.Attached, Timeout = 20_000 });
        }

        public async Task ShotAsync(string name)
        {
            var file = Path.Combine(_folder, name + ".png");
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
            TestContext.AddTestAttachment(file, name);
        }

        /// <summary>The last screenshot, then: the page does not scroll sideways, and nothing went to the console.</summary>
        public async Task FinishAsync(string name)
        {
            await ShotAsync(name);
            var scrollWidth = await Page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            Assert.That(scrollWidth, Is.LessThanOrEqualTo(_width), $"{name}: the page scrolls sideways (tables scroll inside their own region)");
            if (!_errorsExpected)
            {
                lock (_errors)
                {
                    Assert.That(_errors, Is.Empty, name + ": console");
                }
            }
        }

        public async ValueTask DisposeAsync() => await _context.DisposeAsync();
    }
}
