namespace TouchpointTracker.Testing;

/// <summary>
/// The built processor in a process of its own (<c>dotnet TouchpointTracker.Processor.dll</c> from
/// processor/bin) on a free loopback port, configured by settings given as configuration keys
/// (<c>Kafka:BootstrapServers</c>) or environment variables (<c>Kafka__BootstrapServers</c>), as in production.
/// </summary>
public sealed class ProcessorProcess : ServiceProcess
{
    private ProcessorProcess(System.Diagnostics.Process process, Uri baseAddress)
        : base(process, baseAddress, "processor")
    {
    }

    /// <summary>Starts the processor and waits until its liveness endpoint answers.</summary>
    public static Task<ProcessorProcess> StartAsync(IDictionary<string, string?> settings, TimeSpan? startTimeout = null) =>
        StartCoreAsync(FindProcessorDll(), settings, FreePort.Next(), startTimeout, (p, uri) => new ProcessorProcess(p, uri));

    public static string FindProcessorDll() => FindDll("processor/TouchpointTracker.Processor", "TouchpointTracker.Processor.dll");
}
