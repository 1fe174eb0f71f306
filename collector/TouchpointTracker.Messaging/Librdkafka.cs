using System.Reflection;
using System.Runtime.InteropServices;

namespace TouchpointTracker.Messaging;

/// <summary>
/// Pins the native librdkafka that Confluent.Kafka binds to, in every service and test.
/// <para>
/// The librdkafka.redist package ships one build per libc under runtimes/&lt;rid&gt;/native. Its generic
/// Linux build needs libsasl2.so.3, which some distributions lack (Debian 12). When that build does not
/// load, the runtime's probe for "librdkafka" falls through to any system copy, possibly years older
/// (Debian 12 ships 2.0.2), and Confluent.Kafka 2.16 fails later on a missing function. On Linux,
/// <see cref="Load"/> takes the first candidate that loads and exports <see cref="RequiredExport"/>:
/// <c>Kafka:LibrdkafkaPath</c> when set, then the bundled builds (generic, the glibc-only centos8 build,
/// the musl build), and resolves every librdkafka import of Confluent.Kafka to it. Elsewhere the
/// runtime's own probing finds the bundled build and nothing is pinned.
/// </para>
/// </summary>
public static class Librdkafka
{
    /// <summary>The setting naming a librdkafka to try before the bundled builds (the same in every service).</summary>
    public const string PathSetting = "Kafka:LibrdkafkaPath";

    /// <summary>A function Confluent.Kafka 2.x calls that librdkafka exports only since 2.1.</summary>
    public const string RequiredExport = "rd_kafka_message_leader_epoch";

    private static readonly Lock Gate = new();
    private static LibrdkafkaChoice? _current;
    private static IntPtr _handle;

    /// <summary>What the first <see cref="Load"/> chose, for start-up logs; null before it ran.</summary>
    public static LibrdkafkaChoice? Current
    {
        get
        {
            lock (Gate)
            {
                return _current;
            }
        }
    }

    /// <summary>The library in use, or null while the runtime's default lookup applies.</summary>
    public static string? LoadedPath => Current?.Path;

    /// <summary>
    /// Chooses the library and makes Confluent.Kafka use it. Call before the first Kafka client is built.
    /// Once per process: the first call decides, later calls return its choice whatever path they name.
    /// </summary>
    /// <param name="explicitPath">The <see cref="PathSetting"/> value, tried first when set.</param>
    public static LibrdkafkaChoice Load(string? explicitPath = null)
    {
        lock (Gate)
        {
            if (_current is not null)
            {
                return _current;
            }
            if (!OperatingSystem.IsLinux())
            {
                return _current = new LibrdkafkaChoice(null, []);
            }
            (_handle, _current) = Choose(explicitPath);
            UseFor(typeof(Confluent.Kafka.Library).Assembly);
            return _current;
        }
    }

    /// <summary>
    /// What <see cref="Load"/> would choose for <paramref name="explicitPath"/>, without pinning anything
    /// (the chosen library is opened to check it, then released). On Linux only; elsewhere nothing is chosen.
    /// </summary>
    public static LibrdkafkaChoice Inspect(string? explicitPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new LibrdkafkaChoice(null, []);
        }
        var (handle, choice) = Choose(explicitPath);
        if (handle != IntPtr.Zero)
        {
            NativeLibrary.Free(handle);
        }
        return choice;
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot serve as librdkafka (no such file; on Linux also: it does not load,
    /// or it lacks <see cref="RequiredExport"/>), or null when it can. For the services' start-up validation.
    /// </summary>
    private static string? Problem(string path)
    {
        if (!File.Exists(path))
        {
            return $"no file at '{Path.GetFullPath(path)}'";
        }
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var (handle, problem) = Open(path);
        if (handle != IntPtr.Zero)
        {
            NativeLibrary.Free(handle);
        }
        return problem;
    }

    /// <summary>
    /// The start-up validation message of the <see cref="PathSetting"/> value <paramref name="path"/> ("Kafka:LibrdkafkaPath:
    /// no file at '...'."), or null when it is unset or can serve. One wording for every service.
    /// </summary>
    public static string? PathSettingProblem(string? path) =>
        string.IsNullOrWhiteSpace(path) || Problem(path) is not { } problem ? null : $"{PathSetting}: {problem.TrimEnd('.')}.";

    /// <summary>
    /// Resolves the librdkafka imports of <paramref name="assembly"/> (the tests' mock cluster, for one) to the
    /// pinned library. False when nothing is pinned, or when the assembly already has a resolver (it keeps it).
    /// </summary>
    public static bool UseFor(Assembly assembly)
    {
        if (_handle == IntPtr.Zero)
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

    // Confluent.Kafka imports "librdkafka", "centos8-librdkafka" and "alpine-librdkafka": all are the pinned one.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.Contains("librdkafka", StringComparison.Ordinal) ? _handle : IntPtr.Zero;

    private static (IntPtr Handle, LibrdkafkaChoice Choice) Choose(string? explicitPath)
    {
        var passedOver = new List<string>();
        foreach (var candidate in Candidates(explicitPath))
        {
            var (handle, problem) = Open(candidate);
            if (handle != IntPtr.Zero)
            {
                return (handle, new LibrdkafkaChoice(candidate, passedOver));
            }
            passedOver.Add($"{candidate}: {problem}");
        }
        return (IntPtr.Zero, new LibrdkafkaChoice(null, passedOver));
    }

    private static (IntPtr Handle, string? Problem) Open(string path)
    {
        if (!File.Exists(path))
        {
            return (IntPtr.Zero, "no such file");
        }
        IntPtr handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            // The runtime's message ends with the loader's own ("...LD_DEBUG environment variable: <dlerror>").
            var reason = ex.Message;
            var dlerror = reason.LastIndexOf("environment variable:", StringComparison.Ordinal);
            return (IntPtr.Zero, "does not load: " + (dlerror >= 0 ? reason[(dlerror + "environment variable:".Length)..] : reason).Trim());
        }
        if (NativeLibrary.TryGetExport(handle, RequiredExport, out _))
        {
            return (handle, null);
        }
        NativeLibrary.Free(handle);
        return (IntPtr.Zero, $"does not export {RequiredExport} (librdkafka before 2.1?)");
    }

    /// <summary>The explicit path, then the bundled builds beside the application and beside Confluent.Kafka.</summary>
    private static IEnumerable<string> Candidates(string? explicitPath)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var full = Path.GetFullPath(explicitPath);
            seen.Add(full);
            yield return full;
        }
        var (rid, files) = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => ("linux-x64", new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" }),
            Architecture.Arm64 => ("linux-arm64", new[] { "librdkafka.so", "alpine-librdkafka.so" }),
            _ => ("", Array.Empty<string>()),
        };
        var directories = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) };
        foreach (var directory in directories)
        {
            if (string.IsNullOrEmpty(directory) || rid.Length == 0)
            {
                continue;
            }
            foreach (var file in files)
            {
                var path = Path.GetFullPath(Path.Combine(directory, "runtimes", rid, "native", file));
                if (File.Exists(path) && seen.Add(path))
                {
                    yield return path;
                }
            }
        }
    }
}

/// <summary>The librdkafka <see cref="Librdkafka"/> chose, and why the candidates before it were passed over.</summary>
/// <param name="Path">The file in use; null when nothing was pinned and the runtime's default lookup applies.</param>
/// <param name="PassedOver">One "path: reason" line per candidate tried before it.</param>
public sealed record LibrdkafkaChoice(string? Path, IReadOnlyList<string> PassedOver)
{
    public override string ToString()
    {
        var chosen = Path ?? "the runtime's default lookup";
        return PassedOver.Count == 0 ? chosen : $"{chosen} (passed over: {string.Join("; ", PassedOver)})";
    }
}
