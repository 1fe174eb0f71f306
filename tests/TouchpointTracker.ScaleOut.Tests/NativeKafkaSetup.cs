using TouchpointTracker.Collector.Forwarding;
using TouchpointTracker.Testing;

namespace TouchpointTracker.ScaleOut.Tests;

/// <summary>
/// Before any test: the mock cluster's P/Invokes and the test's own Kafka clients use the librdkafka
/// bundled with the build, not an older system copy (see KafkaNativeLibrary).
/// </summary>
[SetUpFixture]
public sealed class NativeKafkaSetup
{
    [OneTimeSetUp]
    public void PinLibrdkafka()
    {
        KafkaNativeLibrary.EnsureLoaded();
        KafkaNativeLibrary.TryResolveFor(typeof(MockKafkaCluster).Assembly);
    }
}
