using System.Reflection;
using System.Runtime.InteropServices;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Pins the librdkafka that Confluent.Kafka binds to. The librdkafka.redist package ships one build per
/// libc under runtimes/&lt;rid&gt;/native; its default build needs libsasl2.so.3, which some distributions
/// (Debian 12) lack. When that build fails to load, Confluent.Kafka's own lookup falls through to any
/// <c>librdkafka.so</c> on the system, possibly years older, and fails later on a missing function. This
/// takes the first candidate that loads and exports a recent API, and resolves every <c>librdkafka</c>
/// import of Confluent.Kafka to it. Call before the first Kafka client is built.
/// </summary>
public static class KafkaNativeLibrary
{
    private static readonly object Gate = new();
    private static bool _done;

    /// <summary>The library in use, or <see cref="IntPtr.Zero"/> when the default lookup applies.</summary>
    public static IntPtr Handle { get; private set; }

    public static string? Path { get; private set; }

    /// <param name="configuredPath"><c>Kafka:LibraryPath</c>, tried first when set.</param>
    public static void EnsureLoaded(string? configuredPath = null)
    {
        lock (Gate)
        {
            if (_done)
            {
                return;
            }
            _done = true;
            foreach (var candidate in Candidates(configuredPath))
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    // rd_kafka_message_leader_epoch is called by Confluent.Kafka 2.x (librdkafka >= 2.1).
                    if (NativeLibrary.TryGetExport(handle, "rd_kafka_message_leader_epoch", out _))
                    {
                        Handle = handle;
                        Path = candidate;
                        break;
                    }
                    NativeLibrary.Free(handle);
                }
            }
            if (Handle != IntPtr.Zero)
            {
                TryResolveFor(typeof(Confluent.Kafka.Library).Assembly);
            }
        }
    }

    /// <summary>
    /// Resolves the <c>librdkafka</c> imports of <paramref name="assembly"/> to the pinned library. False when
    /// nothing is pinned, or when the assembly already has a resolver (another component of the process set
    /// one first, e.g. the processor's; it then keeps its choice, the same bundled file in practice).
    /// </summary>
    public static bool TryResolveFor(Assembly assembly)
    {
        if (Handle == IntPtr.Zero)
        {
            return false;
        }
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A resolver other assemblies importing <c>librdkafka</c> (the test's mock cluster) can share.</summary>
    public static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.Contains("librdkafka", StringComparison.Ordinal) ? Handle : IntPtr.Zero;

    private static IEnumerable<string> Candidates(string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            yield return configuredPath;
        }
        var native = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 when OperatingSystem.IsLinux() => ("linux-x64", new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" }),
            Architecture.Arm64 when OperatingSystem.IsLinux() => ("linux-arm64", new[] { "librdkafka.so", "alpine-librdkafka.so" }),
            Architecture.X64 when OperatingSystem.IsWindows() => ("win-x64", new[] { "librdkafka.dll" }),
            Architecture.Arm64 when OperatingSystem.IsMacOS() => ("osx-arm64", new[] { "librdkafka.dylib" }),
            Architecture.X64 when OperatingSystem.IsMacOS() => ("osx-x64", new[] { "librdkafka.dylib" }),
            _ => ("", Array.Empty<string>()),
        };
        foreach (var name in native.Item2)
        {
            var path = System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", native.Item1, "native", name);
            if (File.Exists(path))
            {
                yield return path;
            }
        }
    }
}
