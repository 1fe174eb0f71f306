using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Text;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Testing;

/// <summary>
/// librdkafka's own Kafka-protocol mock cluster, started in this process through librdkafka's C API
/// (the library shipped by the librdkafka.redist package). Real TCP listeners on 127.0.0.1: clients
/// connect to <see cref="BootstrapServers"/> like to any broker. Brokers can be set down and up.
/// </summary>
public sealed partial class MockKafkaCluster : IDisposable
{
    private const string Lib = "librdkafka";
    private IntPtr _handle;
    private IntPtr _cluster;

    private MockKafkaCluster(IntPtr handle, IntPtr cluster, int brokers)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokers;
        BootstrapServers = Marshal.PtrToStringAnsi(rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster gave no bootstrap servers");
    }

    public string BootstrapServers { get; }
    public int BrokerCount { get; }

    /// <summary>
    /// Pins one librdkafka, the build's (see <see cref="Librdkafka"/>), for Confluent.Kafka and for this class's
    /// P/Invokes. Test assemblies that use Kafka call it from a [SetUpFixture], before any client exists.
    /// </summary>
    public static void UseBundledLibrdkafka()
    {
        Librdkafka.Load();
        Librdkafka.UseFor(typeof(MockKafkaCluster).Assembly);
    }

    public static MockKafkaCluster Start(int brokers = 3)
    {
        UseBundledLibrdkafka();
        var errstr = new byte[512];
        var conf = rd_kafka_conf_new();
        foreach (var (name, value) in new[] { ("client.id", "touchpointtracker-mock-cluster"), ("log_level", "0") })
        {
            if (rd_kafka_conf_set(conf, name, value, errstr, (UIntPtr)errstr.Length) != 0)
            {
                throw new InvalidOperationException($"rd_kafka_conf_set {name}: {Text(errstr)}");
            }
        }
        var handle = rd_kafka_new(0 /* producer */, conf, errstr, (UIntPtr)errstr.Length);
        if (handle == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_new failed: " + Text(errstr));
        }
        var cluster = rd_kafka_mock_cluster_new(handle, brokers);
        if (cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        return new MockKafkaCluster(handle, cluster, brokers);
    }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1) =>
        Check(rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor), $"create topic {topic}");

    public void SetBrokerDown(int brokerId) => Check(rd_kafka_mock_broker_set_down(_cluster, brokerId), $"set broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => Check(rd_kafka_mock_broker_set_up(_cluster, brokerId), $"set broker {brokerId} up");

    /// <summary>Brokers are numbered from 1.</summary>
    public void SetAllBrokersDown()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerDown(id);
        }
    }

    public void SetAllBrokersUp()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            SetBrokerUp(id);
        }
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero)
        {
            rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
        }
        if (_handle != IntPtr.Zero)
        {
            rd_kafka_destroy(_handle);
            _handle = IntPtr.Zero;
        }
    }

    private static string Text(byte[] buffer) => Encoding.UTF8.GetString(buffer, 0, Math.Max(0, Array.IndexOf(buffer, (byte)0)));

    private static void Check(int err, string what)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"mock cluster: {what} failed with librdkafka error {err}");
        }
    }

    [LibraryImport(Lib)] private static partial IntPtr rd_kafka_conf_new();
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, [Out] byte[] errstr, UIntPtr errstrSize);
    [LibraryImport(Lib)] private static partial IntPtr rd_kafka_new(int type, IntPtr conf, [Out] byte[] errstr, UIntPtr errstrSize);
    [LibraryImport(Lib)] private static partial void rd_kafka_destroy(IntPtr rk);
    [LibraryImport(Lib)] private static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [LibraryImport(Lib)] private static partial void rd_kafka_mock_cluster_destroy(IntPtr mc);
    [LibraryImport(Lib)] private static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mc);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_mock_topic_create(IntPtr mc, string topic, int partitionCount, int replicationFactor);
    [LibraryImport(Lib)] private static partial int rd_kafka_mock_broker_set_down(IntPtr mc, int brokerId);
    [LibraryImport(Lib)] private static partial int rd_kafka_mock_broker_set_up(IntPtr mc, int brokerId);
}
