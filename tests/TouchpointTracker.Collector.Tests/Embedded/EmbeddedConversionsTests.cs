using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Embedded;

/// <summary>
/// Conversions end to end in the embedded mode, over HTTP: the tag's purchase beacon, sent twice with the same
/// order id, counts once; a refund from the offline events API retracts it; the API and the staged touchpoints show it.
/// </summary>
[NonParallelizable]
public sealed class EmbeddedConversionsTests
{
    [Test]
    public async Task A_purchase_sent_twice_counts_once_and_a_refund_retracts_it()
    {
        await using var collector = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Analytics:FlushIntervalMs"] = "100",
            ["Conversions:ReportingCurrency"] = "EUR",
            ["Conversions:Rates:USD"] = "0.5",
        });
        using var http = collector.CreateClient();
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await PostAsync(http, visitor, now - 3000, new JsonObject { ["type"] = "pageview", ["url"] = "https://shop.example/checkout", ["title"] = "Checkout" });
        var purchase = new JsonObject { ["value"] = 49.9, ["currency"] = "USD", ["order_id"] = "A-1001" };
        await PostAsync(http, visitor, now - 2000, new JsonObject { ["type"] = "event", ["name"] = "purchase", ["url"] = "https://shop.example/thanks", ["props"] = purchase.DeepClone() });
        // the thank-you page reloaded: the tag sends the purchase again, with a new event id and the same order
        await PostAsync(http, visitor, now - 1000, new JsonObject { ["type"] = "event", ["name"] = "purchase", ["url"] = "https://shop.example/thanks", ["props"] = purchase.DeepClone() });
        await PostAsync(http, visitor, now - 900, new JsonObject { ["type"] = "event", ["name"] = "lead", ["url"] = "https://shop.example/contact", ["props"] = new JsonObject { ["lead_id"] = "L-9" } });

        var staged = await WaitForAsync(http, $"/api/events?visitor={visitor}&limit=100", n => n.AsArray().Count >= 4);
        var conversions = staged.AsArray().Where(t => t!["journey"]!["conversion"] is not null).Select(t => t!["journey"]!["conversion"]!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(conversions.Select(c => (string?)c["type"]), Is.EqualTo(new[] { "purchase", "lead" }), staged.ToJsonString());
            Assert.That((double?)conversions[0]["reporting_value"], Is.EqualTo(24.95).Within(1e-9));
            Assert.That((string?)conversions[1]["order_id"], Is.Not.EqualTo("L-9"), "a lead id is kept hashed");
        });
        foreach (var tp in staged.AsArray())
        {
            Schemas.AssertValid(Schemas.StagedTouchpoint, Encoding.UTF8.GetBytes(tp!.ToJsonString()));
        }

        var before = await WaitForAsync(http, "/api/v1/conversions?site=demo", n => (long?)n["conversions"] == 2);
        Assert.Multiple(() =>
        {
            Assert.That((double?)before["revenue"], Is.EqualTo(24.95).Within(1e-9));
            Assert.That(before["items"]!.AsArray().Count(i => (string?)i!["type"] == "purchase"), Is.EqualTo(1), "the same order twice counts once");
        });

        // the refund, from the shop's back office
        var refund = new JsonObject
        {
            ["site"] = "demo",
            ["events"] = new JsonArray(new JsonObject
            {
                ["event_id"] = "refund-A-1001", ["type"] = "refund", ["occurred_at"] = DateTimeOffset.UtcNow.ToString("O"),
                ["visitor_id"] = visitor, ["order_id"] = "A-1001",
            }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events") { Content = new StringContent(refund.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "demo-server-key");
        using var answer = await http.SendAsync(request);
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK), await answer.Content.ReadAsStringAsync());

        var after = await WaitForAsync(http, "/api/v1/conversions?site=demo", n => (long?)n["refunds"] == 1);
        var overview = JsonNode.Parse(await http.GetStringAsync("/api/v1/overview?site=demo"))!;
        var items = after["items"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That((long?)after["conversions"], Is.EqualTo(1), "the purchase is retracted; the lead stays");
            Assert.That((double?)after["revenue"], Is.EqualTo(0).Within(1e-9));
            Assert.That((bool?)items.Single(i => (string?)i!["type"] == "purchase")!["retracted"], Is.True);
            Assert.That((double?)items.Single(i => (string?)i!["type"] == "refund")!["value"], Is.EqualTo(-49.9).Within(1e-9));
            Assert.That((long?)overview["conversions"], Is.EqualTo(1));
            Assert.That((double?)overview["revenue"], Is.EqualTo(0).Within(1e-9));
        });
        var records = JsonNode.Parse(await http.GetStringAsync($"/api/conversion-records?visitor={visitor}"))!.AsArray();
        foreach (var record in records)
        {
            Schemas.AssertValid(Schemas.Conversion, Encoding.UTF8.GetBytes(record!.ToJsonString()));
        }
        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => (string?)r!["type"]), Is.EqualTo(new[] { "purchase", "lead", "refund" }), "one record per conversion, as tt.conversions carries them");
            Assert.That((string?)records[0]!["lead_touch"]!["page"], Is.EqualTo("/thanks"));
            Assert.That((string?)records[0]!["reporting_currency"], Is.EqualTo("EUR"));
            Assert.That((string?)records[2]!["retracts"], Is.EqualTo((string?)records[0]!["conversion_id"]));
        });
        var metrics = await http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_conversion_duplicates_total{} 1").And.Contain("tt_conversions_total{type=\"refund\"} 1"));
    }

    private static async Task PostAsync(HttpClient http, string visitor, long ts, JsonObject ev)
    {
        ev["id"] = Guid.NewGuid().ToString();
        ev["ts"] = ts;
        var beacon = new JsonObject
        {
            ["v"] = 1, ["site"] = "demo", ["vid"] = visitor, ["sid"] = "s-" + visitor,
            ["events"] = new JsonArray(ev), ["sent"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
        using var response = await http.PostAsync("/collect", new StringContent(beacon.ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> WaitForAsync(HttpClient http, string url, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode node;
        do
        {
            node = JsonNode.Parse(await http.GetStringAsync(url))!;
            if (done(node))
            {
                return node;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"{url} did not reach the expected answer in 30 s: {node.ToJsonString()}");
        return node;
    }
}
