using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>A buffer that cannot take a batch answers 503 with Retry-After, and counts it.</summary>
public class BufferFullTests
{
    [Test]
    public async Task A_batch_larger_than_the_free_room_gets_503_with_retry_after()
    {
        await using var host = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Buffer:Capacity"] = "1",
            ["Buffer:RetryAfterSeconds"] = "7",
        });
        using var http = host.CreateClient();
        var batch = JsonNode.Parse(Beacons.Pageview("https://a.example/"))!;
        var second = batch["events"]![0]!.DeepClone();
        second["id"] = Guid.NewGuid().ToString();
        batch["events"]!.AsArray().Add(second);

        using var response = await http.PostAsync("/collect", Beacons.AsText(batch.ToJsonString()));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That((string?)problem["reason"], Is.EqualTo("buffer_full"));
        var metrics = await http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_rejected_events_total{reason=\"buffer_full\",site=\"demo\"} 2"));
    }
}
