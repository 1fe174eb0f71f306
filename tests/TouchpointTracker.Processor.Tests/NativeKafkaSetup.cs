using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests;

/// <summary>
/// Before any Kafka test: Confluent.Kafka and the mock cluster (P/Invoke in TouchpointTracker.Testing) both
/// use the librdkafka of the librdkafka.redist package, not a distribution copy that may be installed.
/// </summary>
[SetUpFixture]
public sealed class NativeKafkaSetup
{
    [OneTimeSetUp]
    public void UseTheRedistLibrdkafka()
    {
        Librdkafka.Configure();
        Librdkafka.UseFor(typeof(MockKafkaCluster).Assembly);
    }
}
