using Confluent.Kafka;
using Confluent.Kafka.Admin;
using TouchpointTracker.Processor.Configuration;

namespace TouchpointTracker.Processor.Kafka;

/// <summary>Client configurations and topic checks, from <see cref="KafkaOptions"/>.</summary>
public static class KafkaClients
{
    /// <summary>Header on every output message: the input offset it came from (ASCII decimal).</summary>
    public const string SourceOffsetHeader = "tt-src-offset";

    public static ConsumerConfig InputConsumer(KafkaOptions o)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = o.BootstrapServers,
            GroupId = o.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            SessionTimeoutMs = o.SessionTimeoutMs,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
            ClientId = "tt-processor",
        };
        if (o.FetchWaitMaxMs is { } wait)
        {
            config.FetchWaitMaxMs = wait;
        }
        Apply(config, o);
        return config;
    }

    /// <summary>A consumer that reads the end of the output topics (assign only; never commits).</summary>
    public static ConsumerConfig TailConsumer(KafkaOptions o, IsolationLevel isolation)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = o.BootstrapServers,
            GroupId = o.GroupId + "-tail",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
            ClientId = "tt-processor-tail",
        };
        if (o.FetchWaitMaxMs is { } wait)
        {
            config.FetchWaitMaxMs = wait;
        }
        Apply(config, o);
        return config;
    }

    public static ProducerConfig OutputProducer(KafkaOptions o, string instanceId)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = o.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            CompressionType = CompressionType.Lz4,
            ClientId = "tt-processor-" + instanceId,
        };
        if (o.Transactional)
        {
            config.TransactionalId = $"{o.TransactionalIdPrefix}-{instanceId}";
            config.TransactionTimeoutMs = o.TransactionTimeoutMs;
        }
        Apply(config, o);
        return config;
    }

    public static AdminClientConfig Admin(KafkaOptions o)
    {
        var config = new AdminClientConfig { BootstrapServers = o.BootstrapServers, ClientId = "tt-processor-admin" };
        config.Set("allow.auto.create.topics", "false");
        Apply(config, o);
        return config;
    }

    private static void Apply(ClientConfig config, KafkaOptions o)
    {
        foreach (var (key, value) in o.Properties)
        {
            config.Set(key, value);
        }
    }

    /// <summary>
    /// Checks that the output topics exist with the input topic's partition count (the processor writes each
    /// output on its input's partition number), creating them when allowed. Returns the partition count, or
    /// null while the input topic does not exist yet.
    /// </summary>
    public static async Task<int?> EnsureTopicsAsync(IAdminClient admin, KafkaOptions o, CancellationToken ct)
    {
        var input = await PartitionCountAsync(admin, o.InputTopic);
        if (input is null)
        {
            return null;
        }
        foreach (var topic in new[] { o.StagedTopic, o.TransitionsTopic })
        {
            ct.ThrowIfCancellationRequested();
            var count = await PartitionCountAsync(admin, topic);
            if (count is null)
            {
                if (!o.CreateTopics)
                {
                    throw new InvalidOperationException(
                        $"Kafka: topic '{topic}' does not exist; create it with {input} partitions (as many as '{o.InputTopic}') or set Kafka:CreateTopics=true");
                }
                try
                {
                    await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = input.Value, ReplicationFactor = o.ReplicationFactor }]);
                }
                catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
                {
                    // another processor created it first
                }
                count = await PartitionCountAsync(admin, topic);
            }
            if (count != input)
            {
                throw new InvalidOperationException(
                    $"Kafka: topic '{topic}' has {count} partitions but '{o.InputTopic}' has {input}: each output is written on its input's partition number, so they must match (recreate '{topic}' or point Kafka:{(topic == o.StagedTopic ? "StagedTopic" : "TransitionsTopic")} at another topic)");
            }
        }
        return input;
    }

    private static Task<int?> PartitionCountAsync(IAdminClient admin, string topic)
    {
        // A metadata request (what every Kafka-compatible broker answers); auto-creation is off for this
        // client, so asking about a missing topic does not create it with the broker's default partitions.
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var description = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
        if (description is null || description.Error.Code == ErrorCode.UnknownTopicOrPart || description.Partitions.Count == 0)
        {
            return Task.FromResult<int?>(null);
        }
        if (description.Error.IsError)
        {
            throw new KafkaException(description.Error);
        }
        return Task.FromResult<int?>(description.Partitions.Count);
    }
}
