using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// The distributed mode's analytics sink (the processor with <c>Processor:Role=analytics</c>) against
/// librdkafka's mock cluster: it holds exactly what the staged topic holds, also when killed mid-stream.
/// </summary>
[NonParallelizable]
public sealed class AnalyticsSinkTests
{
    [Test]
    public async Task The_sink_holds_every_staged_touchpoint_once_even_when_killed_mid_stream()
    {
        await using var env = await KafkaEnvironment.StartAsync(partitions: 2);
        var stream = Workload.Generate(visitors: 150, seed: 5);
        env.Produce(stream);
        var expected = Workload.Expected(stream);
        await using (await ProcessorHost.StartAsync(env.ProcessorSettings("stager")))
        {
            env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(60));
        }

        var folder = CollectorHost.NewDataFolder();
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["Processor:Role"] = "analytics",
                ["Kafka:BootstrapServers"] = env.BootstrapServers,
                ["Kafka:FetchWaitMaxMs"] = "5",
                ["Kafka:SessionTimeoutMs"] = "6000",
                ["Analytics:Path"] = Path.Combine(folder, "analytics.duckdb"),
                ["Analytics:FlushIntervalMs"] = "100",
                ["Analytics:OpenSites:0"] = "acme",
                ["AnalyticsSink:MaxBatchSize"] = "40",
                ["AnalyticsSink:MaxBatchWaitMs"] = "50",
                ["Shutdown:ReadinessGraceSeconds"] = "0",
            };
            long beforeKill;
            await using (var victim = await ProcessorProcess.StartAsync(settings))
            {
                using var http = new HttpClient { BaseAddress = victim.BaseAddress };
                beforeKill = await WaitForTouchpointsAsync(http, n => n > 0, "some touchpoints before the kill", victim);
                victim.Kill(); // SIGKILL, between or inside batches
            }
            Assert.That(beforeKill, Is.LessThan(expected.Staged.Count), "the sink was killed mid-stream, not after it finished");

            await using var survivor = await ProcessorProcess.StartAsync(settings);
            using var again = new HttpClient { BaseAddress = survivor.BaseAddress };
            await WaitForTouchpointsAsync(again, n => n >= expected.Staged.Count, "every staged touchpoint", survivor);
            await Task.Delay(1500); // anything counted twice would show up now
            Assert.That(await TouchpointsAsync(again), Is.EqualTo(expected.Staged.Count), "each staged touchpoint once: none lost, none counted twice");
            var conversions = JsonNode.Parse(await again.GetStringAsync("/api/v1/conversions?site=acme&from=2026-02-01&to=2026-04-30"))!;
            var stored = conversions["by_type"]!.AsArray().Sum(t => (long)t!["conversions"]! + (long)t["retracted"]!);
            var produced = expected.Staged.Count(s => s.Journey!.Conversion is not null);
            Assert.That(produced, Is.GreaterThan(0), "the workload's purchases and leads convert");
            Assert.That(stored, Is.EqualTo(produced), "the sink writes a conversions row for each staged conversion, once: " + conversions.ToJsonString());

            using var ready = await again.GetAsync("/readyz");
            var body = await ready.Content.ReadAsStringAsync();
            using var dashboard = await again.GetAsync("/dashboard?site=acme");
            Assert.Multiple(() =>
            {
                Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
                Assert.That(body, Does.Contain("analytics-sink"));
                Assert.That(dashboard.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the analytics role serves the dashboard");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<long> TouchpointsAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/api/v1/overview?site=acme&from=2026-02-01&to=2026-04-30");
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return (long)JsonNode.Parse(body)!["touchpoints"]!;
    }

    private static async Task<long> WaitForTouchpointsAsync(HttpClient http, Func<long, bool> done, string what, ServiceProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        long count = 0;
        while (DateTime.UtcNow < deadline)
        {
            count = await TouchpointsAsync(http);
            if (done(count))
            {
                return count;
            }
            await Task.Delay(20);
        }
        Assert.Fail($"waited for {what}; the store holds {count}\n{process.Output}");
        return count;
    }
}
