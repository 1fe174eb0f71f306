using System.Collections.Concurrent;
using System.Diagnostics;

namespace TouchpointTracker.Testing;

/// <summary>
/// The built processor in a process of its own (<c>dotnet TouchpointTracker.Processor.dll</c> from
/// processor/bin) on a free loopback port, configured by settings given as configuration keys
/// (<c>Kafka:BootstrapServers</c>) or environment variables (<c>Kafka__BootstrapServers</c>), as in
/// production. Modelled on <see cref="CollectorProcess"/>: <see cref="Kill"/> sends SIGKILL,
/// <see cref="StopAsync"/> SIGTERM.
/// </summary>
public sealed class ProcessorProcess : IAsyncDisposable
{
    private const int OutputLines = 400;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProcessorProcess(Process process, Uri baseAddress)
    {
        _process = process;
        ProcessId = process.Id;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int ProcessId { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the processor and waits until its liveness endpoint answers.</summary>
    public static async Task<ProcessorProcess> StartAsync(IDictionary<string, string?> settings, TimeSpan? startTimeout = null)
    {
        var dll = FindProcessorDll();
        var port = FreePort.Next();
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
        foreach (var (name, value) in settings)
        {
            psi.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet " + dll);
        var processor = new ProcessorProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => processor.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => processor.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await processor.WaitForLivenessAsync(startTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await processor.DisposeAsync();
            throw;
        }
        return processor;
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>SIGKILL: the process ends at once, mid-batch or mid-transaction.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM: the processor aborts its open transaction and leaves the group. SIGKILL after <paramref name="timeout"/>.</summary>
    public Task<bool> StopAsync(TimeSpan timeout) => Signals.TerminateAsync(_process, timeout);

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// processor/bin/&lt;Configuration&gt;/net10.0/TouchpointTracker.Processor.dll, the configuration being the
    /// one the tests were built in (read from the test's output folder), else any built one.
    /// </summary>
    public static string FindProcessorDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = baseDir.Parent?.Parent?.Name; // .../bin/<Configuration>/net10.0/
        var framework = baseDir.Name;
        for (var dir = baseDir; dir is not null; dir = dir.Parent)
        {
            var bin = Path.Combine(dir.FullName, "processor", "bin");
            if (!Directory.Exists(bin))
            {
                continue;
            }
            var preferred = Path.Combine(bin, configuration ?? "Debug", framework, "TouchpointTracker.Processor.dll");
            if (File.Exists(preferred))
            {
                return preferred;
            }
            var any = Directory.EnumerateFiles(bin, "TouchpointTracker.Processor.dll", SearchOption.AllDirectories).FirstOrDefault();
            if (any is not null)
            {
                return any;
            }
        }
        throw new FileNotFoundException("TouchpointTracker.Processor.dll not found under processor/bin: build the processor first (dotnet build).");
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
                throw new InvalidOperationException($"The processor exited with code {_process.ExitCode} before it was live:{Environment.NewLine}{Output}");
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
                throw new TimeoutException($"The processor did not answer /healthz within {timeout}:{Environment.NewLine}{Output}");
            }
            await Task.Delay(100);
        }
    }
}
