using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Contracts;
using TouchpointTracker.Delivery.Tests.Support;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>
/// Measurements for docs/delivery.md, printed to the test output: Redis memory per buffered entry (MEMORY
/// USAGE of a real stream of enriched touchpoints / entries), append and forward rates. Only sanity is
/// asserted: timings belong here, not in assertions.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class BufferSizingTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task Measure_bytes_per_buffered_entry_and_rates()
    {
        await using var env = await PipelineEnvironment.StartAsync();
        var oneShard = new Dictionary<string, string?> { ["Redis:Shards"] = "1", ["Forwarder:Enabled"] = "false" };
        var key = PipelineEnvironment.StreamKey(0);
        var db = env.RedisDb();
        var before = await UsedMemoryAsync(db);

        // 1. Realistic enriched touchpoints through the HTTP endpoint, nothing forwarded.
        long posted;
        long transportErrors;
        double postSeconds;
        await using (var collector = await env.StartCollectorAsync(oneShard))
        {
            using var load = new VisitorLoad([collector.BaseAddress]) { Visitors = 32, MaxBatchesPerVisitor = 40, MaxEventsPerBatch = 10 };
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var sw = Stopwatch.StartNew();
            await load.RunAsync(CancellationToken.None, giveUp.Token);
            postSeconds = sw.Elapsed.TotalSeconds;
            posted = load.AcceptedEvents;
            transportErrors = load.TransportErrors;
        }
        var length = await db.StreamLengthAsync(key);
        // At least once: a batch whose 202 the client did not get in time (a busy machine) is sent again and
        // stored twice; the processor removes such duplicates by event id. Every accepted event is there once.
        var stored = (await db.StreamRangeAsync(key, "-", "+"))
            .Select(e => JsonSerializer.Deserialize((byte[])e[RedisShardMap.PayloadField]!, ContractsJsonContext.Default.Touchpoint)!.EventId)
            .ToHashSet(StringComparer.Ordinal);
        Assert.That(stored, Has.Count.EqualTo(posted), "each accepted event in the buffer");
        Assert.That(length, transportErrors == 0 ? Is.EqualTo(posted) : Is.GreaterThanOrEqualTo(posted));
        var usage = (long)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
        var after = await UsedMemoryAsync(db);
        var entries = await db.StreamRangeAsync(key, "-", "+", 2_000);
        var avgJson = entries.Average(e => ((byte[])e[RedisShardMap.PayloadField]!).Length);
        var perEntry = usage / (double)length;
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"buffer sizing: {length} entries, MEMORY USAGE {usage} bytes = {perEntry:F0} bytes per entry (touchpoint JSON {avgJson:F0} bytes on average); " +
            $"used_memory grew {(after - before) / (double)length:F0} bytes per entry"));
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"HTTP ingest: {posted} events in {postSeconds:F1}s = {posted / postSeconds:F0} events/s from 32 sequential clients against one collector (forwarder off)"));
        Assert.That(perEntry, Is.InRange(avgJson, avgJson * 4), "an entry costs its JSON plus bounded overhead");

        // 2. The buffer alone: appends of 10-event batches from 16 concurrent callers.
        await using (var collector = await env.StartCollectorAsync(oneShard))
        {
            var buffer = collector.Services.GetRequiredService<IEventBuffer>();
            var samples = entries.Take(500).Select(e => JsonSerializer.Deserialize((byte[])e[RedisShardMap.PayloadField]!, ContractsJsonContext.Default.Touchpoint)!).ToArray();
            var batches = Enumerable.Range(0, samples.Length / 10).Select(i => samples.Skip(i * 10).Take(10).ToArray()).ToArray();
            const int rounds = 150;
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var r = 0; r < rounds; r++)
                {
                    var outcome = await buffer.AppendAsync(batches[(w + r) % batches.Length], CancellationToken.None);
                    Assert.That(outcome, Is.EqualTo(AppendOutcome.Stored));
                }
            })));
            var appended = 16 * rounds * 10;
            TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"buffer append: {appended} events in {sw.Elapsed.TotalSeconds:F2}s = {appended / sw.Elapsed.TotalSeconds:F0} events/s (16 callers, 10-event batches, one script call each)"));
        }

        // 3. Forwarding the backlog: one shard, one forwarder, batches of 500.
        var backlog = await db.StreamLengthAsync(key);
        await using (var forwarder = await env.StartCollectorAsync(new Dictionary<string, string?> { ["Redis:Shards"] = "1" }))
        {
            var metrics = forwarder.Services.GetRequiredService<ForwarderMetrics>();
            var sw = Stopwatch.StartNew();
            await Checks.WaitUntilAsync(() => Task.FromResult(metrics.Forwarded.Total >= backlog), TimeSpan.FromSeconds(90), "the backlog to drain");
            TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"forwarding: backlog of {backlog} entries drained to Kafka (mock cluster) in {sw.Elapsed.TotalSeconds:F2}s = {backlog / sw.Elapsed.TotalSeconds:F0} events/s from one shard"));
        }
    }

    private static async Task<long> UsedMemoryAsync(IDatabase db)
    {
        var info = (string)(await db.ExecuteAsync("INFO", "memory"))!;
        var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
