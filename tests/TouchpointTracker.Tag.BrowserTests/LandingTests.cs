namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>Where a visit comes from: an ad click with a campaign (scenario 1), a search engine (scenario 2).</summary>
public class LandingTests
{
    private const string Bing = "https://www.bing.com/search?q=journey+tracker";

    [TestCase("gclid", "Cj0KCQiA-fixture_gclid-1", "google_ads")]
    [TestCase("fbclid", "IwAR0-fixture_fbclid-2", "meta")]
    public async Task A_landing_with_utm_parameters_and_a_click_id_is_staged_with_its_campaign(string clickParameter, string clickId, string platform)
    {
        await using var s = await TagSession.OpenAsync();
        var pathAndQuery = "/campaign.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale" +
            $"&utm_term=running+shoes&utm_content=hero_banner&{clickParameter}={clickId}";
        var landing = TagEnvironment.Pages.Url(pathAndQuery);

        await s.GotoAsync(pathAndQuery);

        var (beacon, pageview) = await s.Log.WaitForEventAsync(e => (string?)e["type"] == "pageview", "the landing page view");
        Assert.Multiple(() =>
        {
            Assert.That((string?)beacon.Json["site"], Is.EqualTo(TagEnvironment.Site));
            Assert.That((int?)beacon.Json["sn"], Is.EqualTo(1), "first session of a new visitor");
            Assert.That((string?)pageview["url"], Is.EqualTo(landing));
            Assert.That(Guid.TryParse((string?)pageview["id"], out _), Is.True, "event id is a UUID");
            // The click id is sent with the page URL and kept in the session's landing URL.
            Assert.That((string?)beacon.Json["land"]!["url"], Is.EqualTo(landing));
            Assert.That(new Uri((string)pageview["url"]!).Query, Does.Contain($"{clickParameter}={clickId}"));
            Assert.That(new Uri((string)beacon.Json["land"]!["url"]!).Query, Does.Contain($"{clickParameter}={clickId}"));
        });

        var staged = await s.StagedEventAsync(e => (string?)e["type"] == "pageview", "the landing page view");
        Assert.Multiple(() =>
        {
            Assert.That((string?)staged["event_id"], Is.EqualTo((string?)pageview["id"]));
            Assert.That((string?)staged["page"]!["url"], Is.EqualTo(landing));
            Assert.That((string?)staged["page"]!["path"], Is.EqualTo("/campaign.html"));
            Assert.That((string?)staged["page"]!["title"], Is.EqualTo("Spring sale · Fixture shop"));
            Assert.That((string?)staged["landing"]!["url"], Is.EqualTo(landing));
            Assert.That((string?)staged["campaign"]!["source"], Is.EqualTo("newsletter"));
            Assert.That((string?)staged["campaign"]!["medium"], Is.EqualTo("email"));
            Assert.That((string?)staged["campaign"]!["name"], Is.EqualTo("spring_sale"));
            Assert.That((string?)staged["campaign"]!["term"], Is.EqualTo("running shoes"));
            Assert.That((string?)staged["campaign"]!["content"], Is.EqualTo("hero_banner"));
            Assert.That((string?)staged["campaign"]!["click_id"], Is.EqualTo(clickId));
            Assert.That((string?)staged["campaign"]!["click_platform"], Is.EqualTo(platform));
            Assert.That((string?)staged["journey"]?["stage"], Is.Not.Null.And.Not.Empty, "staged by the processor");
        });
    }

    [Test]
    public async Task An_arrival_from_a_search_engine_sends_the_results_page_with_its_keyword_as_referrer_and_landing_referrer()
    {
        await using var s = await TagSession.OpenAsync();
        var landing = TagEnvironment.Pages.Url("/search.html");

        await s.GotoAsync("/search.html", referer: Bing);

        var (beacon, pageview) = await s.Log.WaitForEventAsync(e => (string?)e["type"] == "pageview", "the landing page view");
        Assert.Multiple(() =>
        {
            Assert.That((string?)pageview["ref"], Is.EqualTo(Bing), "document.referrer, keyword included");
            Assert.That((string?)beacon.Json["land"]!["url"], Is.EqualTo(landing));
            Assert.That((string?)beacon.Json["land"]!["ref"], Is.EqualTo(Bing), "the session's external referrer");
        });

        // The visitor reads on: the next page's referrer is the landing page (same origin), and the
        // session still says it came from the search engine.
        await s.Page.ClickAsync("#next");
        var (next, second) = await s.Log.WaitForEventAsync(
            e => (string?)e["type"] == "pageview" && ((string?)e["url"])!.EndsWith("page=2", StringComparison.Ordinal), "the second page view");
        Assert.Multiple(() =>
        {
            Assert.That((string?)second["ref"], Is.EqualTo(landing));
            Assert.That((string?)next.Json["land"]!["url"], Is.EqualTo(landing));
            Assert.That((string?)next.Json["land"]!["ref"], Is.EqualTo(Bing));
            Assert.That((string?)next.Json["sid"], Is.EqualTo((string?)beacon.Json["sid"]), "same session");
        });

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(), e => e.Count(x => (string?)x["type"] == "pageview") >= 2, "both page views");
        var first = staged.Single(e => (string?)e["event_id"] == (string?)pageview["id"]);
        var secondStaged = staged.Single(e => (string?)e["event_id"] == (string?)second["id"]);
        Assert.Multiple(() =>
        {
            Assert.That((string?)first["referrer"]!["url"], Is.EqualTo(Bing));
            Assert.That((string?)first["referrer"]!["host"], Is.EqualTo("www.bing.com"));
            Assert.That((string?)first["referrer"]!["medium"], Is.EqualTo("search"));
            Assert.That((string?)first["referrer"]!["source"], Is.EqualTo("bing"));
            Assert.That((string?)first["referrer"]!["term"], Is.EqualTo("journey tracker"), "the keyword");
            Assert.That((string?)first["channel"], Is.EqualTo("Organic Search"));
            Assert.That((string?)first["landing"]!["referrer"], Is.EqualTo(Bing));
            Assert.That((string?)secondStaged["referrer"]!["host"], Is.EqualTo("127.0.0.1"));
            Assert.That((string?)secondStaged["landing"]!["referrer"], Is.EqualTo(Bing), "the landing referrer stays with the session");
            Assert.That((string?)secondStaged["channel"], Is.EqualTo("Organic Search"), "the session's channel, not internal traffic");
        });
        TagSession.AssertStagedOnce(staged);
    }
}
