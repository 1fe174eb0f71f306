using TouchpointTracker.Testing;

// Namespace TouchpointTracker, the root of every test namespace: NUnit runs a [SetUpFixture] before the
// fixtures of its namespace and those below it, so this one runs before every test of the assembly.
namespace TouchpointTracker;

/// <summary>
/// Before any test: one librdkafka, the build's, for every Kafka client and the mock cluster. A
/// [SetUpFixture] must be in the test assembly, so tests/Directory.Build.targets compiles this one file
/// into every test project that sets <c>UsesKafka</c>.
/// </summary>
[SetUpFixture]
public sealed class NativeKafkaSetup
{
    [OneTimeSetUp]
    public void PinLibrdkafka() => MockKafkaCluster.UseBundledLibrdkafka();
}
