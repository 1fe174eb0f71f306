using TouchpointTracker.Testing;

namespace TouchpointTracker.Pipeline.Tests;

/// <summary>Before any test: one librdkafka, the build's, for every Kafka client and the mock cluster.</summary>
[SetUpFixture]
public sealed class NativeKafkaSetup
{
    [OneTimeSetUp]
    public void PinLibrdkafka() => MockKafkaCluster.UseBundledLibrdkafka();
}
