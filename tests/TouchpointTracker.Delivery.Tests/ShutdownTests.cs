using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Delivery.Tests.Support;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>A collector stopped in the middle of load drains, flushes and hands its shards over at once.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ShutdownTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task A_stopping_collector_hands_its_shards_to_the_others_without_loss()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        var leaving = await env.StartCollectorAsync();
        await using var staying = await env.StartCollectorAsync();
        using var reader = env.ReadTopic();
        await reader.StartAsync(TimeSpan.FromSeconds(30));
        var stayingForwarder = staying.Services.GetRequiredService<Forwarder>();

        using var load = new VisitorLoad([staying.BaseAddress]) { Visitors = 12, MaxBatchesPerVisitor = 10_000, MaxEventsPerBatch = 6, PauseBetweenBatches = TimeSpan.FromMilliseconds(10) };
        using var stopSending = new CancellationTokenSource();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = load.RunAsync(stopSending.Token, giveUp.Token);
        await Checks.WaitUntilAsync(() => Task.FromResult(leaving.Services.GetRequiredService<Forwarder>().OwnedCount > 0 && load.AcceptedEvents > 500),
            TimeSpan.FromSeconds(30), "both collectors forwarding under load");

        await leaving.DisposeAsync(); // graceful: finish batches, flush, give the leases back
        await Checks.WaitUntilAsync(() => Task.FromResult(stayingForwarder.OwnedCount == env.Shards), TimeSpan.FromSeconds(10),
            "the remaining collector to own every shard (leases handed back, not expired)");
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stopSending.CancelAsync();
        await running;
        await Checks.EverythingAcknowledgedArrivesInOrder(load, reader, TimeSpan.FromSeconds(60));
    }
}
