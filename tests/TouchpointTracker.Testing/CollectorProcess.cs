using System.Collections.Concurrent;
using System.Diagnostics;

namespace TouchpointTracker.Testing;

/// <summary>
/// The built collector in a process of its own (<c>dotnet TouchpointTracker.Collector.dll</c>) on a free
/// loopback port, configured by environment variables (<c>Redis__Configuration</c>, ...). Unlike
/// <see cref="CollectorHost"/> it can die for real: <see cref="Kill"/> sends SIGKILL, so no shutdown code runs.
/// </summary>
public sealed class CollectorProcess : IAsyncDisposable
{
    private const int OutputLines = 400;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private CollectorProcess(Process process, Uri baseAddress)
    {
        _process = process;
        ProcessId = process.Id;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int Port => BaseAddress.Port;
    public int ProcessId { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the collector and waits until its liveness endpoint answers.</summary>
    public static Task<CollectorProcess> StartAsync(IDictionary<string, string?> environment, TimeSpan? startTimeout = null) =>
        StartAsync(environment, FreePort.Next(), startTimeout);

    /// <summary>Starts the collector on a given loopback port (to restart one where a load balancer expects it).</summary>
    public static async Task<CollectorProcess> StartAsync(IDictionary<string, string?> environment, int port, TimeSpan? startTimeout = null)
    {
        var dll = FindCollectorDll();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        psi.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.Environment["Logging__Json"] = "false";
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet " + dll);
        var collector = new CollectorProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => collector.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => collector.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await collector.WaitForLivenessAsync(startTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await collector.DisposeAsync();
            throw;
        }
        return collector;
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>SIGKILL: the process ends at once, holding whatever it held.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a pod: readiness red, the listener closes after
    /// <c>Shutdown:ReadinessGraceSeconds</c>, in-flight work drains. SIGKILL after <paramref name="timeout"/>.
    /// Returns true when the process exited by itself.
    /// </summary>
    public Task<bool> StopAsync(TimeSpan timeout) => Signals.TerminateAsync(_process, timeout);

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// collector/bin/&lt;Configuration&gt;/net10.0/TouchpointTracker.Collector.dll, the configuration being the
    /// one the tests were built in (read from the test's output folder), else any built one.
    /// </summary>
    public static string FindCollectorDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = baseDir.Parent?.Parent?.Name; // .../bin/<Configuration>/net10.0/
        var framework = baseDir.Name;
        for (var dir = baseDir; dir is not null; dir = dir.Parent)
        {
            var bin = Path.Combine(dir.FullName, "collector", "bin");
            if (!Directory.Exists(bin))
            {
                continue;
            }
            var preferred = Path.Combine(bin, configuration ?? "Debug", framework, "TouchpointTracker.Collector.dll");
            if (File.Exists(preferred))
            {
                return preferred;
            }
            var any = Directory.EnumerateFiles(bin, "TouchpointTracker.Collector.dll", SearchOption.AllDirectories).FirstOrDefault();
            if (any is not null)
            {
                return any;
            }
        }
        throw new FileNotFoundException("TouchpointTracker.Collector.dll not found under collector/bin: build the collector first (dotnet build).");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > OutputLines && _output.TryDequeue(out _))
        {
        }
    }

    private async Task WaitForLivenessAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The collector exited with code {_process.ExitCode} before it was live:{Environment.NewLine}{Output}");
            }
            try
            {
                using var response = await http.GetAsync("healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The collector did not answer /healthz within {timeout}:{Environment.NewLine}{Output}");
            }
            await Task.Delay(100);
        }
    }
}
