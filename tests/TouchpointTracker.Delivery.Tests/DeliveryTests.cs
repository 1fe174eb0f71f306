using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Delivery.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>Collectors on Kestrel in this process, a real redis-server, the mock Kafka cluster: nothing acknowledged is lost.</summary>
[TestFixture]
[NonParallelizable]
public sealed class DeliveryTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Every_acknowledged_event_reaches_Kafka_once_at_least_and_in_order_per_visitor()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        var collectors = new List<CollectorHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Topic creation on: against the mock cluster it fails (no controller) and must not get in the way.
                collectors.Add(await env.StartCollectorAsync(new Dictionary<string, string?> { ["Kafka:CreateTopics"] = "true" }));
            }
            using var reader = env.ReadTopic();
            await reader.StartAsync(TimeSpan.FromSeconds(30));

            using var load = new VisitorLoad(collectors.Select(c => c.BaseAddress)) { Visitors = 24, MaxBatchesPerVisitor = 50, MaxEventsPerBatch = 8 };
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var sw = Stopwatch.StartNew();
            await load.RunAsync(CancellationToken.None, giveUp.Token);
            var postSeconds = sw.Elapsed.TotalSeconds;
            await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));
            var endToEnd = sw.Elapsed.TotalSeconds;

            Assert.That(load.AcceptedEvents, Is.GreaterThanOrEqualTo(1000));
            Assert.That(load.OtherStatus, Is.Zero, "no request refused for a reason other than 503");
            var forwarded = collectors.Sum(c => c.Services.GetRequiredService<ForwarderMetrics>().Forwarded.Total);
            Assert.That(forwarded, Is.GreaterThanOrEqualTo(load.AcceptedEvents));
            var owners = collectors.Select(c => c.Services.GetRequiredService<Forwarder>().OwnedCount).ToArray();
            Assert.That(owners.Sum(), Is.LessThanOrEqualTo(env.Shards), "each shard is forwarded by one collector at a time");

            TestContext.Out.WriteLine($"{load.AcceptedEvents} events acknowledged by 3 collectors in {postSeconds:F1}s " +
                $"({load.AcceptedEvents / postSeconds:F0} events/s posted by {load.Visitors} sequential clients); all in Kafka after {endToEnd:F1}s " +
                $"({load.AcceptedEvents / endToEnd:F0} events/s end to end); {reader.Messages} messages read, {load.Refused503} 503s; shard owners {string.Join("/", owners)}");

            foreach (var c in collectors)
            {
                using var http = c.CreateClient();
                var (status, body) = await Checks.ReadyAsync(http);
                Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
            }
            await Checks.WaitUntilAsync(async () =>
            {
                long length = 0;
                for (var s = 0; s < env.Shards; s++)
                {
                    length += await env.RedisDb().StreamLengthAsync(PipelineEnvironment.StreamKey(s));
                }
                return length < load.AcceptedEvents / 2;
            }, TimeSpan.FromSeconds(20), "acknowledged entries to be trimmed");
        }
        finally
        {
            foreach (var c in collectors)
            {
                await c.DisposeAsync();
            }
        }
    }
}
