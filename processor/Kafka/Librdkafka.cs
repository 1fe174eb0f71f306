using System.Reflection;
using System.Runtime.InteropServices;

namespace TouchpointTracker.Processor.Kafka;

/// <summary>
/// Makes Confluent.Kafka use the librdkafka shipped in the librdkafka.redist package. Without this, on a
/// Linux machine that also has a distribution librdkafka installed (Debian 12: 2.0.2), the runtime's probe
/// for "librdkafka" can end at the system copy: the redist's generic build needs libsasl2.so.3, which
/// Debian lacks, so its load fails and the name falls through to /usr/lib. Confluent.Kafka 2.16 then fails
/// at the first Consume (a 2.1+ symbol). Here the first redist build that loads (generic, then the
/// self-contained centos8 build) wins, or an explicit path (Kafka:LibrdkafkaPath).
/// </summary>
public static class Librdkafka
{
    private static readonly Lock Gate = new();
    private static IntPtr _handle;

    /// <summary>The file in use once <see cref="Configure"/> ran, or null when the runtime's default probing is used.</summary>
    public static string? LoadedPath { get; private set; }

    /// <summary>Selects the library for Confluent.Kafka (once per process; later calls return the first choice).</summary>
    public static string? Configure(string? explicitPath = null)
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero || !OperatingSystem.IsLinux())
            {
                return LoadedPath;
            }
            foreach (var candidate in Candidates(explicitPath))
            {
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle) && NativeLibrary.TryGetExport(handle, "rd_kafka_mock_cluster_new", out _))
                {
                    _handle = handle;
                    LoadedPath = candidate;
                    UseFor(typeof(Confluent.Kafka.Library).Assembly);
                    return LoadedPath;
                }
            }
            return null;
        }
    }

    /// <summary>Resolves "librdkafka" to the selected library for the P/Invokes of <paramref name="assembly"/>.</summary>
    public static bool UseFor(Assembly assembly)
    {
        if (_handle == IntPtr.Zero)
        {
            return false;
        }
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
                name is "librdkafka" or "librdkafka.so" or "librdkafka.so.1" ? _handle : IntPtr.Zero);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // a resolver is already set for that assembly; it keeps its choice
        }
    }

    private static IEnumerable<string> Candidates(string? explicitPath)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            yield return explicitPath;
            yield break;
        }
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "linux-arm64",
            _ => "linux-x64",
        };
        var dirs = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? "" };
        foreach (var dir in dirs.Distinct(StringComparer.Ordinal).Where(d => d.Length > 0))
        {
            var native = Path.Combine(dir, "runtimes", arch, "native");
            yield return Path.Combine(native, "librdkafka.so");
            yield return Path.Combine(native, "centos8-librdkafka.so");
        }
    }
}
