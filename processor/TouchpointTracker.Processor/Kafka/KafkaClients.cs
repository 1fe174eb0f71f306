using Confluent.Kafka;
using Confluent.Kafka.Admin;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Processor.Kafka;

/// <summary>Client configurations and topic checks, from <see cref="KafkaOptions"/>.</summary>
public static class KafkaClients
{
    /// <summary>The client id of the processor's Kafka clients unless <c>Kafka:ClientId</c> names another.</summary>
    public const string ServiceName = "tt-processor";

    /// <summary>Header on every output message: the input offset it came from (ASCII decimal).</summary>
    public const string SourceOffsetHeader = "tt-src-offset";

    /// <summary>The staging consumer: the processors' group, range assignment (outputs go on their input's partition number).</summary>
    public static ConsumerConfig InputConsumer(KafkaOptions o) =>
        GroupConsumer(o, o.GroupId, role: null, PartitionAssignmentStrategy.Range);

    /// <summary>The analytics sink's consumer: a group of its own, reading the staged topics.</summary>
    public static ConsumerConfig AnalyticsConsumer(KafkaOptions o, string groupId) =>
        GroupConsumer(o, groupId, role: "analytics", strategy: null);

    /// <summary>
    /// A group member that commits offsets itself, after its outputs are durable, and reads only committed
    /// transactions from the start of what its group has not read.
    /// </summary>
    private static ConsumerConfig GroupConsumer(KafkaOptions o, string groupId, string? role, PartitionAssignmentStrategy? strategy)
    {
        var config = new ConsumerConfig
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            SessionTimeoutMs = o.SessionTimeoutMs,
        };
        if (strategy is { } s)
        {
            config.PartitionAssignmentStrategy = s;
        }
        return KafkaClientConfig.Configure(WithFetchWait(config, o), o, ServiceName, role);
    }

    private static ConsumerConfig WithFetchWait(ConsumerConfig config, KafkaOptions o)
    {
        if (o.FetchWaitMaxMs is { } wait)
        {
            config.FetchWaitMaxMs = wait;
        }
        return config;
    }

    /// <summary>A consumer that reads the end of the output topics (assign only; never commits).</summary>
    public static ConsumerConfig TailConsumer(KafkaOptions o, IsolationLevel isolation)
    {
        var config = new ConsumerConfig
        {
            GroupId = o.GroupId + "-tail",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
        };
        return KafkaClientConfig.Configure(WithFetchWait(config, o), o, ServiceName, "tail");
    }

    public static ProducerConfig OutputProducer(KafkaOptions o, string instanceId)
    {
        var config = new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = o.LingerMs,
            CompressionType = KafkaClientConfig.CompressionOf(o),
        };
        if (o.Transactional)
        {
            config.TransactionalId = $"{o.TransactionalIdPrefix}-{instanceId}";
            config.TransactionTimeoutMs = o.TransactionTimeoutMs;
        }
        return KafkaClientConfig.Configure(config, o, ServiceName, instanceId);
    }

    public static AdminClientConfig Admin(KafkaOptions o)
    {
        var config = KafkaClientConfig.Configure(new AdminClientConfig(), o, ServiceName, "admin");
        config.Set("allow.auto.create.topics", "false");
        return config;
    }

    /// <summary>
    /// Checks that the output topics exist with the input topic's partition count (the processor writes each
    /// output on its input's partition number), creating them when allowed. Returns the partition count, or
    /// null while the input topic does not exist yet.
    /// </summary>
    public static async Task<int?> EnsureTopicsAsync(IAdminClient admin, KafkaOptions o, CancellationToken ct)
    {
        var input = await PartitionCountAsync(admin, o.TouchpointsTopic);
        if (input is null)
        {
            return null;
        }
        foreach (var topic in new[] { o.StagedTopic, o.TransitionsTopic, o.ConversionsTopic })
        {
            ct.ThrowIfCancellationRequested();
            var count = await PartitionCountAsync(admin, topic);
            if (count is null)
            {
                if (!o.CreateTopics)
                {
                    throw new InvalidOperationException(
                        $"Kafka: topic '{topic}' does not exist; create it with {input} partitions (as many as '{o.TouchpointsTopic}') or set Kafka:CreateTopics=true");
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
                    $"Kafka: topic '{topic}' has {count} partitions but '{o.TouchpointsTopic}' has {input}: each output is written on its input's partition number, so they must match (recreate '{topic}' or point Kafka:{(topic == o.StagedTopic ? "StagedTopic" : topic == o.TransitionsTopic ? "TransitionsTopic" : "ConversionsTopic")} at another topic)");
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
