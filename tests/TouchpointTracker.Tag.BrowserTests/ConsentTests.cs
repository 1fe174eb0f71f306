namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>Scenario 6: consent-required mode (data-consent).</summary>
public class ConsentTests
{
    [Test]
    public async Task Nothing_is_stored_or_sent_before_consent_is_granted_and_the_page_view_is_recorded_after()
    {
        await using var s = await TagSession.OpenAsync();
        await s.GotoAsync("/consent.html");

        await s.Tt("'consent', 'denied'");
        await s.Tt("'track', 'before_consent'");
        await s.Tt("'pageview'");
        await s.Tt("'flush'");
        // Longer than the tag's 1 s batching delay: anything it meant to send would be on its way.
        await Task.Delay(1500);
        var stored = await s.Page.EvaluateAsync<string>(
            "() => Object.keys(localStorage).filter(k => k != '__sendBeacon_spy').join(',') + '|' + document.cookie");
        var spied = await s.WaitForSendBeaconCallsAsync(_ => true, "anything");
        Assert.Multiple(() =>
        {
            Assert.That(s.Log.Requests.Where(r => r.Url.StartsWith(TagEnvironment.CollectUrl, StringComparison.Ordinal)), Is.Empty,
                "no request to the collector before consent");
            Assert.That(spied, Is.Empty, "no sendBeacon before consent");
            Assert.That(stored, Is.EqualTo("|"), "no localStorage key and no cookie before consent");
        });

        await s.Tt("'consent', 'granted'");
        await s.Tt("'track', 'after_consent'");

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Any(x => (string?)x["type"] == "pageview") && e.Any(x => (string?)x["name"] == "after_consent"), "the page view and the event after consent");
        Assert.Multiple(() =>
        {
            Assert.That(staged.Count(e => (string?)e["type"] == "pageview"), Is.EqualTo(1), "the grant records the current page view");
            Assert.That((string?)staged.Single(e => (string?)e["type"] == "pageview")["page"]!["path"], Is.EqualTo("/consent.html"));
            Assert.That(s.Log.SentEvents.Select(x => (string?)x.Event["name"]), Has.None.EqualTo("before_consent"), "events before the grant are dropped, not held");
            Assert.That(staged.Select(e => (string?)e["name"]), Has.None.EqualTo("before_consent"));
        });
        TagSession.AssertStagedOnce(staged);
    }
}
