using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Processor.Hosting;
using TouchpointTracker.ServiceDefaults;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Support;

/// <summary>The processor application in the test process, composed as processor/Program.cs does, on a free port.</summary>
public sealed class ProcessorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProcessorHost(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    public Uri BaseAddress { get; }
    public IServiceProvider Services => _app.Services;
    public MetricsRegistry Metrics => _app.Services.GetRequiredService<MetricsRegistry>();

    /// <summary>A counter's value summed over its labels.</summary>
    public long Total(string counter) => Metrics.Counter(counter, "").Total;

    public static async Task<ProcessorHost> StartAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddProcessor();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapProcessor();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ProcessorHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// The processor as its own OS process (<c>dotnet TouchpointTracker.Processor.dll</c>), configured through
/// environment variables as in production, so a test can kill it with SIGKILL at any moment.
/// </summary>
public sealed class ProcessorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProcessorProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; private init; } = new("http://127.0.0.1/");
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it wrote, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    public static ProcessorProcess Start(IDictionary<string, string?> settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TouchpointTracker.Processor.dll");
        var port = FreePort.Next();
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\"")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        psi.Environment["Logging__LogLevel__Microsoft"] = "Warning";
        foreach (var (key, value) in settings)
        {
            psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("the processor did not start");
        return new ProcessorProcess(process) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a machine dies mid-batch.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
