using TouchpointTracker.Messaging;
using Confluent.Kafka;
using TouchpointTracker.Processor.Configuration;
using TouchpointTracker.Processor.Kafka;

namespace TouchpointTracker.Processor.Staging;

/// <summary>The staging loop's Kafka start-up: waiting until the topics exist, and building the input consumer.</summary>
internal static class KafkaSetup
{
    /// <summary>
    /// Waits until the input topic exists and the output topics match it (created when allowed); false when
    /// stopped first. A mismatch the processor cannot fix throws.
    /// </summary>
    public static bool WaitForTopics(KafkaOptions kafka, ILogger logger, CancellationToken ct)
    {
        using var admin = new AdminClientBuilder(KafkaClients.Admin(kafka)).Build();
        var warned = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (KafkaClients.EnsureTopicsAsync(admin, kafka, ct).GetAwaiter().GetResult() is not null)
                {
                    return true;
                }
                if (!warned)
                {
                    logger.LogWarning("Input topic '{Topic}' does not exist yet; waiting for it", kafka.TouchpointsTopic);
                    warned = true;
                }
            }
            catch (KafkaException ex)
            {
                logger.LogWarning("Kafka not reachable yet ({Reason}); retrying", ex.Message);
            }
            ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
        }
        return false;
    }

    /// <summary>The input consumer; <paramref name="assigned"/> and <paramref name="revoked"/> run on rebalances (revoked also when partitions are lost).</summary>
    public static IConsumer<byte[]?, byte[]?> CreateInputConsumer(
        KafkaOptions kafka,
        ILogger logger,
        Func<List<TopicPartition>, List<TopicPartitionOffset>> assigned,
        Action<IEnumerable<TopicPartition>> revoked) =>
        new ConsumerBuilder<byte[]?, byte[]?>(KafkaClients.InputConsumer(kafka))
            .SetPartitionsAssignedHandler((_, partitions) => assigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => revoked(partitions.Select(p => p.TopicPartition)))
            .SetPartitionsLostHandler((_, partitions) => revoked(partitions.Select(p => p.TopicPartition)))
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal)
                {
                    logger.LogError("Kafka consumer fatal error: {Reason}", e.Reason);
                }
                else
                {
                    logger.LogDebug("Kafka consumer: {Reason}", e.Reason);
                }
            })
            .Build();
}
