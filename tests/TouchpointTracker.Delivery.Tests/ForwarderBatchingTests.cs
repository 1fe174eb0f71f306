using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Delivery.Tests.Support;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>
/// The forwarder gathers a trickle into larger batches (<c>Forwarder:FillWaitMs</c>): after a read that found less
/// than a batch, the next read of the shard waits, so a steady stream of single events is read, produced and
/// acknowledged in a few rounds instead of one round per event. Nothing is held back: every event still arrives.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class ForwarderBatchingTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task A_trickle_of_events_is_forwarded_in_few_rounds_and_every_event_arrives()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        await using var collector = await env.StartCollectorAsync(new Dictionary<string, string?>
        {
            ["Redis:Shards"] = "1",
            ["Forwarder:FillWaitMs"] = "400",
        });
        var buffer = collector.Services.GetRequiredService<IEventBuffer>();
        var forwarded = collector.Services.GetRequiredService<ForwarderMetrics>().Forwarded;
        var db = env.RedisDb();
        await Checks.WaitUntilAsync(() => Task.FromResult(collector.Services.GetRequiredService<Forwarder>().OwnedCount == 1), TimeSpan.FromSeconds(20), "the collector forwards the shard");

        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        const int events = 120;
        for (var i = 0; i < events; i++)
        {
            // One event every ~25 ms for about 3 s: without the fill wait, nearly every event would be its own round.
            Assert.That(await buffer.AppendAsync([VisitorLoad.Touchpoint($"visitor-{i % 7}", $"trickle-{i}")], CancellationToken.None), Is.EqualTo(AppendOutcome.Stored));
            await Task.Delay(25);
        }
        await Checks.WaitUntilAsync(() => Task.FromResult(forwarded.Total >= events), TimeSpan.FromSeconds(30), "every event forwarded");
        var acks = AckCalls((string?)await db.ExecuteAsync("INFO", "commandstats") ?? "");

        // Each round acknowledges once; a round starts at most every 400 ms while the reads find less than a batch.
        Assert.That(acks, Is.InRange(1, 20), $"{events} events forwarded in {acks} rounds");
        TestContext.Out.WriteLine($"{events} events forwarded in {acks} rounds (XACK calls)");
    }

    private static long AckCalls(string commandStats)
    {
        var match = AckStat().Match(commandStats);
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"cmdstat_xack:calls=(\d+)")]
    private static partial Regex AckStat();
}
