using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Offline;

/// <summary>
/// POST /api/v1/offline-events on a real embedded collector: server keys, per-event answers, idempotent retries,
/// CSV uploads, and the accepted events staged in their visitor's journey with no e-mail or phone in clear.
/// </summary>
[NonParallelizable]
public sealed class OfflineEventsApiTests
{
    private const string Path = "/api/v1/offline-events";
    private const string OtherSiteKey = "shop-server-key-0123456789";
    private const string Email = "Jane.Doe@Example.COM";
    private const string Phone = "+33 6 12 34 56 78";

    private CollectorHost _collector = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _collector = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:shop:Domains:0"] = "shop.example",
            ["Collector:Sites:shop:ServerKeys:0"] = OtherSiteKey,
        });
        _http = _collector.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _collector.DisposeAsync();
    }

    private static string Now(double days = 0) => DateTimeOffset.UtcNow.AddDays(days).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string CallEvent(string id, string visitor, double days = -0.01) =>
        $$"""{"event_id":"{{id}}","type":"call","occurred_at":"{{Now(days)}}","visitor_id":"{{visitor}}","email":"{{Email}}","phone":"{{Phone}}","tracking_number":"+1 555 0100","duration_s":185,"answered":true,"source":"Google Ads"}""";

    private async Task<HttpResponseMessage> PostAsync(string body, string? key = "demo-server-key", string contentType = "application/json", string query = "", string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path + query) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await _http.SendAsync(request);
    }

    private async Task<JsonArray> StagedAsync(string visitor, int atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonArray events;
        do
        {
            events = JsonNode.Parse(await _http.GetStringAsync($"/api/events?visitor={visitor}&limit=1000"))!.AsArray();
            if (events.Count >= atLeast)
            {
                return events;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return events;
    }

    private static string Visitor() => "v-" + Guid.NewGuid().ToString("N");

    [TestCase(null, HttpStatusCode.Unauthorized, "missing_server_key")]
    [TestCase("not-a-key-of-any-site-at-all", HttpStatusCode.Unauthorized, "unknown_server_key")]
    [TestCase(OtherSiteKey, HttpStatusCode.Forbidden, "site_not_allowed")]
    public async Task A_missing_unknown_or_other_sites_key_is_refused_and_nothing_is_stored(string? key, HttpStatusCode status, string reason)
    {
        var visitor = Visitor();
        using var response = await PostAsync($$"""{"site":"demo","events":[{{CallEvent("e-1", visitor)}}]}""", key);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(status));
            Assert.That((string?)problem["reason"], Is.EqualTo(reason));
        });
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        }
        await Task.Delay(300);
        Assert.That(JsonNode.Parse(await _http.GetStringAsync($"/api/events?visitor={visitor}"))!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task An_accepted_call_is_staged_for_its_visitor_at_occurred_at_with_no_clear_email_or_phone()
    {
        var visitor = Visitor();
        using var response = await PostAsync($$"""{"site":"demo","events":[{{CallEvent("call-1", visitor)}}]}""");
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((string?)answer["results"]![0]!["status"], Is.EqualTo("accepted"));
            Assert.That((string?)answer["results"]![0]!["event_id"], Is.EqualTo("call-1"));
        });

        var staged = await StagedAsync(visitor, 1);
        Assert.That(staged, Has.Count.EqualTo(1));
        var tp = staged[0]!;
        var json = tp.ToJsonString();
        TouchpointTracker.Journeys.Tests.Support.Schemas.AssertValid(TouchpointTracker.Journeys.Tests.Support.Schemas.StagedTouchpoint, Encoding.UTF8.GetBytes(json));
        Assert.Multiple(() =>
        {
            Assert.That((string?)tp["type"], Is.EqualTo("offline"));
            Assert.That((string?)tp["name"], Is.EqualTo("call"));
            Assert.That((string?)tp["channel"], Is.EqualTo("Google Ads"));
            Assert.That((long?)tp["props"]!["duration_s"], Is.EqualTo(185));
            Assert.That((string?)tp["props"]!["email_sha256"], Has.Length.EqualTo(64));
            Assert.That((string?)tp["props"]!["email_sha256"], Is.EqualTo(Sha256("jane.doe@example.com")));
            Assert.That((string?)tp["props"]!["phone_sha256"], Is.EqualTo(Sha256("+33612345678")));
            Assert.That(tp["journey"], Is.Not.Null);
            Assert.That(json, Does.Not.Contain("jane.doe").IgnoreCase);
            Assert.That(json, Does.Not.Contain("612345678"));
            Assert.That(json, Does.Not.Contain("12 34 56"));
        });

        // The analytics store takes the offline touch too, and it holds no clear e-mail or phone either.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string journey = "";
        while (DateTime.UtcNow < deadline)
        {
            using var answer2 = await _http.GetAsync($"/api/v1/journeys/{visitor}?site=demo");
            journey = await answer2.Content.ReadAsStringAsync();
            if (answer2.StatusCode == HttpStatusCode.OK && (int?)JsonNode.Parse(journey)!["touches"] >= 1)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Multiple(() =>
        {
            Assert.That((int?)JsonNode.Parse(journey)!["touches"], Is.EqualTo(1), journey);
            Assert.That(journey, Does.Not.Contain("jane.doe").IgnoreCase);
            Assert.That(journey, Does.Not.Contain("612345678"));
        });
    }

    [TestCase("short-key")]
    [TestCase("               x")]
    public void A_server_key_shorter_than_16_characters_stops_the_collector_naming_the_setting(string key)
    {
        var ex = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Collector:Sites:shop:Domains:0"] = "shop.example",
            ["Collector:Sites:shop:ServerKeys:0"] = key,
        }));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("Collector:Sites:shop:ServerKeys:0"));
            Assert.That(ex.Message, Does.Not.Contain(key.Trim()));
        });
    }

    private static string Sha256(string s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [Test]
    public async Task Each_event_has_its_own_answer_duplicates_and_too_old_events_included()
    {
        var visitor = Visitor();
        var body = $$"""
            {"site":"demo","events":[
              {{CallEvent("a-1", visitor)}},
              {{CallEvent("a-1", visitor)}},
              {{CallEvent("a-2", visitor, days: -100)}},
              {"event_id":"a-3","type":"call","occurred_at":"{{Now()}}","user_id":"undefined"},
              {"event_id":"a-4","type":"Not A Type","occurred_at":"{{Now()}}","visitor_id":"{{visitor}}"},
              {"event_id":"a-5","type":"revenue","occurred_at":"{{Now()}}","visitor_id":"{{visitor}}","value":120.5,"currency":"euros"},
              {"event_id":"a-6","type":"crm_stage","occurred_at":"{{Now(1)}}","visitor_id":"{{visitor}}","stage":"won"},
              42
            ]}
            """;
        using var response = await PostAsync(body);
        var results = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["results"]!.AsArray();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var got = results.Select(r => ((string?)r!["status"], (string?)r["reason"])).ToList();
        Assert.That(got, Is.EqualTo(new[]
        {
            ("accepted", null), ("duplicate", "duplicate_event_id"), ("rejected", "too_old"), ("rejected", "missing_identity"),
            ("rejected", "invalid_event_type"), ("rejected", "invalid_currency"), ("rejected", "in_future"), ("rejected", "invalid_event"),
        }.Select(t => (t.Item1, (string?)t.Item2))));
        Assert.That(await StagedAsync(visitor, 1), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_retry_with_the_same_idempotency_key_gets_the_first_answer()
    {
        var visitor = Visitor();
        var key = "idem-" + Guid.NewGuid().ToString("N");
        var body = $$"""{"events":[{{CallEvent("i-1", visitor)}},{{CallEvent("i-2", visitor, days: -100)}}]}""";
        using var first = await PostAsync(body, idempotencyKey: key);
        var firstAnswer = await first.Content.ReadAsStringAsync();
        // The retry differs (a new event): the first answer comes back all the same, and nothing more is stored.
        using var retry = await PostAsync($$"""{"events":[{{CallEvent("i-3", visitor)}}]}""", idempotencyKey: key);
        Assert.Multiple(async () =>
        {
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await retry.Content.ReadAsStringAsync(), Is.EqualTo(firstAnswer));
        });
        await Task.Delay(300);
        Assert.That((await StagedAsync(visitor, 1)).Select(e => (string?)e!["event_id"]), Is.EqualTo(new[] { "i-1" }));
    }

    [Test]
    public async Task A_csv_upload_of_a_thousand_rows_is_accepted()
    {
        var visitor = Visitor();
        var csv = new StringBuilder("event_id,type,occurred_at,visitor_id,phone,duration_s,answered,source\r\n");
        for (var i = 0; i < 1000; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"csv-{i},call,{Now(-i / 100.0 - 0.01)},{visitor},\"+33 6 12 34 56 {i % 100:00}\",{i},{(i % 2 == 0 ? "true" : "false")},\"Sales, EMEA\"\r\n");
        }
        using var response = await PostAsync(csv.ToString(), contentType: "text/csv", query: "?site=demo");
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((int?)answer["accepted"], Is.EqualTo(1000), answer.ToJsonString()[..Math.Min(2000, answer.ToJsonString().Length)]);
        });
        var staged = await StagedAsync(visitor, 1000);
        Assert.Multiple(() =>
        {
            Assert.That(staged, Has.Count.EqualTo(1000));
            Assert.That((string?)staged[0]!["channel"], Is.EqualTo("Sales, EMEA"));
            Assert.That(staged.ToJsonString(), Does.Not.Contain("12 34 56"));
        });
    }

    [Test]
    public async Task A_csv_upload_for_another_sites_key_is_forbidden()
    {
        using var response = await PostAsync("event_id,type,occurred_at,visitor_id\r\nc-1,call," + Now() + ",v-1\r\n", key: OtherSiteKey, contentType: "text/csv", query: "?site=demo");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Too_many_events_or_too_large_a_body_is_refused_with_413_and_a_reason()
    {
        var many = "{\"events\":[" + string.Join(",", Enumerable.Range(0, 501).Select(i => CallEvent("m-" + i, "v-1"))) + "]}";
        using var tooMany = await PostAsync(many);
        using var tooLarge = await PostAsync("{\"events\":[" + new string(' ', 1024 * 1024) + "]}");
        Assert.Multiple(async () =>
        {
            Assert.That(tooMany.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That((string?)JsonNode.Parse(await tooMany.Content.ReadAsStringAsync())!["reason"], Is.EqualTo("too_many_events"));
            Assert.That(tooLarge.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That((string?)JsonNode.Parse(await tooLarge.Content.ReadAsStringAsync())!["reason"], Is.EqualTo("body_too_large"));
        });
    }

    [Test]
    public async Task Rejections_are_counted_by_reason()
    {
        using var response = await PostAsync($$"""{"events":[{{CallEvent("r-1", Visitor(), days: -100)}}]}""");
        var metrics = await _http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_rejected_events_total{").And.Contain("reason=\"too_old\""));
    }
}
