using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Delivery.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>A collector dies (SIGKILL) holding entries it read but never got confirmed; another instance finishes its work.</summary>
[TestFixture]
[NonParallelizable]
public sealed class TakeoverTests
{
    [Test]
    [CancelAfter(150_000)]
    public async Task Entries_pending_at_a_killed_collector_are_claimed_and_forwarded_by_another()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        using var reader = env.ReadTopic();
        await reader.StartAsync(TimeSpan.FromSeconds(30));

        // Buffer the events first through a collector that does not forward.
        using var load = new VisitorLoad([]) { Visitors = 20, MaxBatchesPerVisitor = 5, MaxEventsPerBatch = 6 };
        await using (var bufferOnly = await env.StartCollectorAsync(new Dictionary<string, string?> { ["Forwarder:Enabled"] = "false" }))
        {
            using var posting = new VisitorLoad([bufferOnly.BaseAddress]) { Visitors = 20, MaxBatchesPerVisitor = 5, MaxEventsPerBatch = 6 };
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await posting.RunAsync(CancellationToken.None, giveUp.Token);
            load.Adopt(posting);
        }
        Assert.That(load.AcceptedEvents, Is.GreaterThan(100));

        // Kafka down: the doomed collector reads the entries into its pending list and cannot get them confirmed.
        env.Kafka.SetAllBrokersDown();
        var doomed = await CollectorProcess.StartAsync(env.EnvironmentVariables());
        long pendingAtKill = 0;
        var doomedConsumer = "";
        try
        {
            await Checks.WaitUntilAsync(async () =>
            {
                (pendingAtKill, doomedConsumer) = await PendingAsync(env);
                return pendingAtKill == load.AcceptedEvents;
            }, TimeSpan.FromSeconds(30), "the collector process to read every entry into its pending list");
        }
        finally
        {
            doomed.Kill();
            await doomed.DisposeAsync();
        }
        Assert.That(doomedConsumer, Does.Contain($"-{doomed.ProcessId}-"), "the pending entries belong to the killed process");

        env.Kafka.SetAllBrokersUp();
        await using var survivor = await env.StartCollectorAsync();
        await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));
        var claimed = survivor.Services.GetRequiredService<ForwarderMetrics>().Claimed.Total;
        Assert.That(claimed, Is.GreaterThanOrEqualTo(pendingAtKill), "the survivor claimed what the killed collector held");
        // The last batch is acknowledged in Redis after Kafka confirmed it, so the reader can see it a moment before.
        long left = -1;
        await Checks.WaitUntilAsync(async () => (left = (await PendingAsync(env)).Pending) == 0, TimeSpan.FromSeconds(10),
            "the survivor to acknowledge every entry it forwarded");
        Assert.That(left, Is.Zero, "nothing left pending");
        TestContext.Out.WriteLine($"{load.AcceptedEvents} events acknowledged by the process killed with {pendingAtKill} pending; the survivor claimed {claimed} and forwarded them");
    }

    /// <summary>Pending entries over all shards, and the consumer holding most of them.</summary>
    private static async Task<(long Pending, string Consumer)> PendingAsync(PipelineEnvironment env)
    {
        long total = 0;
        var holders = new Dictionary<string, long>();
        for (var s = 0; s < env.Shards; s++)
        {
            try
            {
                var info = await env.RedisDb().StreamPendingAsync(PipelineEnvironment.StreamKey(s), "forwarder");
                total += info.PendingMessageCount;
                foreach (var c in info.Consumers ?? [])
                {
                    holders[c.Name!] = holders.GetValueOrDefault(c.Name!) + c.PendingMessageCount;
                }
            }
            catch (RedisServerException)
            {
                // no stream or group yet
            }
        }
        return (total, holders.OrderByDescending(h => h.Value).Select(h => h.Key).FirstOrDefault() ?? "");
    }
}

/// <summary>Entries that can never be forwarded go to the dead-letter stream; the rest flows.</summary>
[TestFixture]
[NonParallelizable]
public sealed class DeadLetterTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Poison_entries_are_dead_lettered_with_their_reason_and_do_not_block_the_rest()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        await using var collector = await env.StartCollectorAsync(new Dictionary<string, string?> { ["Kafka:MaxMessageBytes"] = "8192" });
        using var reader = env.ReadTopic();
        await reader.StartAsync(TimeSpan.FromSeconds(30));
        var db = env.RedisDb();

        using var load = new VisitorLoad([collector.BaseAddress]) { Visitors = 4, MaxBatchesPerVisitor = 10, MaxEventsPerBatch = 5 };
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = load.RunAsync(CancellationToken.None, giveUp.Token);

        // Poison in every shard, among the visitors' entries.
        var tooLarge = "{\"schema\":\"touchpoint/1\",\"event_id\":\"big\",\"site_id\":\"s1\",\"visitor_id\":\"v-big\",\"props\":{\"blob\":\"" + new string('x', 9000) + "\"}}";
        var poison = new (string Field, string Value, string Reason)[]
        {
            ("tp", "{not json", "unparsable"),
            ("tp", "{\"event_id\":\"no-key\",\"site_id\":\"s1\"}", "missing_key"),
            ("other", "{}", "missing_payload"),
            ("tp", tooLarge, "too_large"),
        };
        for (var s = 0; s < env.Shards; s++)
        {
            foreach (var (field, value, _) in poison)
            {
                await db.StreamAddAsync(PipelineEnvironment.StreamKey(s), field, value);
            }
        }
        await running;
        await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));

        var reasons = new List<string>();
        for (var s = 0; s < env.Shards; s++)
        {
            await Checks.WaitUntilAsync(async () => await db.StreamLengthAsync(PipelineEnvironment.DeadLetterKey(s)) == poison.Length,
                TimeSpan.FromSeconds(20), $"dead letters of shard {s}");
            foreach (var entry in await db.StreamRangeAsync(PipelineEnvironment.DeadLetterKey(s)))
            {
                reasons.Add(entry["reason"]!);
                Assert.That(entry["id"].IsNullOrEmpty, Is.False);
                Assert.That(entry["detail"].IsNullOrEmpty, Is.False);
            }
        }
        Assert.That(reasons.Order(), Is.EqualTo(Enumerable.Repeat(poison.Select(p => p.Reason), env.Shards).SelectMany(r => r).Order()));
        var metrics = collector.Services.GetRequiredService<ForwarderMetrics>();
        Assert.That(metrics.DeadLettered.Total, Is.EqualTo(poison.Length * env.Shards));
        Assert.That(reader.Problems, Is.Empty, "no poison reached Kafka");
        Assert.That(reader.Contains("big"), Is.False);

        using var http = collector.CreateClient();
        var text = await http.GetStringAsync("metrics");
        Assert.That(text, Does.Contain("tt_dead_lettered_events_total{reason=\"unparsable\"} " + env.Shards));
        // A metric is on the page from its first sample (OpenTelemetry writes no family without one), so
        // tt_forward_delivery_errors_total, which nothing here increments, is not listed.
        foreach (var name in new[] { "tt_buffer_stream_length", "tt_buffer_pending_entries", "tt_buffer_oldest_unforwarded_age_seconds", "tt_forwarded_events_total", "tt_dead_lettered_events_total" })
        {
            Assert.That(text, Does.Contain("# TYPE " + name), name);
        }
        var (status, body) = await Checks.ReadyAsync(http);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
    }
}
