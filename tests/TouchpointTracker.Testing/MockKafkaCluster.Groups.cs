using System.Runtime.InteropServices;

namespace TouchpointTracker.Testing;

public sealed partial class MockKafkaCluster
{
    /// <summary>
    /// How long the mock's group coordinator waits for more members before the first assignment of a new
    /// group (like the broker's group.initial.rebalance.delay.ms; the mock's default is 3 s).
    /// </summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay) =>
        rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, (int)delay.TotalMilliseconds);

    [LibraryImport(Lib)] private static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mc, int delayMs);
}
