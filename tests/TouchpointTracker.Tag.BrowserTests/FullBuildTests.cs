using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// The optional features of tt.full.js: forms (scenario 7), outbound clicks (8), engaged time (9). Their
/// events leave with the page (sendBeacon on pagehide), so what was sent is read from the sendBeacon spy.
/// </summary>
public class FullBuildTests
{
    [Test]
    public async Task A_form_submission_is_recorded_by_the_form_name_and_no_typed_value_ever_leaves_the_page()
    {
        await using var s = await TagSession.OpenAsync();
        await s.GotoAsync("/form.html");
        await s.VisitorAsync();
        var typed = new Dictionary<string, string>
        {
            ["name"] = "Zoesecretname4821",
            ["id"] = "secretcustomerid4821",
            ["email"] = "zoe.secretmail4821@example.org",
            ["password"] = "hunter2secretpass4821",
            ["message"] = "myprivatemessage4821",
        };
        foreach (var (field, value) in typed)
        {
            await s.Page.FillAsync($"[name={field}]", value);
        }

        await s.Page.ClickAsync("#send"); // the browser POSTs the form to /form-thanks.html (a page with the tag)
        // Commit, not load: the thank-you page view is awaited below through the staged events, and a slow
        // load event on a busy machine must not fail the test.
        await s.WaitForCommittedUrlAsync(u => u.EndsWith("/form-thanks.html", StringComparison.Ordinal), "the thank-you page");

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Any(x => (string?)x["name"] == "form_submit") && e.Any(x => (string?)x["page"]?["path"] == "/form-thanks.html"),
            "the form_submit event and the thank-you page view");
        var submit = staged.Single(e => (string?)e["name"] == "form_submit");
        Assert.Multiple(() =>
        {
            Assert.That((string?)submit["type"], Is.EqualTo("event"));
            Assert.That(submit["props"]?["form"]?.GetValue<string>(), Is.EqualTo("trial-signup"), "the form's name attribute, not the field called name");
            Assert.That((string?)submit["page"]!["path"], Is.EqualTo("/form.html"));
        });

        // The beacon that carried form_submit left with the page (sendBeacon on pagehide).
        var spied = await s.WaitForSendBeaconCallsAsync(cs => cs.Any(c => c.Events.Any(e => (string?)e["name"] == "form_submit")), "the form_submit event");
        // The form's own POST carried the values (so they were typed and would show if leaked)...
        var formPost = s.Log.Requests.Single(r => r.Method == "POST" && r.Url == TagEnvironment.Pages.Url("/form-thanks.html"));
        Assert.That(formPost.Body, Does.Contain(typed["name"]).And.Contain(typed["password"]));
        // ...and nothing else did: no beacon (fetch or sendBeacon), no other request (URL or body), nothing staged.
        var sent = s.Log.Requests.Where(r => !ReferenceEquals(r, formPost)).Select(r => $"{r.Method} {r.Url} {r.Body}")
            .Concat(spied.Select(c => $"sendBeacon {c.Url} {c.Body}")).ToList();
        var stagedJson = string.Join("\n", staged.Select(e => e.ToJsonString()));
        Assert.Multiple(() =>
        {
            Assert.That(s.Log.Beacons, Has.Count.GreaterThanOrEqualTo(2), "the page views sent with fetch were captured");
            foreach (var value in typed.Values)
            {
                foreach (var form in new[] { value, WebUtility.UrlEncode(value), Uri.EscapeDataString(value) }.Distinct())
                {
                    Assert.That(sent.Where(r => r.Contains(form, StringComparison.OrdinalIgnoreCase)), Is.Empty, $"a request carries the typed value {value}");
                }
                Assert.That(stagedJson, Does.Not.Contain(value).IgnoreCase, $"a staged touchpoint carries the typed value {value}");
            }
        });
        TagSession.AssertStagedOnce(staged);
    }

    [Test]
    public async Task A_click_on_a_link_to_another_site_is_an_outbound_click_with_its_href()
    {
        const string Partner = "https://partner.example.org/offer?ref=fixture-shop";
        await using var s = await TagSession.OpenAsync();
        // The partner's site, answered by the browser itself (no network).
        await s.Context.RouteAsync("https://partner.example.org/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/html",
            Body = "<!doctype html><title>Partner</title><p>Partner offer</p>",
        }));
        await s.GotoAsync("/outbound.html");
        await s.VisitorAsync();

        await s.Page.ClickAsync("#internal"); // same site: not outbound
        await s.Page.ClickAsync("#mail");     // mailto: not an http(s) link to another site
        await s.Page.ClickAsync("#partner");
        await s.WaitForCommittedUrlAsync(u => u.StartsWith("https://partner.example.org/", StringComparison.Ordinal), "the partner site");

        var click = await s.StagedEventAsync(e => (string?)e["name"] == "outbound_click", "the outbound click");
        var spied = await s.WaitForSendBeaconCallsAsync(cs => cs.Any(c => c.Events.Any(e => (string?)e["name"] == "outbound_click")), "the outbound click");
        var sentClicks = s.Log.SentEvents.Select(x => x.Event).Concat(spied.SelectMany(c => c.Events))
            .Where(e => (string?)e["name"] == "outbound_click").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(click["props"]?["href"]?.GetValue<string>(), Is.EqualTo(Partner));
            Assert.That((string?)click["page"]!["path"], Is.EqualTo("/outbound.html"), "recorded on the page that had the link");
            Assert.That(sentClicks.Select(e => (string?)e["props"]!["href"]), Is.EqualTo(new[] { Partner }),
                "one outbound click, for the link to the other site only");
        });
    }

    [Test]
    public async Task Closing_the_page_sends_its_engaged_time_and_scroll_depth_by_sendBeacon()
    {
        await using var s = await TagSession.OpenAsync();
        var (visitor, engagements, spied) = await ReadToTheEndAndCloseAsync(s);

        var first = engagements[0];
        Assert.Multiple(() =>
        {
            // engaged_ms counts visible time since the previous engagement event of the page: summed per page.
            Assert.That(engagements.Sum(e => e["props"]!["engaged_ms"]!.GetValue<double>()), Is.GreaterThan(0));
            Assert.That(first["props"]?["engaged_ms"]?.GetValue<double>(), Is.GreaterThan(0), "the visible time up to page hide");
            Assert.That(first["props"]?["scroll_pct"]?.GetValue<double>(), Is.EqualTo(100), "read to the bottom");
            Assert.That(engagements.Select(e => (string?)e["page"]!["path"]), Has.All.EqualTo("/engagement.html"));
            // Sent with sendBeacon (fetch would die with the page), to the collect URL, and staged as sent.
            var beaconed = spied.Where(c => c.Events.Any(e => (string?)e["type"] == "engagement")).ToList();
            Assert.That(beaconed.Select(c => c.Url), Has.All.EqualTo(TagEnvironment.CollectUrl));
            Assert.That(beaconed.Select(c => c.Queued), Has.All.True, "the browser accepted the beacon");
            Assert.That(engagements.Select(e => (string?)e["event_id"]),
                Is.EquivalentTo(beaconed.SelectMany(c => c.Events).Where(e => (string?)e["type"] == "engagement").Select(e => (string?)e["id"])));
        });
        TagSession.AssertStagedOnce((await TagEnvironment.StagedAsync(visitor)).Select(e => e!));
    }

    [Test]
    public async Task Closing_the_page_sends_one_engagement_event()
    {
        await using var s = await TagSession.OpenAsync();
        await ReadToTheEndAndCloseAsync(s);

        var spied = await s.WaitForSendBeaconCallsAsync(_ => true, "anything");
        Assert.That(spied.SelectMany(c => c.Events).Count(e => (string?)e["type"] == "engagement"), Is.EqualTo(1), "engagement events sent for one page close");
    }

    /// <summary>Opens the long page, scrolls to its bottom, closes it; returns the staged engagement events and the sendBeacon calls.</summary>
    private static async Task<(string Visitor, List<JsonNode> Engagements, IReadOnlyList<SpiedBeacon> Spied)> ReadToTheEndAndCloseAsync(TagSession s)
    {
        await s.GotoAsync("/engagement.html");
        var visitor = await s.VisitorAsync();
        // Read to the end, and let the scroll event reach the tag (two animation frames).
        await s.Page.EvaluateAsync("() => window.scrollTo(0, document.documentElement.scrollHeight)");
        await s.Page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");

        await s.Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = true });

        var spied = await s.WaitForSendBeaconCallsAsync(cs => cs.Any(c => c.Events.Any(e => (string?)e["type"] == "engagement")), "an engagement event");
        var ids = spied.SelectMany(c => c.Events).Where(e => (string?)e["type"] == "engagement").Select(e => (string?)e["id"]).ToHashSet();
        var staged = await TagEnvironment.WaitForStagedAsync(visitor, e => ids.All(id => e.Any(x => (string?)x["event_id"] == id)), "the engagement events sent");
        return (visitor, staged.Where(e => (string?)e["type"] == "engagement").ToList(), spied);
    }
}
