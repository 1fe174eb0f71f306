using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using StackExchange.Redis;
using TouchpointTracker.ScaleOut.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.ScaleOut.Tests;

/// <summary>
/// The whole distributed pipeline on one machine, scaled out: nginx (the rendered test template) in front
/// of three collector processes, a durable redis-server, the mock Kafka cluster, two processor processes.
/// Concurrent clients send tens of thousands of events through nginx while one collector is killed
/// (SIGKILL) and another restarted (SIGTERM, then started again on its port). Every event a client got a
/// 2xx for must be in tt.touchpoints.staged exactly once, read committed.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("ScaleOut")]
public sealed class ScaleOutTests
{
    private const string InputTopic = "tt.touchpoints";
    private const string StagedTopic = "tt.touchpoints.staged";
    private const string TransitionsTopic = "tt.stage-transitions";
    private const string ProcessorGroup = "tt-processor";
    private const int Partitions = 6;
    private const int Shards = 4;
    private const int Clients = 16;
    private const int Visitors = 3000;
    private const int TargetEvents = 40_000;

    private static readonly TimeSpan LoadGiveUp = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan StagedWait = TimeSpan.FromSeconds(120);

    [Test]
    [CancelAfter(330_000)]
    public async Task Every_acknowledged_event_is_staged_exactly_once_while_collectors_are_killed_and_restarted()
    {
        await using var redis = await RedisServer.StartDurableAsync();
        using var kafka = MockKafkaCluster.Start(3);
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(100));
        foreach (var topic in new[] { InputTopic, StagedTopic, TransitionsTopic, "tt.conversions" })
        {
            kafka.CreateTopic(topic, Partitions); // the mock has no controller: Admin CreateTopics cannot work against it
        }

        var collectorEnv = CollectorEnvironment(redis, kafka);
        var collectors = new CollectorProcess?[3];
        var processors = new List<ProcessorProcess>();
        NginxLoadBalancer? nginx = null;
        try
        {
            var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => CollectorProcess.StartAsync(collectorEnv)));
            started.CopyTo(collectors, 0);
            processors.AddRange(await Task.WhenAll(
                ProcessorProcess.StartAsync(ProcessorSettings(redis, kafka, "scaleout-1")),
                ProcessorProcess.StartAsync(ProcessorSettings(redis, kafka, "scaleout-2"))));
            nginx = await NginxLoadBalancer.StartAsync(FreePort.Next(), started.Select(c => c.Port));
            await WaitUntilAsync(async () => (await Task.WhenAll(processors.Select(p => MetricAsync(p.BaseAddress, "tt_processor_partition_claims_total")))).All(n => n > 0),
                TimeSpan.FromSeconds(60), "both processors to claim input partitions", () => Diagnostics(collectors, processors, nginx));

            using var reader = new StagedReader(kafka.BootstrapServers, StagedTopic, Partitions);
            reader.Start();
            using var load = new BeaconLoad(nginx.BaseAddress) { Clients = Clients, Visitors = Visitors, TargetEvents = TargetEvents };
            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CurrentContext.CancellationToken);
            giveUp.CancelAfter(LoadGiveUp);
            using var redisClient = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);

            // Load, and the chaos alongside it, keyed to the load's progress.
            var clock = Stopwatch.StartNew();
            var loading = load.RunAsync(giveUp.Token);
            string chaosLog;
            bool graceful;
            string stopOutput;
            {
                // SIGKILL the collector that forwards the most shards: in-flight requests, its leases and
                // the entries it read but Kafka has not confirmed yet die with it.
                await WaitForProgressAsync(load, loading, 0.2);
                var (victim, victimShards) = await MostShardsAsync(collectors, except: -1);
                var killed = collectors[victim]!;
                var killAt = clock.Elapsed;
                var acknowledgedAtKill = load.Acknowledged;
                killed.Kill();
                collectors[victim] = null;
                var heldAtKill = await PendingHeldByAsync(redisClient.GetDatabase(), killed.ProcessId);
                await killed.DisposeAsync();

                // Restart another one, shard owner first: SIGTERM (drain, leases handed back), then start it on its port.
                await WaitForProgressAsync(load, loading, 0.45);
                var (restarted, restartedShards) = await MostShardsAsync(collectors, except: victim);
                var port = collectors[restarted]!.Port;
                var stopAt = clock.Elapsed;
                graceful = await collectors[restarted]!.StopAsync(TimeSpan.FromSeconds(45));
                stopOutput = collectors[restarted]!.Output;
                await collectors[restarted]!.DisposeAsync();
                collectors[restarted] = null;
                collectors[restarted] = await CollectorProcess.StartAsync(collectorEnv, port);
                var restartedAt = clock.Elapsed;
                chaosLog = $"SIGKILL collector :{killed.Port} (forwarding {victimShards} shards) at {killAt.TotalSeconds:F1}s ({acknowledgedAtKill} acknowledged, {heldAtKill} buffer entries pending at it); " +
                    $"SIGTERM collector :{port} (forwarding {restartedShards} shards) at {stopAt.TotalSeconds:F1}s, serving again at {restartedAt.TotalSeconds:F1}s " +
                    $"({(loading.IsCompleted ? "after" : "before")} the load ended)";
            }
            await loading;
            var loadSeconds = clock.Elapsed.TotalSeconds;
            var acknowledged = load.AcknowledgedIds();
            TestContext.Out.WriteLine(chaosLog);

            // Wait (bounded) until the staged topic holds every acknowledged id and the pipeline is quiet:
            // the buffer forwarded, the processors' offsets at the input's end, the reader at the output's end.
            var expected = acknowledged.ToHashSet(StringComparer.Ordinal);
            var settled = await SettleAsync(kafka, redisClient.GetDatabase(), reader, expected, StagedWait);
            var endToEndSeconds = clock.Elapsed.TotalSeconds;

            var lost = expected.Where(id => reader.CountOf(id) == 0).ToList();
            var duplicates = reader.Counts.Values.Sum(n => n - 1);
            var duplicated = reader.Counts.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
            var unacknowledgedStaged = reader.Counts.Keys.Count(id => !expected.Contains(id));
            var upstreamDuplicates = (await Task.WhenAll(processors.Select(p => MetricAsync(p.BaseAddress, "tt_processor_events_total", "outcome=\"duplicate\"")))).Sum();
            var published = await Task.WhenAll(processors.Select(p => MetricAsync(p.BaseAddress, "tt_processor_published_total", $"topic=\"{StagedTopic}\"")));
            var claimed = (await Task.WhenAll(collectors.OfType<CollectorProcess>().Select(c => MetricAsync(c.BaseAddress, "tt_forward_claimed_events_total")))).Sum();

            TestContext.Out.WriteLine(
                $"scale-out: {load.Acknowledged / loadSeconds:F0} events/s acknowledged over the {loadSeconds:F1}s load, " +
                $"acknowledged={load.Acknowledged}, retried={load.Retried}, duplicates={duplicates}, lost={lost.Count}");
            TestContext.Out.WriteLine(
                $"details: {Clients} clients, {Visitors} visitors, {load.Requests} requests ({load.TransportErrors} network errors, {load.Status5xx} 5xx, " +
                $"{load.Status429} 429, {load.Refused4xx} other 4xx, {load.RejectedEvents} events rejected, {load.GaveUpEvents} given up); " +
                $"nginx retried {nginx.RetriedUpstreamRequests} requests on another collector; {reader.Messages} staged messages read committed " +
                $"({unacknowledgedStaged} staged ids never acknowledged), settled after {endToEndSeconds:F1}s: {settled ?? "yes"}; " +
                $"processors dropped {upstreamDuplicates} upstream duplicates and published {string.Join("/", published)} staged; " +
                $"surviving collectors claimed {claimed} entries");

            if (lost.Count > 0 || duplicates > 0 || settled is not null)
            {
                TestContext.Out.WriteLine(Diagnostics(collectors, processors, nginx));
            }

            Assert.Multiple(() =>
            {
                Assert.That(graceful, Is.True, "the SIGTERMed collector exited by itself within 45 s:\n" + stopOutput);
                Assert.That(load.Acknowledged, Is.GreaterThan(TargetEvents / 2), "most of the load was acknowledged");
                Assert.That(acknowledged, Has.Count.EqualTo(expected.Count), "event ids are unique by construction");
                Assert.That(load.Refused4xx + load.RejectedEvents, Is.Zero, "no valid beacon is refused: " + string.Join(" | ", load.Problems.Take(5)));
                Assert.That(reader.Problems, Is.Empty, "every staged message is readable");
                Assert.That(lost, Is.Empty, $"{lost.Count} of {expected.Count} acknowledged events never reached the staged topic (lost); first: {lost.FirstOrDefault()}");
                Assert.That(duplicates, Is.Zero, $"{duplicated.Count} event ids staged more than once; first: {duplicated.FirstOrDefault()}");
                Assert.That(published, Has.All.GreaterThan(0), "both processors staged part of the stream");
            });
        }
        finally
        {
            if (nginx is not null)
            {
                await nginx.DisposeAsync();
            }
            foreach (var p in processors)
            {
                await p.DisposeAsync();
            }
            foreach (var c in collectors)
            {
                if (c is not null)
                {
                    await c.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Collector settings as environment variables: distributed mode, rate limit off, quick takeovers.</summary>
    private static Dictionary<string, string?> CollectorEnvironment(RedisServer redis, MockKafkaCluster kafka) => new()
    {
        ["Redis__Configuration"] = redis.Configuration,
        ["Redis__Shards"] = Shards.ToString(CultureInfo.InvariantCulture),
        ["Redis__AppendTimeoutMs"] = "2000",
        ["Kafka__BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka__TouchpointsTopic"] = InputTopic,
        ["Kafka__TouchpointsPartitions"] = Partitions.ToString(CultureInfo.InvariantCulture),
        ["Kafka__CreateTopics"] = "false",
        ["Kafka__Properties__log_level"] = "3",
        ["Forwarder__LeaseMs"] = "3000",
        ["Forwarder__ClaimIdleMs"] = "5000",
        ["Forwarder__RetryBackoffMaxMs"] = "1000",
        ["Forwarder__DrainMs"] = "5000",
        ["Buffer__RetryAfterSeconds"] = "1",
        [$"Collector__Sites__{BeaconLoad.Site}__Domains__0"] = "shop.example.com",
        ["Edge__RateLimitPerSecond"] = "0",
        ["Shutdown__ReadinessGraceSeconds"] = "1",
        ["Shutdown__DrainSeconds"] = "15",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__TouchpointTracker"] = "Information",
    };

    private static Dictionary<string, string?> ProcessorSettings(RedisServer redis, MockKafkaCluster kafka, string instanceId) => new()
    {
        ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka:TouchpointsTopic"] = InputTopic,
        ["Kafka:StagedTopic"] = StagedTopic,
        ["Kafka:TransitionsTopic"] = TransitionsTopic,
        ["Kafka:GroupId"] = ProcessorGroup,
        ["Kafka:FetchWaitMaxMs"] = "5",
        ["Kafka:SessionTimeoutMs"] = "6000",
        ["Kafka:TransactionTimeoutMs"] = "10000",
        ["Kafka:CreateTopics"] = "false",
        ["Redis:Configuration"] = redis.Configuration,
        ["Processor:InstanceId"] = instanceId,
        ["Processor:MaxBatchSize"] = "500",
        ["Processor:MaxBatchWaitMs"] = "20",
        ["Journeys:ReloadIntervalSeconds"] = "0",
        ["Shutdown:ReadinessGraceSeconds"] = "0",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
    };

    /// <summary>Waits until the load has handed out <paramref name="fraction"/> of its events (or has ended).</summary>
    private static async Task WaitForProgressAsync(BeaconLoad load, Task loading, double fraction)
    {
        while (load.HandedOut < load.TargetEvents * fraction && !loading.IsCompleted)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until every expected id has been read and nothing more can come: every shard's pending list
    /// and lag are empty, the processors' applied offsets are at the end of every input partition, and
    /// the reader has read up to the staged topic's end. Returns null when settled, else what was still
    /// missing at the deadline.
    /// </summary>
    private static async Task<string?> SettleAsync(MockKafkaCluster kafka, IDatabase redis, StagedReader reader, HashSet<string> expected, TimeSpan timeout)
    {
        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = "scaleout-watermarks", // only asks for watermarks; never subscribes
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        var deadline = DateTime.UtcNow + timeout;
        string? missing;
        do
        {
            missing = await NotSettledAsync();
            if (missing is null)
            {
                return null;
            }
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return missing;

        async Task<string?> NotSettledAsync()
        {
            var unread = expected.Count(id => reader.CountOf(id) == 0);
            if (unread > 0)
            {
                return $"{unread} acknowledged ids not staged yet";
            }
            if (await BufferNotDrainedAsync(redis) is { } buffer)
            {
                return buffer;
            }
            try
            {
                // The processors resume from the input offset stored with the journey state in Redis
                // (tt:journey:{group|topic|partition}:applied), not from the group's committed offsets.
                var behind = new List<string>();
                for (var p = 0; p < Partitions; p++)
                {
                    var applied = await redis.StringGetAsync($"tt:journey:{{{ProcessorGroup}|{InputTopic}|{p}}}:applied");
                    var next = applied.IsNull ? 0 : long.Parse(applied.ToString(), CultureInfo.InvariantCulture) + 1;
                    var end = offsets.QueryWatermarkOffsets(new TopicPartition(InputTopic, p), TimeSpan.FromSeconds(5)).High.Value;
                    if (next < end)
                    {
                        behind.Add($"{p}: {next}/{end}");
                    }
                }
                if (behind.Count > 0)
                {
                    return "processors behind on input partitions: " + string.Join(", ", behind);
                }
                var unreadStaged = Enumerable.Range(0, Partitions)
                    .Select(p => (Partition: p, Next: reader.NextOffset(p), End: offsets.QueryWatermarkOffsets(new TopicPartition(StagedTopic, p), TimeSpan.FromSeconds(5)).High.Value))
                    .Where(x => x.Next < x.End).ToList();
                return unreadStaged.Count == 0 ? null
                    : "reader behind on staged partitions: " + string.Join(", ", unreadStaged.Select(u => $"{u.Partition}: {u.Next}/{u.End}"));
            }
            catch (KafkaException ex)
            {
                return "Kafka: " + ex.Message;
            }
        }
    }

    /// <summary>Null when every shard stream is fully read by the forwarders' group with nothing pending (unconfirmed by Kafka).</summary>
    private static async Task<string?> BufferNotDrainedAsync(IDatabase redis)
    {
        var problems = new List<string>();
        for (var s = 0; s < Shards; s++)
        {
            var key = $"tt:{{s{s}}}:events";
            if (!await redis.KeyExistsAsync(key))
            {
                continue;
            }
            var groups = await redis.StreamGroupInfoAsync(key);
            var group = groups.FirstOrDefault(g => g.Name == "forwarder");
            if (group.Name is null)
            {
                problems.Add($"{key}: no forwarder group");
            }
            else if (group.PendingMessageCount > 0 || group.Lag is not 0)
            {
                var consumers = await redis.StreamConsumerInfoAsync(key, "forwarder");
                problems.Add($"{key}: pending {group.PendingMessageCount}, lag {group.Lag?.ToString(CultureInfo.InvariantCulture) ?? "null"}, " +
                    $"last delivered {group.LastDeliveredId}, entries read {group.EntriesRead}, length {await redis.StreamLengthAsync(key)}; consumers " +
                    string.Join(" ", consumers.Select(c => $"{c.Name}={c.PendingMessageCount}/idle {c.IdleTimeInMilliseconds}ms")));
            }
        }
        return problems.Count == 0 ? null : "buffer not drained: " + string.Join("; ", problems);
    }

    /// <summary>The index of the live collector (other than <paramref name="except"/>) that forwards the most shards now.</summary>
    private static async Task<(int Index, long Shards)> MostShardsAsync(CollectorProcess?[] collectors, int except)
    {
        var best = -1;
        var bestShards = -1L;
        for (var i = 0; i < collectors.Length; i++)
        {
            if (i == except || collectors[i] is not { } c)
            {
                continue;
            }
            var shards = await MetricAsync(c.BaseAddress, "tt_forward_owned_shards");
            if (shards > bestShards)
            {
                (best, bestShards) = (i, shards);
            }
        }
        return (best, bestShards);
    }

    /// <summary>Buffer entries read but not yet confirmed by the forwarder of process <paramref name="processId"/> (consumer names carry "-pid-").</summary>
    private static async Task<long> PendingHeldByAsync(IDatabase redis, int processId)
    {
        long held = 0;
        for (var s = 0; s < Shards; s++)
        {
            var key = $"tt:{{s{s}}}:events";
            if (!await redis.KeyExistsAsync(key))
            {
                continue;
            }
            var pending = await redis.StreamPendingAsync(key, "forwarder");
            held += (pending.Consumers ?? []).Where(c => c.Name.ToString().Contains($"-{processId}-", StringComparison.Ordinal)).Sum(c => (long)c.PendingMessageCount);
        }
        return held;
    }

    /// <summary>A Prometheus counter of a service, summed over the series whose labels contain <paramref name="labels"/>.</summary>
    private static async Task<long> MetricAsync(Uri service, string name, string? labels = null)
    {
        using var http = new HttpClient { BaseAddress = service, Timeout = TimeSpan.FromSeconds(10) };
        string text;
        try
        {
            text = await http.GetStringAsync("metrics");
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
        double total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length || line[name.Length] is not ('{' or ' '))
            {
                continue;
            }
            if (labels is not null && !line.Contains(labels, StringComparison.Ordinal))
            {
                continue;
            }
            total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return (long)total;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout} waiting for {what}\n{diagnostics()}");
            }
            await Task.Delay(200);
        }
    }

    private static string Diagnostics(IEnumerable<CollectorProcess?> collectors, IEnumerable<ProcessorProcess> processors, NginxLoadBalancer? nginx)
    {
        static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').TakeLast(lines));
        var parts = collectors.OfType<CollectorProcess>().Select(c => $"--- collector :{c.Port}\n{Tail(c.Output, 40)}")
            .Concat(processors.Select(p => $"--- processor {p.BaseAddress}\n{Tail(p.Output, 40)}"));
        if (nginx is not null)
        {
            parts = parts.Append("--- nginx error.log\n" + Tail(nginx.ErrorLog, 20));
        }
        return string.Join("\n", parts);
    }
}
