namespace TouchpointTracker.Analytics.Tests;

/// <summary>Each query against <see cref="Dataset"/>; the expected figures are worked out by hand in the comments.</summary>
public sealed class QueryTests
{
    private TempDir _dir = null!;
    private AnalyticsStore _store = null!;
    private AnalyticsQueries _q = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _dir = new TempDir();
        _store = new AnalyticsStore(new AnalyticsOptions { Path = _dir.File("q.duckdb") });
        await using (var writer = new AnalyticsWriter(_store))
        {
            await Dataset.WriteAsync(writer);
            await Dataset.WriteAsync(writer, "other"); // another site's rows must never show
        }
        _q = new AnalyticsQueries(_store);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private static Dictionary<string, long> Stages(long aw, long co, long de) =>
        new() { ["awareness"] = aw, ["consideration"] = co, ["decision"] = de, ["retention"] = 0, ["advocacy"] = 0 };

    [Test]
    public void Overview_counts_visitors_sessions_touchpoints_and_stages_per_day()
    {
        var o = _q.Overview(Dataset.Request());
        Assert.Multiple(() =>
        {
            // v-a, v-b, v-c (v-d is before the range); sA1 sA2 sB1 sC1 sC2; 3 + 2 + 3 touches.
            Assert.That((o.Visitors, o.Sessions, o.Touchpoints), Is.EqualTo((3L, 5L, 8L)));
            // highest stage reached: a decision, b awareness, c consideration.
            Assert.That(o.Reached, Is.EqualTo(Stages(3, 2, 1)));
            Assert.That(o.Entered, Is.EqualTo(Stages(3, 2, 1)));
            Assert.That(o.Days.Select(d => d.Day), Is.EqualTo(new[] { Dataset.From, Dataset.From.AddDays(1), Dataset.To }));
            // 03-01: a (sA1: a1 a2, up to consideration), b (sB1: b1 b2, awareness)
            Assert.That((o.Days[0].Visitors, o.Days[0].Sessions, o.Days[0].Touchpoints), Is.EqualTo((2L, 2L, 4L)));
            Assert.That(o.Days[0].Reached, Is.EqualTo(Stages(2, 1, 0)));
            Assert.That(o.Days[0].Entered, Is.EqualTo(Stages(2, 1, 0)));
            // 03-02: a (sA2: a3 decision), c (sC1: c1 c2 consideration)
            Assert.That((o.Days[1].Visitors, o.Days[1].Sessions, o.Days[1].Touchpoints), Is.EqualTo((2L, 2L, 3L)));
            Assert.That(o.Days[1].Reached, Is.EqualTo(Stages(2, 2, 1)));
            Assert.That(o.Days[1].Entered, Is.EqualTo(Stages(1, 1, 1)));
            // 03-03: c (sC2: c3, stays in consideration: enters nothing)
            Assert.That((o.Days[2].Visitors, o.Days[2].Sessions, o.Days[2].Touchpoints), Is.EqualTo((1L, 1L, 1L)));
            Assert.That(o.Days[2].Reached, Is.EqualTo(Stages(1, 1, 0)));
            Assert.That(o.Days[2].Entered, Is.EqualTo(Stages(0, 0, 0)));
        });
    }

    [Test]
    public void Overview_applies_filters()
    {
        Assert.Multiple(() =>
        {
            // Direct: sB1 (b1 b2) and sC2 (c3)
            var direct = _q.Overview(Dataset.Request(new AnalyticsFilters(Channel: "Direct")));
            Assert.That((direct.Visitors, direct.Sessions, direct.Touchpoints), Is.EqualTo((2L, 2L, 3L)));
            // campaign brand: sC1 (c1 c2)
            var brand = _q.Overview(Dataset.Request(new AnalyticsFilters(Campaign: "brand", Term: "acme crm", Source: "google", Medium: "cpc")));
            Assert.That((brand.Visitors, brand.Sessions, brand.Touchpoints), Is.EqualTo((1L, 1L, 2L)));
            // stage: sessions whose highest stage is decision: sA2
            var decision = _q.Overview(Dataset.Request(new AnalyticsFilters(Stage: "decision")));
            Assert.That((decision.Visitors, decision.Touchpoints), Is.EqualTo((1L, 1L)));
            // country DE and device Mobile: v-b only; landing page /compare: none (sA1 landed on /blog/what-is-crm)
            Assert.That(_q.Overview(Dataset.Request(new AnalyticsFilters(Country: "DE", Device: "Mobile"))).Visitors, Is.EqualTo(1));
            Assert.That(_q.Overview(Dataset.Request(new AnalyticsFilters(LandingPage: "/blog/what-is-crm"))).Touchpoints, Is.EqualTo(2));
            Assert.That(_q.Overview(Dataset.Request(new AnalyticsFilters(LandingPage: "/compare"))).Visitors, Is.Zero);
            // a value that looks like SQL is only a value
            Assert.That(_q.Overview(Dataset.Request(new AnalyticsFilters(Channel: "x' OR 1=1 --"))).Visitors, Is.Zero);
        });
    }

    [Test]
    public void Overview_days_follow_the_site_time_zone()
    {
        // In Asia/Tokyo (UTC+9) b1/b2 at 12:00 UTC on 03-01 are 21:00 local on 03-01; c3 at 08:00 UTC on 03-03 is 17:00 on 03-03;
        // a3 at 09:00 UTC 03-02 is 18:00 03-02. Sessions keep the day stamped at write time (UTC here), so this checks
        // the UTC boundaries of the range instead: 03-03 only in Tokyo = 03-02 15:00 .. 03-03 15:00 UTC on touchpoints.
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var range = new AnalyticsRange("acme", Dataset.To, Dataset.To, tokyo);
        Assert.Multiple(() =>
        {
            Assert.That(range.FromUtc, Is.EqualTo(new DateTime(2026, 3, 2, 15, 0, 0)));
            Assert.That(range.ToUtcExclusive, Is.EqualTo(new DateTime(2026, 3, 3, 15, 0, 0)));
        });
    }

    [Test]
    public void Breakdown_by_channel_counts_visitors_sessions_and_stages_per_value()
    {
        var b = _q.Breakdown(Dataset.Request(), "channel");
        Assert.That(b.Rows.Select(r => r.Value), Is.EqualTo(new[] { "Direct", "Email", "Organic Search", "Paid Search" }));
        var direct = b.Rows[0];
        Assert.Multiple(() =>
        {
            // Direct: v-b (sB1, awareness) and v-c (sC2, consideration)
            Assert.That((direct.Visitors, direct.Sessions, direct.Touchpoints), Is.EqualTo((2L, 2L, 3L)));
            Assert.That(direct.Reached, Is.EqualTo(Stages(2, 1, 0)));
            Assert.That(direct.Conversion["consideration"], Is.EqualTo(0.5));
            Assert.That(direct.Conversion["decision"], Is.EqualTo(0.0));
            Assert.That(direct.Conversion["retention"], Is.Null);
            // Email: v-a's sA2 reached decision
            Assert.That(b.Rows[1].Reached, Is.EqualTo(Stages(1, 1, 1)));
            Assert.That((b.Rows[3].Visitors, b.Rows[3].Touchpoints), Is.EqualTo((1L, 2L)));
        });
    }

    [Test]
    public void Breakdown_by_the_other_dimensions()
    {
        Assert.Multiple(() =>
        {
            // sources: sA1 Google (search referrer), sA2 newsletter, sB1 and sC2 (direct), sC1 google (utm)
            var source = _q.Breakdown(Dataset.Request(), "source").Rows.ToDictionary(r => r.Value, r => r.Visitors);
            Assert.That(source, Is.EqualTo(new Dictionary<string, long> { ["(direct)"] = 2, ["Google"] = 1, ["google"] = 1, ["newsletter"] = 1 }));
            var medium = _q.Breakdown(Dataset.Request(), "medium").Rows.ToDictionary(r => r.Value, r => r.Sessions);
            Assert.That(medium, Is.EqualTo(new Dictionary<string, long> { ["(none)"] = 2, ["search"] = 1, ["email"] = 1, ["cpc"] = 1 }));
            var campaign = _q.Breakdown(Dataset.Request(), "campaign").Rows.ToDictionary(r => r.Value, r => r.Visitors);
            Assert.That(campaign, Is.EqualTo(new Dictionary<string, long> { ["(not set)"] = 3, ["brand"] = 1, ["nurture"] = 1 }));
            Assert.That(_q.Breakdown(Dataset.Request(), "term").Rows.Single(r => r.Value == "acme crm").Touchpoints, Is.EqualTo(2));
            var referrer = _q.Breakdown(Dataset.Request(), "referrer_host").Rows.ToDictionary(r => r.Value, r => r.Sessions);
            Assert.That(referrer, Is.EqualTo(new Dictionary<string, long> { ["(not set)"] = 3, ["www.google.com"] = 2 }));
            var landing = _q.Breakdown(Dataset.Request(), "landing_page").Rows.ToDictionary(r => r.Value, r => r.Touchpoints);
            Assert.That(landing, Is.EqualTo(new Dictionary<string, long> { ["/blog/what-is-crm"] = 2, ["/pricing"] = 1, ["/"] = 2, ["/lp/crm"] = 2, ["/docs"] = 1 }));
            var country = _q.Breakdown(Dataset.Request(), "country").Rows.ToDictionary(r => r.Value, r => r.Visitors);
            Assert.That(country, Is.EqualTo(new Dictionary<string, long> { ["FR"] = 2, ["DE"] = 1 }));
            foreach (var dim in AnalyticsVocabulary.Dimensions)
            {
                Assert.That(_q.Breakdown(Dataset.Request(), dim).Rows.Sum(r => r.Touchpoints), Is.EqualTo(8), dim);
            }
            Assert.Throws<ArgumentException>(() => _q.Breakdown(Dataset.Request(), "visitor; DROP TABLE touchpoints"));
        });
    }

    [Test]
    public void Funnel_counts_each_visitor_in_every_stage_up_to_the_highest_and_times_between_stages()
    {
        var f = _q.Funnel(Dataset.Request());
        var aw = f.Stages[0];
        var co = f.Stages[1];
        var de = f.Stages[2];
        Assert.Multiple(() =>
        {
            Assert.That(f.Stages.Select(s => s.Visitors), Is.EqualTo(new long[] { 3, 2, 1, 0, 0 }));
            Assert.That(co.ConversionFromPrevious, Is.EqualTo(2.0 / 3).Within(1e-9));
            Assert.That(de.ConversionFromPrevious, Is.EqualTo(0.5));
            Assert.That((aw.DropOff, co.DropOff, de.DropOff), Is.EqualTo((1L, 1L, 1L)));
            Assert.That(aw.DropOffRate, Is.EqualTo(1.0 / 3).Within(1e-9));
            // awareness -> consideration: v-a 5 min (300 s), v-c 2 min (120 s): median 210, p75 120 + 0.75 * 180 = 255
            Assert.That(co.TimedJourneys, Is.EqualTo(2));
            Assert.That(co.MedianSecondsFromPrevious, Is.EqualTo(210).Within(1e-6));
            Assert.That(co.P75SecondsFromPrevious, Is.EqualTo(255).Within(1e-6));
            // consideration -> decision: v-a 03-01 10:05 -> 03-02 09:00 = 22 h 55 min
            Assert.That(de.MedianSecondsFromPrevious, Is.EqualTo(22 * 3600 + 55 * 60).Within(1e-6));
            Assert.That(aw.MedianSecondsFromPrevious, Is.Null);
        });
    }

    [Test]
    public void Funnel_by_dimension_and_with_filters()
    {
        var f = _q.Funnel(Dataset.Request(), "channel");
        var groups = f.Groups!.ToDictionary(g => g.Value, g => g.Stages.Take(3).Select(s => s.Visitors).ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(f.Stages.Select(s => s.Visitors).Take(3), Is.EqualTo(new long[] { 3, 2, 1 }));
            Assert.That(groups["Direct"], Is.EqualTo(new long[] { 2, 1, 0 }));
            Assert.That(groups["Email"], Is.EqualTo(new long[] { 1, 1, 1 }));
            Assert.That(groups["Organic Search"], Is.EqualTo(new long[] { 1, 1, 0 }));
            Assert.That(groups["Paid Search"], Is.EqualTo(new long[] { 1, 1, 0 }));
            var paid = _q.Funnel(Dataset.Request(new AnalyticsFilters(Channel: "Paid Search")));
            Assert.That(paid.Stages.Select(s => s.Visitors).Take(3), Is.EqualTo(new long[] { 1, 1, 0 }));
            Assert.That(paid.Stages[1].MedianSecondsFromPrevious, Is.EqualTo(120).Within(1e-6));
        });
    }

    [Test]
    public void Journey_lists_every_touch_in_order_grouped_by_session()
    {
        var j = _q.Journey(Dataset.Request(), "v-a")!;
        Assert.Multiple(() =>
        {
            Assert.That(j.Touches, Is.EqualTo(3));
            Assert.That(j.CurrentStage, Is.EqualTo("decision"));
            Assert.That(j.Sessions.Select(s => s.SessionIndex), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(j.Sessions.Select(s => s.JourneyId).Distinct(), Is.EqualTo(new[] { "v-a:a1" }));
            Assert.That(j.Sessions[0].Touches.Select(t => t.EventId), Is.EqualTo(new[] { "a1", "a2" }));
            Assert.That(j.Sessions[0].Channel, Is.EqualTo("Organic Search"));
            Assert.That(j.Sessions[0].End, Is.EqualTo(new DateTime(2026, 3, 1, 10, 5, 0)));
            var a2 = j.Sessions[0].Touches[1];
            Assert.That((a2.StageBefore, a2.StageAfter, a2.PagePath), Is.EqualTo(("awareness", "consideration", "/compare")));
            Assert.That(a2.Source, Is.EqualTo("Google"), "a touch after an internal link keeps its session's source");
            Assert.That(j.Sessions[1].Touches[0].Reasons, Is.EqualTo(new[] { "decision.pricing-page", "consideration.nurture-email" }));
            Assert.That(_q.Journey(Dataset.Request(), "v-nobody"), Is.Null);
            Assert.That(_q.Journey(Dataset.Request(site: "acme"), "v-d")!.Touches, Is.Zero, "v-d exists but has no touch in the range");
        });
    }

    [Test]
    public void Journey_search_by_prefix()
    {
        Assert.Multiple(() =>
        {
            var all = _q.SearchJourneys(Dataset.Request(), "v-");
            // latest first: v-c (03-03 08:00), v-a (03-02 09:00), v-b (03-01 12:10); v-d has nothing in the range
            Assert.That(all.Visitors.Select(v => v.VisitorId), Is.EqualTo(new[] { "v-c", "v-a", "v-b" }));
            var a = _q.SearchJourneys(Dataset.Request(), "v-a").Visitors.Single();
            Assert.That((a.Sessions, a.Touchpoints, a.Stage), Is.EqualTo((2L, 3L, "decision")));
            Assert.That(_q.SearchJourneys(Dataset.Request(), "%").Visitors, Is.Empty, "LIKE wildcards are plain characters");
            Assert.That(_q.SearchJourneys(Dataset.Request(new AnalyticsFilters(Channel: "Email")), "v-").Visitors.Select(v => v.VisitorId), Is.EqualTo(new[] { "v-a" }));
        });
    }

    [Test]
    public void Realtime_lists_visitors_of_the_last_five_minutes_with_their_stage()
    {
        // now 03-02 15:04: c1 (15:00) and c2 (15:02) are in the window, a3 (09:00) is not
        var r = _q.Realtime("acme", AnalyticsFilters.None, Dataset.At(3, 2, 15, 4));
        Assert.Multiple(() =>
        {
            Assert.That(r.Visitors, Is.EqualTo(1));
            Assert.That(r.ByStage["consideration"], Is.EqualTo(1));
            Assert.That(r.Recent.Single().VisitorId, Is.EqualTo("v-c"));
            Assert.That(r.Recent.Single().Touches, Is.EqualTo(2));
            Assert.That(r.Recent.Single().Page, Is.EqualTo("/case-studies"));
            Assert.That(_q.Realtime("acme", new AnalyticsFilters(Channel: "Direct"), Dataset.At(3, 2, 15, 4)).Visitors, Is.Zero);
        });
    }
}
