using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Processor.Hosting;
using TouchpointTracker.ServiceDefaults;

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
