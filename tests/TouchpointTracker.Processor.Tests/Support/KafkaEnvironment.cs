using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Support;

/// <summary>
/// A librdkafka mock cluster (3 brokers) with the processor's three topics, and a real redis-server,
/// both on free loopback ports, owned by one test fixture.
/// </summary>
public sealed class KafkaEnvironment : IAsyncDisposable
{
    public const string Input = "tt.touchpoints";
    public const string Staged = "tt.touchpoints.staged";
    public const string Transitions = "tt.stage-transitions";
    public const string Conversions = "tt.conversions";

    private KafkaEnvironment(MockKafkaCluster cluster, RedisServer redis, int partitions)
    {
        Cluster = cluster;
        Redis = redis;
        Partitions = partitions;
    }

    public MockKafkaCluster Cluster { get; }
    public RedisServer Redis { get; }
    public int Partitions { get; }
    public string BootstrapServers => Cluster.BootstrapServers;

    public static async Task<KafkaEnvironment> StartAsync(int partitions = 4)
    {
        var cluster = MockKafkaCluster.Start(3);
        cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(100));
        foreach (var topic in new[] { Input, Staged, Transitions, Conversions })
        {
            cluster.CreateTopic(topic, partitions);
        }
        var redis = await RedisServer.StartAsync();
        return new KafkaEnvironment(cluster, redis, partitions);
    }

    /// <summary>Processor settings as configuration keys (environment variables use "__" for ":").</summary>
    public Dictionary<string, string?> ProcessorSettings(string instanceId, int maxBatch = 200) => new()
    {
        ["Kafka:BootstrapServers"] = BootstrapServers,
        ["Kafka:FetchWaitMaxMs"] = "5",
        ["Kafka:SessionTimeoutMs"] = "6000",
        ["Kafka:TransactionTimeoutMs"] = "10000",
        ["Kafka:CreateTopics"] = "false",
        ["Redis:Configuration"] = Redis.Configuration,
        ["Processor:InstanceId"] = instanceId,
        ["Processor:MaxBatchSize"] = maxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Processor:MaxBatchWaitMs"] = "20",
        ["Journeys:ReloadIntervalSeconds"] = "0",
        ["Logging:Json"] = "false",
        ["Shutdown:ReadinessGraceSeconds"] = "0",
    };

    /// <summary>Publishes touchpoints to the input topic as the collector's forwarder does (key site:visitor, idempotent).</summary>
    public void Produce(IEnumerable<Touchpoint> touchpoints, int? ratePerSecond = null, CancellationToken ct = default)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            EnableIdempotence = true,
            LingerMs = 2,
        }).Build();
        var started = DateTime.UtcNow;
        var n = 0;
        foreach (var tp in touchpoints)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint);
            producer.Produce(Input, new Message<string, byte[]> { Key = $"{tp.SiteId}:{tp.VisitorId}", Value = bytes });
            n++;
            if (ratePerSecond is { } rate && n % 50 == 0)
            {
                var due = started.AddSeconds((double)n / rate);
                var wait = due - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    ct.WaitHandle.WaitOne(wait);
                }
                ct.ThrowIfCancellationRequested();
            }
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Messages on a topic so far (sum of the partitions' high watermarks).</summary>
    public long CountOf(string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "tt-test-count" }).Build();
        return Enumerable.Range(0, Partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(5)).High.Value);
    }

    /// <summary>Every message of a topic, read committed, once at least <paramref name="atLeast"/> are there and no more come for a while.</summary>
    public List<ConsumeResult<string, byte[]>> ReadAll(string topic, long atLeast, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (CountOf(topic) < atLeast && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }
        // Settle: the count must stay put for a second (a duplicate would come after the expected count).
        var last = -1L;
        for (var count = CountOf(topic); count != last && DateTime.UtcNow < deadline; count = CountOf(topic))
        {
            last = count;
            Thread.Sleep(700);
        }
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "tt-test-read",
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
            FetchWaitMaxMs = 5,
        }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var result = new List<ConsumeResult<string, byte[]>>();
        var eof = new HashSet<int>();
        while (eof.Count < Partitions)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"reading {topic} stalled");
            if (r.IsPartitionEOF)
            {
                eof.Add(r.Partition.Value);
                continue;
            }
            result.Add(r);
        }
        return result;
    }

    /// <summary>Reads both output topics, validates every message against its schema and parses it.</summary>
    public (List<Touchpoint> Staged, List<StageTransition> Transitions) ReadOutputs(long stagedAtLeast, long transitionsAtLeast, TimeSpan timeout)
    {
        var staged = ReadAll(Staged, stagedAtLeast, timeout);
        var transitions = ReadAll(Transitions, transitionsAtLeast, timeout);
        foreach (var m in staged)
        {
            Schemas.AssertValid(Schemas.StagedTouchpoint, m.Message.Value);
            Assert.That(Encoding.ASCII.GetString(m.Message.Headers.GetLastBytes(KafkaClients.SourceOffsetHeader)), Does.Match("^[0-9]+$"));
        }
        foreach (var m in transitions)
        {
            Schemas.AssertValid(Schemas.StageTransition, m.Message.Value);
        }
        return (
            [.. staged.Select(m => JsonSerializer.Deserialize(m.Message.Value, ContractsJsonContext.Default.Touchpoint)!)],
            [.. transitions.Select(m => JsonSerializer.Deserialize(m.Message.Value, JourneysJsonContext.Default.StageTransition)!)]);
    }

    /// <summary>Reads the conversion records, validates each against docs/schemas/conversion.schema.json and parses it.</summary>
    public List<Journeys.Conversions.ConversionRecord> ReadConversions(long atLeast, TimeSpan timeout)
    {
        var messages = ReadAll(Conversions, atLeast, timeout);
        foreach (var m in messages)
        {
            Schemas.AssertValid(Schemas.Conversion, m.Message.Value);
        }
        return [.. messages.Select(m => JsonSerializer.Deserialize(m.Message.Value, JourneysJsonContext.Default.ConversionRecord)!)];
    }

    /// <summary>The conversion ids the reference engine's staged touchpoints carry.</summary>
    public static List<string> ExpectedConversions(JourneyRunner expected) =>
        [.. expected.Staged.Where(s => s.Journey!.Conversion is not null).Select(s => s.Journey!.Conversion!.ConversionId)];

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        Cluster.Dispose();
    }
}
