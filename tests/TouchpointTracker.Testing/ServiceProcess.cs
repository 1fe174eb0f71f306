using System.Collections.Concurrent;
using System.Diagnostics;

namespace TouchpointTracker.Testing;

/// <summary>
/// A built TouchpointTracker service in a process of its own (<c>dotnet TouchpointTracker.X.dll</c>) on a
/// loopback port, configured by environment variables (<c>Redis__Configuration</c>, ...; <c>:</c> in a
/// name becomes <c>__</c>). It can die for real: <see cref="Kill"/> sends SIGKILL, so no shutdown code runs.
/// </summary>
public abstract class ServiceProcess : IAsyncDisposable
{
    private const int OutputLines = 400;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private readonly string _service;

    protected ServiceProcess(Process process, Uri baseAddress, string service)
    {
        _service = service;
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

    /// <summary>Starts <paramref name="dll"/> on <paramref name="port"/> and waits until its liveness endpoint answers.</summary>
    protected static async Task<T> StartCoreAsync<T>(string dll, IDictionary<string, string?> environment, int port, TimeSpan? startTimeout, Func<Process, Uri, T> create)
        where T : ServiceProcess
    {
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
        // A data folder of its own (the embedded mode's analytics store and journey states) unless the caller names one.
        psi.Environment["Analytics__Path"] = Path.Combine(Path.GetTempPath(), "tt-test-data-" + Guid.NewGuid().ToString("N"), "analytics.duckdb");
        foreach (var (name, value) in environment)
        {
            psi.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet " + dll);
        var service = create(process, baseAddress);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitForLivenessAsync(startTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>SIGKILL: the process ends at once, holding whatever it held (mid-batch, mid-transaction).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a pod: readiness red, in-flight work drains (the processor aborts its
    /// open transaction and leaves the group). SIGKILL after <paramref name="timeout"/>. Returns true when the
    /// process exited by itself.
    /// </summary>
    public Task<bool> StopAsync(TimeSpan timeout) => Signals.TerminateAsync(_process, timeout);

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// &lt;folder&gt;/bin/&lt;Configuration&gt;/net10.0/&lt;dll&gt;, the configuration and framework being the ones
    /// the tests were built in (read from the test's output folder). Never another configuration's build: a
    /// stale Release build beside a fresh Debug one would be tested instead of the code under test.
    /// </summary>
    protected static string FindDll(string folder, string dllName)
    {
        var baseDir = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var framework = baseDir.Name; // .../bin/<Configuration>/<framework>
        var configuration = baseDir.Parent?.Name ?? "Debug";
        for (var dir = baseDir; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, folder, "bin", configuration, framework, dllName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{dllName} not found under {folder}/bin/{configuration}/{framework}: build the solution in {configuration} first (dotnet build).");
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
                throw new InvalidOperationException($"The {_service} exited with code {_process.ExitCode} before it was live:{Environment.NewLine}{Output}");
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
                throw new TimeoutException($"The {_service} did not answer /healthz within {timeout}:{Environment.NewLine}{Output}");
            }
            await Task.Delay(100);
        }
    }
}
