using System.Net;
using FsCheck;
using FsCheck.Fluent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Collector.Offline;
using TouchpointTracker.ServiceDefaults;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>
/// Calls to tracking numbers through the offline events API on a real embedded collector: the visitor who held
/// the number at the time is found, the call joins their journey, and matched and unmatched calls are counted.
/// </summary>
[NonParallelizable]
public sealed class CallMatchingTests
{
    private const string ServerKey = "shop-server-key-0123456789";
    private CollectorHost _host = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:shop:Domains:0"] = "shop.example",
            ["Collector:Sites:shop:ServerKeys:0"] = ServerKey,
            ["Collector:Sites:shop:CallTracking:Pools:main:ReplacesNumber"] = "+33 1 23 45 67 89",
            ["Collector:Sites:shop:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
            ["Collector:Sites:shop:CallTracking:Pools:main:Numbers:1"] = "+33 1 23 45 67 02",
            ["Collector:Sites:shop:CallTracking:Pools:main:Numbers:2"] = "+33 1 23 45 67 03",
            ["Collector:Sites:shop:CallTracking:Pools:ads:ReplacesNumber"] = "+33 1 23 45 67 89",
            ["Collector:Sites:shop:CallTracking:Pools:ads:Channels:0"] = "Paid Search",
            ["Collector:Sites:shop:CallTracking:Pools:ads:Numbers:0"] = "+33 1 23 45 67 21",
            ["Collector:Sites:shop:CallTracking:Pools:ads:Source"] = "Google Ads (call)",
        });
        _http = _host.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static string Now(double minutes = 0) => DateTimeOffset.UtcNow.AddMinutes(minutes).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<JsonNode> PostAsync(string events)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events")
        {
            Content = new StringContent($$"""{"site":"shop","events":[{{events}}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerKey);
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private async Task<List<JsonNode>> StagedAsync(string visitor, Func<List<JsonNode>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var staged = JsonNode.Parse(await _http.GetStringAsync($"/api/events?site=shop&visitor={visitor}&limit=1000"))!.AsArray().Select(e => e!).ToList();
            if (done(staged) || DateTime.UtcNow > deadline)
            {
                return staged;
            }
            await Task.Delay(100);
        }
    }

    private long Calls(string pool, string result) =>
        _host.Services.GetRequiredService<CallTrackingMetrics>().Calls.Get(MetricsRegistry.Labels(("site", "shop"), ("pool", pool), ("result", result)));

    [Test]
    public async Task Search_then_a_visit_showing_the_pool_number_then_a_call_to_it_puts_the_call_in_that_journey()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        // Found through search, read the blog; later came back directly and was shown a tracking number.
        foreach (var (url, referrer) in new[] { ("https://shop.example/", "https://www.google.com/"), ("https://shop.example/blog/post", "https://shop.example/"), ("https://shop.example/contact", "") })
        {
            using var beacon = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview(url, referrer, site: "shop", visitor: visitor)));
            Assert.That(beacon.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }
        var number = (string)JsonNode.Parse(await _http.GetStringAsync($"/numbers?site=shop&vid={visitor}&sid=s-1"))!["number"]!;
        var matched = Calls("main", "matched");

        // The call platform sends the call as it knows it: the number dialled, in national format, no visitor.
        var national = "0" + number[3..4] + " " + number[4..6] + " " + number[6..8] + " " + number[8..10] + " " + number[10..12];
        var answer = await PostAsync($$"""{"event_id":"call-{{visitor}}","type":"call","occurred_at":"{{Now(5)}}","tracking_number":"{{national}}","duration_s":240,"answered":true}""");
        Assert.That((string?)answer["results"]![0]!["status"], Is.EqualTo("accepted"), answer.ToJsonString());

        var staged = await StagedAsync(visitor, s => s.Any(e => (string?)e["type"] == "offline"));
        var call = staged.Single(e => (string?)e["type"] == "offline");
        var first = staged.OrderBy(e => (int?)e["journey"]!["touch_index"]).First();
        TouchpointTracker.Journeys.Tests.Support.Schemas.AssertValid(TouchpointTracker.Journeys.Tests.Support.Schemas.StagedTouchpoint, Encoding.UTF8.GetBytes(call.ToJsonString()));
        Assert.Multiple(() =>
        {
            Assert.That((string?)call["name"], Is.EqualTo("call"));
            Assert.That((string?)call["props"]!["tracking_number"], Is.EqualTo(number), "kept in E.164");
            Assert.That((string?)call["props"]![CallMatcher.PoolProp], Is.EqualTo("main"));
            Assert.That((string?)call["props"]![CallMatcher.MatchedByProp], Is.EqualTo("tracking_number"));
            Assert.That((string?)call["journey"]!["id"], Is.EqualTo((string?)first["journey"]!["id"]), "the call is in the journey that began with search");
            Assert.That((string?)first["channel"], Is.EqualTo("Organic Search"));
            Assert.That(Calls("main", "matched"), Is.EqualTo(matched + 1));
        });
    }

    [Test]
    public async Task A_call_nobody_held_the_number_for_is_kept_unmatched_counted_and_given_the_pools_source()
    {
        var unmatched = Calls("ads", "unmatched");
        var answer = await PostAsync($$"""{"event_id":"call-nobody-{{Guid.NewGuid():N}}","type":"call","occurred_at":"{{Now(-1)}}","tracking_number":"+33 1 23 45 67 21"}""");
        var result = answer["results"]![0]!;
        var missing = await PostAsync($$"""{"event_id":"call-other-{{Guid.NewGuid():N}}","type":"call","occurred_at":"{{Now(-1)}}","tracking_number":"+33 9 99 99 99 99"}""");
        Assert.Multiple(() =>
        {
            // Accepted without any identifier because it was made to a pool number: the processor keeps it as an
            // unmatched touch (the caller's phone, when sent, can match it later).
            Assert.That((string?)result["status"], Is.EqualTo("accepted"), result.ToJsonString());
            Assert.That(Calls("ads", "unmatched"), Is.EqualTo(unmatched + 1));
            // A call to a number of no pool, with no identifier, has nothing to be kept by.
            Assert.That((string?)missing["results"]![0]!["reason"], Is.EqualTo(OfflineReasons.MissingIdentity));
        });
    }

    [Test]
    public async Task The_matcher_sets_the_pools_source_only_when_the_call_has_none_and_leaves_calls_with_a_visitor_or_another_number_alone()
    {
        var matcher = _host.Services.GetRequiredService<CallMatcher>();
        OfflineRow Row(params (string, string)[] fields) => new(fields.ToDictionary(f => f.Item1, f => f.Item2));
        var rows = new List<OfflineRow>
        {
            Row(("type", "call"), ("occurred_at", Now()), ("tracking_number", "01 23 45 67 21")),
            Row(("type", "call"), ("occurred_at", Now()), ("tracking_number", "+33123456721"), ("source", "Bing Ads")),
            Row(("type", "call"), ("occurred_at", Now()), ("tracking_number", "+33123456721"), ("visitor_id", "v-known")),
            Row(("type", "call"), ("occurred_at", Now()), ("tracking_number", "+33 1 99 99 99 99")),
            Row(("type", "meeting"), ("occurred_at", Now()), ("tracking_number", "+33123456721")),
        };
        var matches = await matcher.MatchAsync(rows, "shop", DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(matches.Keys, Is.EquivalentTo(new[] { 0, 1 }));
            Assert.That(rows[0].Fields["source"], Is.EqualTo("Google Ads (call)"));
            Assert.That(rows[0].Fields["tracking_number"], Is.EqualTo("+33123456721"));
            Assert.That(rows[1].Fields["source"], Is.EqualTo("Bing Ads"));
            Assert.That(rows[2].Fields["visitor_id"], Is.EqualTo("v-known"));
            Assert.That(rows[3].Fields.ContainsKey("source"), Is.False);
            Assert.That(rows[4].Fields.ContainsKey("source"), Is.False);
        });
    }

    [Test]
    public async Task A_call_after_the_hold_of_the_last_activity_is_not_given_to_that_visitor()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var number = (string)JsonNode.Parse(await _http.GetStringAsync($"/numbers?site=shop&vid={visitor}&sid=s-1"))!["number"]!;
        var matcher = _host.Services.GetRequiredService<CallMatcher>();
        var late = new List<OfflineRow> { new(new() { ["type"] = "call", ["occurred_at"] = Now(31), ["tracking_number"] = number }) };
        var early = new List<OfflineRow> { new(new() { ["type"] = "call", ["occurred_at"] = Now(-1), ["tracking_number"] = number }) };
        var inTime = new List<OfflineRow> { new(new() { ["type"] = "call", ["occurred_at"] = Now(29), ["tracking_number"] = number }) };
        var now = DateTimeOffset.UtcNow;
        await matcher.MatchAsync(late, "shop", now, CancellationToken.None);
        await matcher.MatchAsync(early, "shop", now, CancellationToken.None);
        await matcher.MatchAsync(inTime, "shop", now, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(late[0].Fields.ContainsKey("visitor_id"), Is.False, "31 minutes after the last activity, the hold is over");
            Assert.That(early[0].Fields.ContainsKey("visitor_id"), Is.False, "before the number was shown");
            Assert.That(inTime[0].Fields.GetValueOrDefault("visitor_id"), Is.EqualTo(visitor));
        });
    }

    [Test]
    public void No_tracking_number_or_time_makes_the_matcher_throw()
    {
        var matcher = _host.Services.GetRequiredService<CallMatcher>();
        var texts = Gen.Elements("+33 1 23 45 67 01", "01 23 45 67 21", "0033123456702", "+33 (0)1 23 45 67 03", "(((", "+", "", " ", "tel:", "\ud83d",
            new string('1', 40), "01 23 45 67 0", "2026-03-01T14:05:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00-23:59", "not a time");
        var rows = Gen.ListOf(Gen.Zip(Gen.Zip(texts, texts), Gen.Elements("call", "meeting", "CALL")).Select(t =>
            new OfflineRow(new Dictionary<string, string> { ["type"] = t.Item2, ["tracking_number"] = t.Item1.Item1, ["occurred_at"] = t.Item1.Item2 })));
        Prop.ForAll(rows.ToArbitrary(), list =>
        {
            var copy = list.ToList();
            var matches = matcher.MatchAsync(copy, "shop", DateTimeOffset.UtcNow, CancellationToken.None).GetAwaiter().GetResult();
            // Only calls to pool numbers are touched, and each of them gets a visitor or a source.
            return matches.Keys.All(i => copy[i].Fields["type"] == "call" && (copy[i].Fields.ContainsKey("visitor_id") || copy[i].Fields.ContainsKey("source")));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(1000));
    }
}
