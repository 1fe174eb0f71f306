namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>Scenario 10: a host page with a strict Content-Security-Policy, whose own code misuses the tag.</summary>
public class StrictCspTests
{
    [Test]
    public async Task The_tag_tracks_under_a_strict_CSP_and_wrong_calls_throw_nothing_into_the_page()
    {
        await using var s = await TagSession.OpenAsync();

        var response = await s.Page.GotoAsync(TagEnvironment.Pages.Url("/csp/index.html"));
        var csp = await response!.HeaderValueAsync("content-security-policy");
        Assert.That(csp, Does.Contain("script-src 'nonce-").And.Not.Contain("unsafe").And.Not.Contain("'self'"), "the page is served with the strict policy");

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Any(x => (string?)x["type"] == "pageview") && e.Any(x => (string?)x["name"] == "csp_ok") && e.Any(x => (string?)x["name"] == "weird_props"),
            "the page view and the page's events");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await s.Page.GetAttributeAsync("body", "data-app"), Is.EqualTo("still-running"), "the page's code ran to its end");
            Assert.That(await s.Page.EvaluateAsync<string[]>("() => window.violations"), Is.Empty, "CSP violations");
            Assert.That(s.PageErrors, Is.Empty, "errors thrown into the page");
            Assert.That(s.ConsoleErrors, Is.Empty, "console errors");

            Assert.That(staged.Select(e => (string?)e["name"]), Has.One.EqualTo("queued_ok"), "a call queued by the stub before the tag loaded");
            // Wrong calls recorded nothing: every custom event has one of the names the page gave.
            Assert.That(s.Log.SentEvents.Where(x => (string?)x.Event["type"] == "event").Select(x => (string?)x.Event["name"]).Distinct(),
                Is.EquivalentTo(new[] { "queued_ok", "weird_props", "csp_ok" }));
            Assert.That(s.Log.SentEvents.Select(x => (string?)x.Event["type"]).Distinct(), Is.EquivalentTo(new[] { "pageview", "event" }),
                "no identify without a user id");
            // Properties the tag cannot send are dropped, the rest kept.
            var props = staged.Single(e => (string?)e["name"] == "weird_props")["props"]!.AsObject();
            Assert.That(props.Select(p => p.Key), Is.EquivalentTo(new[] { "ok" }));
        });
        TagSession.AssertStagedOnce(staged);
    }
}
