using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Embedded;

/// <summary>
/// The embedded mode is a single-machine product: its history (the analytics store) and its journeys
/// survive a graceful restart and a SIGKILL (which loses at most the last flush interval).
/// </summary>
[NonParallelizable]
public sealed class EmbeddedPersistenceTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = CollectorHost.NewDataFolder();

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private Dictionary<string, string?> Settings() => new()
    {
        ["Analytics:Path"] = Path.Combine(_folder, "analytics.duckdb"),
        ["Analytics:FlushIntervalMs"] = "200",
    };

    [Test]
    public async Task History_and_journeys_survive_a_graceful_restart()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        await using (var first = await CollectorHost.StartAsync(Settings()))
        {
            using var http = first.CreateClient();
            await PostAsync(http, visitor, "https://shop.example/blog/how-to?utm_source=newsletter&utm_medium=email&utm_campaign=june");
            await PostAsync(http, visitor, "https://shop.example/pricing");
            var journey = await WaitForJourneyAsync(http, visitor, touches: 2);
            Assert.That((string?)journey["current_stage"], Is.EqualTo("decision"));
        }

        Assert.That(File.Exists(Path.Combine(_folder, "analytics.duckdb")), Is.True);
        Assert.That(File.Exists(Path.Combine(_folder, "journeys.state")), Is.True);

        await using var second = await CollectorHost.StartAsync(Settings());
        using var again = second.CreateClient();
        var before = await WaitForJourneyAsync(again, visitor, touches: 2);
        Assert.That((string?)before["sessions"]![0]!["channel"], Is.EqualTo("Email"), "the history is still there");

        await PostAsync(again, visitor, "https://shop.example/about");
        var after = await WaitForJourneyAsync(again, visitor, touches: 3);
        var last = after["sessions"]!.AsArray().SelectMany(s => s!["touches"]!.AsArray()).Last()!;
        Assert.Multiple(() =>
        {
            Assert.That((int?)last["touch_index"], Is.EqualTo(3), "the journey went on where it was, not at touch 1");
            Assert.That((string?)last["stage_before"], Is.EqualTo("decision"), "not back at awareness");
            Assert.That((string?)last["stage_after"], Is.EqualTo("decision"));
        });
    }

    [Test]
    public async Task History_and_journeys_survive_a_sigkill_after_the_flush_interval()
    {
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string?>
        {
            ["Analytics:Path"] = Path.Combine(_folder, "analytics.duckdb"),
            ["Analytics:FlushIntervalMs"] = "200",
            ["Edge:RateLimitPerSecond"] = "0",
        };
        await using (var victim = await CollectorProcess.StartAsync(environment))
        {
            using var http = new HttpClient { BaseAddress = victim.BaseAddress };
            await PostAsync(http, visitor, "https://shop.example/blog/how-to?utm_source=newsletter&utm_medium=email&utm_campaign=june");
            await PostAsync(http, visitor, "https://shop.example/pricing");
            await WaitForJourneyAsync(http, visitor, touches: 2);
            await Task.Delay(600); // past the flush interval: the states are on disk too
            victim.Kill();
        }

        await using var survivor = await CollectorProcess.StartAsync(environment);
        using var again = new HttpClient { BaseAddress = survivor.BaseAddress };
        await WaitForJourneyAsync(again, visitor, touches: 2);
        await PostAsync(again, visitor, "https://shop.example/about");
        var after = await WaitForJourneyAsync(again, visitor, touches: 3);
        var last = after["sessions"]!.AsArray().SelectMany(s => s!["touches"]!.AsArray()).Last()!;
        Assert.That((int?)last["touch_index"], Is.EqualTo(3), "the journey state survived the kill");
    }

    private static async Task PostAsync(HttpClient http, string visitor, string url)
    {
        using var response = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview(url, visitor: visitor, session: visitor + "-s1")));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> WaitForJourneyAsync(HttpClient http, string visitor, int touches)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync($"/api/v1/journeys/{visitor}?site=demo");
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && JsonNode.Parse(last) is { } journey && (int?)journey["touches"] >= touches)
            {
                return journey;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"the journey of {visitor} did not reach {touches} touches in the analytics store; last answer: {last}");
        return null!;
    }
}
