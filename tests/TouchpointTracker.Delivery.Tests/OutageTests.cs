using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Delivery.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>Kafka or Redis goes away under load; nothing acknowledged is lost and service resumes.</summary>
[TestFixture]
[NonParallelizable]
public sealed class OutageTests
{
    [Test]
    [CancelAfter(150_000)]
    public async Task Kafka_outage_collectors_keep_accepting_readiness_goes_red_and_the_backlog_drains()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        await using var a = await env.StartCollectorAsync();
        await using var b = await env.StartCollectorAsync();
        using var reader = env.ReadTopic();
        await reader.StartAsync(TimeSpan.FromSeconds(30));
        using var readiness = a.CreateClient();
        await Checks.WaitForReadinessAsync(readiness, (s, _) => s == HttpStatusCode.OK, TimeSpan.FromSeconds(20));

        using var load = new VisitorLoad([a.BaseAddress, b.BaseAddress])
        {
            Visitors = 16, MaxBatchesPerVisitor = 10_000, MaxEventsPerBatch = 6, PauseBetweenBatches = TimeSpan.FromMilliseconds(20),
        };
        using var stopSending = new CancellationTokenSource();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var running = load.RunAsync(stopSending.Token, giveUp.Token);

        await Checks.WaitUntilAsync(() => Task.FromResult(load.AcceptedEvents > 300), TimeSpan.FromSeconds(30), "load before the outage");
        var forwardedBefore = Forwarded(a, b);
        env.Kafka.SetAllBrokersDown();
        var acceptedAtOutage = load.AcceptedEvents;
        var (status, body) = await Checks.WaitForReadinessAsync(readiness,
            (s, text) => s == HttpStatusCode.ServiceUnavailable && text.Contains("Kafka not delivering", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "readiness is red while Kafka is down: " + body);
        TestContext.Out.WriteLine("readiness during the Kafka outage: " + body);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var acceptedDuringOutage = load.AcceptedEvents - acceptedAtOutage;
        var pendingOrBuffered = await BufferedAsync(env);
        env.Kafka.SetAllBrokersUp();

        await Task.Delay(TimeSpan.FromSeconds(2));
        await stopSending.CancelAsync();
        await running;

        Assert.That(acceptedDuringOutage, Is.GreaterThan(100), "collectors kept answering 2xx while Kafka was down");
        Assert.That(pendingOrBuffered, Is.GreaterThan(0), "Redis held the backlog");
        await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));
        Assert.That(Forwarded(a, b), Is.GreaterThan(forwardedBefore));
        var (after, afterBody) = await Checks.WaitForReadinessAsync(readiness, (s, _) => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.That(after, Is.EqualTo(HttpStatusCode.OK), "readiness green again after Kafka returned: " + afterBody);
        TestContext.Out.WriteLine($"{load.AcceptedEvents} events acknowledged, {acceptedDuringOutage} of them while Kafka was down; " +
            $"{pendingOrBuffered} entries buffered at the end of the outage; {reader.Messages} messages in Kafka ({reader.Messages - load.AcceptedEvents} repeats)");
    }

    [Test]
    [CancelAfter(150_000)]
    public async Task Redis_outage_collectors_answer_503_with_retry_after_and_nothing_acknowledged_is_lost()
    {
        // Acknowledged events survive a Redis crash only if Redis persists them before answering:
        // append-only file, fsync always (see docs/delivery.md).
        await using var env = await PipelineEnvironment.StartAsync(durableRedis: true);
        await using var a = await env.StartCollectorAsync();
        await using var b = await env.StartCollectorAsync();
        using var reader = env.ReadTopic();
        await reader.StartAsync(TimeSpan.FromSeconds(30));

        using var load = new VisitorLoad([a.BaseAddress, b.BaseAddress])
        {
            Visitors = 16, MaxBatchesPerVisitor = 10_000, MaxEventsPerBatch = 6, PauseBetweenBatches = TimeSpan.FromMilliseconds(20),
        };
        using var stopSending = new CancellationTokenSource();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var running = load.RunAsync(stopSending.Token, giveUp.Token);

        await Checks.WaitUntilAsync(() => Task.FromResult(load.AcceptedEvents > 300), TimeSpan.FromSeconds(30), "load before the outage");
        await env.Redis.StopAsync();
        using var readiness = a.CreateClient();
        var (status, body) = await Checks.WaitForReadinessAsync(readiness, (s, _) => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10));
        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "readiness is red while Redis is down: " + body);
        await Checks.WaitUntilAsync(() => Task.FromResult(load.Refused503 > 20), TimeSpan.FromSeconds(20), "503 answers while Redis is down");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var acceptedBeforeRestart = load.AcceptedEvents;
        await env.Redis.StartAgainAsync();

        await Checks.WaitUntilAsync(() => Task.FromResult(load.AcceptedEvents > acceptedBeforeRestart + 300), TimeSpan.FromSeconds(30), "service to resume after Redis returned");
        await stopSending.CancelAsync();
        await running;

        Assert.That(load.RetryAfterSeen, Is.EqualTo(load.Refused503), "every 503 carries Retry-After");
        Assert.That(load.OtherStatus, Is.Zero);
        await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));
        TestContext.Out.WriteLine($"{load.AcceptedEvents} events acknowledged; {load.Refused503} requests answered 503 (all with Retry-After), " +
            $"{load.TransportErrors} transport errors; {reader.Messages} messages in Kafka ({reader.Messages - load.AcceptedEvents} repeats)");
    }

    private static long Forwarded(params CollectorHost[] hosts) =>
        hosts.Sum(h => h.Services.GetRequiredService<ForwarderMetrics>().Forwarded.Total);

    private static async Task<long> BufferedAsync(PipelineEnvironment env)
    {
        long total = 0;
        for (var s = 0; s < env.Shards; s++)
        {
            total += await env.RedisDb().StreamLengthAsync(PipelineEnvironment.StreamKey(s));
        }
        return total;
    }
}
