using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>A <c>navigator.sendBeacon</c> call: where to, the beacon (JSON), whether the browser queued it, from which page.</summary>
public sealed record SpiedBeacon(string Url, string? Body, bool Queued, string Page)
{
    public JsonNode? Json { get; } = Body is null ? null : JsonNode.Parse(Body);
    public IEnumerable<JsonNode> Events => Json?["events"]?.AsArray().Select(e => e!) ?? [];
}

/// <summary>
/// One visitor: a fresh browser context (empty cookies and storage), one page, and the record of what it
/// sent (<see cref="Log"/>), of the errors thrown into its pages and of console errors.
/// </summary>
public sealed class TagSession : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _pageErrors = new();
    private readonly ConcurrentQueue<string> _consoleErrors = new();

    private TagSession(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        Log = new BeaconLog(context, TagEnvironment.CollectUrl);
        context.Page += (_, p) => Watch(p);
        Watch(page);
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public BeaconLog Log { get; }
    public IReadOnlyCollection<string> PageErrors => [.. _pageErrors];
    public IReadOnlyCollection<string> ConsoleErrors => [.. _consoleErrors];

    /// <summary>A new visitor in <paramref name="browser"/> (by default the shared one of <see cref="TagEnvironment"/>).</summary>
    public static async Task<TagSession> OpenAsync(IBrowser? browser = null)
    {
        var context = await (browser ?? TagEnvironment.Browser).NewContextAsync();
        // A busy CI machine can hold a load event back for tens of seconds; what the tests check arrives
        // through the beacon log, so waiting longer for the browser costs nothing on a fast run.
        context.SetDefaultNavigationTimeout(90_000);
        context.SetDefaultTimeout(60_000);
        await context.AddInitScriptAsync(scriptPath: Path.Combine(AppContext.BaseDirectory, "sendbeacon-spy.js"));
        var page = await context.NewPageAsync();
        return new TagSession(context, page);
    }

    /// <summary>
    /// The <c>navigator.sendBeacon</c> calls of every page of the fixture site so far (recorded by
    /// sendbeacon-spy.js: Chromium does not show Playwright the beacons of a page that unloads), read from
    /// a tag-less page of the site. Waits (up to 20 s) until they satisfy <paramref name="done"/>.
    /// </summary>
    public async Task<IReadOnlyList<SpiedBeacon>> WaitForSendBeaconCallsAsync(Func<IReadOnlyList<SpiedBeacon>, bool> done, string what)
    {
        var reader = await Context.NewPageAsync();
        try
        {
            await reader.GotoAsync(TagEnvironment.Pages.Url("/blank.html"));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                var json = await reader.EvaluateAsync<string?>("() => localStorage.getItem('__sendBeacon_spy')");
                var calls = json is null ? [] : JsonNode.Parse(json)!.AsArray().Select(c => new SpiedBeacon(
                    (string)c!["url"]!, (string?)c["body"], (bool)c["queued"]!, (string)c["page"]!)).ToList();
                if (done(calls))
                {
                    return calls;
                }
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"within 20 s the tag did not call sendBeacon with {what}; calls: {json}");
                }
                await Task.Delay(100);
            }
        }
        finally
        {
            await reader.CloseAsync();
        }
    }

    /// <summary>Opens a fixture page (path and query on the fixture site), optionally as if coming from <paramref name="referer"/>.</summary>
    public Task GotoAsync(string pathAndQuery, string? referer = null) =>
        Page.GotoAsync(TagEnvironment.Pages.Url(pathAndQuery), new PageGotoOptions { Referer = referer, WaitUntil = WaitUntilState.Load });

    /// <summary>
    /// Waits until the page's address satisfies <paramref name="matches"/>, i.e. a navigation committed,
    /// without waiting for any load state: Playwright's WaitForURL waits for the load event when the address
    /// already matches, whatever WaitUntil says, and a busy machine can delay that event past any timeout.
    /// </summary>
    public async Task WaitForCommittedUrlAsync(Func<string, bool> matches, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!matches(Page.Url))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"within 60 s the page did not navigate to {what}; it is at {Page.Url}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The visitor id the tag chose, read from its first beacon (waits for one).</summary>
    public async Task<string> VisitorAsync()
    {
        var beacons = await Log.WaitAsync(bs => bs.Count > 0, "any beacon");
        return (string)beacons[0].Json["vid"]!;
    }

    /// <summary>Waits until the collector staged an event of this visitor matching <paramref name="match"/>.</summary>
    public async Task<JsonNode> StagedEventAsync(Func<JsonNode, bool> match, string what)
    {
        var staged = await TagEnvironment.WaitForStagedAsync(await VisitorAsync(), s => s.Any(match), what);
        return staged.First(match);
    }

    /// <summary>Calls <c>tt(...)</c> in the page, e.g. <c>Tt("'track', 'signup'")</c>.</summary>
    public Task Tt(string args) => Page.EvaluateAsync($"() => {{ tt({args}) }}");

    private void Watch(IPage page)
    {
        page.PageError += (_, e) => _pageErrors.Enqueue(e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                _consoleErrors.Enqueue(m.Text);
            }
        };
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();

    // Shared checks -------------------------------------------------------------------------------

    /// <summary>Every staged touchpoint has its own event id (no event staged twice).</summary>
    public static void AssertStagedOnce(IEnumerable<JsonNode> staged)
    {
        var twice = staged.GroupBy(s => (string?)s["event_id"]).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.That(twice, Is.Empty, "event ids staged more than once");
    }

    /// <summary>The tag got a 2xx for each event id at most once: once accepted, an event is never sent again.</summary>
    public void AssertDeliveredOnce()
    {
        var again = Log.Beacons.Where(b => b.Accepted).SelectMany(b => b.Events).GroupBy(e => (string?)e["id"])
            .Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.That(again, Is.Empty, "event ids the collector accepted more than once");
    }
}
