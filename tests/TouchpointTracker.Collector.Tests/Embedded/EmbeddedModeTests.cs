using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Embedded;

/// <summary>
/// The collector's embedded mode runs the same engine: its staged touchpoints match the schema, and it
/// follows Journeys:RulesPath, reloading the file when it changes.
/// </summary>
[NonParallelizable]
public sealed class EmbeddedModeTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tt-embedded-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task The_embedded_mode_stages_with_the_rules_file_and_reloads_it_on_change()
    {
        var rules = Path.Combine(_dir, "rules.yaml");
        await File.WriteAllTextAsync(rules, Rules("site.special-offer"));
        await using var collector = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Journeys:RulesPath"] = rules });
        using var http = collector.CreateClient();
        var visitor = "v-" + Guid.NewGuid().ToString("N");

        await PostAsync(http, visitor, "https://shop.example/special-offer?utm_source=news&utm_medium=email&utm_campaign=june");
        var first = await WaitForAsync(http, visitor, 1);
        Assert.Multiple(() =>
        {
            Assert.That((string?)first[0]!["journey"]!["stage"], Is.EqualTo("decision"));
            Assert.That(first[0]!["journey"]!["reasons"]!.AsArray().Select(r => (string?)r), Does.Contain("site.special-offer"));
        });

        await File.WriteAllTextAsync(rules, Rules("site.special-offer-v2"));
        File.SetLastWriteTimeUtc(rules, DateTime.UtcNow.AddSeconds(2));
        JsonArray staged;
        var attempt = 0;
        do
        {
            await Task.Delay(300);
            await PostAsync(http, visitor, $"https://shop.example/special-offer/{++attempt}");
            staged = await WaitForAsync(http, visitor, attempt + 1);
        }
        while (!staged[^1]!["journey"]!["reasons"]!.AsArray().Any(r => (string?)r == "site.special-offer-v2") && attempt < 30);

        Assert.That(staged[^1]!["journey"]!["reasons"]!.AsArray().Select(r => (string?)r), Does.Contain("site.special-offer-v2"), "the changed file is in use");
        Assert.That((string?)staged[^1]!["campaign"]!["name"], Is.EqualTo("june"), "the session's landing campaign is carried: " + staged.ToJsonString());
        foreach (var tp in staged)
        {
            Schemas.AssertValid(Schemas.StagedTouchpoint, Encoding.UTF8.GetBytes(tp!.ToJsonString()));
        }
    }

    [Test]
    public async Task An_invalid_rules_file_stops_the_collector_with_every_problem_named()
    {
        var rules = Path.Combine(_dir, "broken.yaml");
        await File.WriteAllTextAsync(rules, "rules:\n  - { id: x, stage: later, when: { path_group: [nowhere] } }\n");

        var ex = Assert.CatchAsync(async () => await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Journeys:RulesPath"] = rules }))!;

        var message = ex.ToString();
        Assert.That(message, Does.Contain(rules));
        Assert.That(message, Does.Contain("(got 'later')"));
        Assert.That(message, Does.Contain("unknown group 'nowhere'"));
    }

    private static string Rules(string id) => $$"""
        rules:
          - { id: start, stage: awareness, points: 1, when: { first_touch: true } }
          - { id: {{id}}, stage: decision, points: 20, when: { path: ['^/special-offer'] } }
        """;

    private static async Task PostAsync(HttpClient http, string visitor, string url)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var beacon = new JsonObject
        {
            ["v"] = 1,
            ["site"] = "demo",
            ["vid"] = visitor,
            ["sid"] = "s-" + visitor,
            ["events"] = new JsonArray(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["type"] = "pageview", ["ts"] = now - 10, ["url"] = url, ["title"] = "t" }),
            ["sent"] = now,
        };
        using var response = await http.PostAsync("/collect", new StringContent(beacon.ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted).Or.EqualTo(HttpStatusCode.NoContent), await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonArray> WaitForAsync(HttpClient http, string visitor, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonArray events;
        do
        {
            events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={visitor}&limit=1000"))!.AsArray();
            if (events.Count >= count)
            {
                return events;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"{events.Count} staged events of {visitor}, expected {count}: {events.ToJsonString()}");
        return events;
    }
}
