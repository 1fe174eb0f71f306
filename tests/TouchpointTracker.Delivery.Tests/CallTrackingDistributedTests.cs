using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.CallTracking;
using TouchpointTracker.Delivery.Tests.Support;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>
/// Call tracking in the distributed mode: two collectors share one Redis (and the mock Kafka cluster). The
/// assignments are one store whichever collector answers, and a call sent to either finds its visitor.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CallTrackingDistributedTests
{
    private const string ServerKey = "s1-server-key-0123456789";

    private static readonly Dictionary<string, string?> Pools = new()
    {
        // The staged call is read from the buffer: nothing is forwarded.
        ["Forwarder:Enabled"] = "false",
        [$"Collector:Sites:{PipelineEnvironment.Site}:ServerKeys:0"] = ServerKey,
        [$"Collector:Sites:{PipelineEnvironment.Site}:CallTracking:Pools:main:ReplacesNumber"] = "+33 1 23 45 67 89",
        [$"Collector:Sites:{PipelineEnvironment.Site}:CallTracking:Pools:main:Numbers:0"] = "+33 1 23 45 67 01",
        [$"Collector:Sites:{PipelineEnvironment.Site}:CallTracking:Pools:main:Numbers:1"] = "+33 1 23 45 67 02",
    };

    private static async Task<string> NumberAsync(HttpClient http, string visitor)
    {
        var answer = JsonNode.Parse(await http.GetStringAsync($"/numbers?site={PipelineEnvironment.Site}&vid={visitor}&sid=s-{visitor}"))!;
        return (string)answer["number"]!;
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Two_collectors_share_the_assignments_and_a_call_to_either_finds_the_visitor()
    {
        await using var env = await PipelineEnvironment.StartAsync(brokers: 1);
        await using var a = await env.StartCollectorAsync(Pools);
        await using var b = await env.StartCollectorAsync(Pools);
        using var httpA = a.CreateClient();
        using var httpB = b.CreateClient();

        var alice = await NumberAsync(httpA, "alice");
        await Task.Delay(20);
        var bob = await NumberAsync(httpB, "bob");
        await Task.Delay(20);
        var aliceAgain = await NumberAsync(httpB, "alice");
        await Task.Delay(20);
        var exhaustedBefore = b.Services.GetRequiredService<CallTrackingMetrics>().Exhausted.Total;
        var carol = await NumberAsync(httpB, "carol");
        Assert.Multiple(() =>
        {
            Assert.That(bob, Is.Not.EqualTo(alice), "two visitors, two collectors, two numbers");
            Assert.That(aliceAgain, Is.EqualTo(alice), "the other collector keeps Alice's number");
            Assert.That(carol, Is.EqualTo(bob), "the least recently active holder's number is reused");
            Assert.That(b.Services.GetRequiredService<CallTrackingMetrics>().Exhausted.Total, Is.EqualTo(exhaustedBefore + 1));
        });

        // A call to Alice's number, sent to the collector that did not give it first.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events")
        {
            Content = new StringContent($$"""{"events":[{"event_id":"call-1","type":"call","occurred_at":"{{DateTimeOffset.UtcNow.AddSeconds(2):yyyy-MM-ddTHH:mm:ssZ}}","tracking_number":"{{alice}}"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerKey);
        using var response = await httpB.SendAsync(request);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((string?)answer["results"]![0]!["status"], Is.EqualTo("accepted"), answer.ToJsonString());
            Assert.That(b.Services.GetRequiredService<CallTrackingMetrics>().Calls.Get(MetricsRegistry.Labels(("site", PipelineEnvironment.Site), ("pool", "main"), ("result", "matched"))), Is.EqualTo(1));
        });
        // The staged call is Alice's: it reached Redis under her visitor id.
        var touchpoints = new List<JsonNode>();
        for (var shard = 0; shard < env.Shards; shard++)
        {
            foreach (var entry in await env.RedisDb().StreamRangeAsync(PipelineEnvironment.StreamKey(shard)))
            {
                touchpoints.Add(JsonNode.Parse((string)entry["tp"]!)!);
            }
        }
        Assert.That(touchpoints.Any(t => (string?)t["name"] == "call" && (string?)t["visitor_id"] == "alice"), Is.True,
            string.Join("\n", touchpoints.Select(t => t.ToJsonString())));
    }
}
