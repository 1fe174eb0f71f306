namespace TouchpointTracker.Testing;

/// <summary>
/// The built collector in a process of its own on a loopback port. Unlike <see cref="CollectorHost"/> it can
/// die for real (<see cref="ServiceProcess.Kill"/>).
/// </summary>
public sealed class CollectorProcess : ServiceProcess
{
    private CollectorProcess(System.Diagnostics.Process process, Uri baseAddress)
        : base(process, baseAddress, "collector")
    {
    }

    /// <summary>Starts the collector on a free port and waits until its liveness endpoint answers.</summary>
    public static Task<CollectorProcess> StartAsync(IDictionary<string, string?> environment, TimeSpan? startTimeout = null) =>
        StartAsync(environment, FreePort.Next(), startTimeout);

    /// <summary>Starts the collector on a given loopback port (to restart one where a load balancer expects it).</summary>
    public static Task<CollectorProcess> StartAsync(IDictionary<string, string?> environment, int port, TimeSpan? startTimeout = null) =>
        StartCoreAsync(FindCollectorDll(), environment, port, startTimeout, (p, uri) => new CollectorProcess(p, uri));

    public static string FindCollectorDll() => FindDll("collector/TouchpointTracker.Collector", "TouchpointTracker.Collector.dll");
}
