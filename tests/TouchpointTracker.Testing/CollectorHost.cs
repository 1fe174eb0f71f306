using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Testing;

/// <summary>
/// The real collector application on Kestrel, on a free loopback port, in the test process: composed
/// by the same extension methods as collector/TouchpointTracker.Collector/Program.cs, with settings given as configuration keys.
/// </summary>
public sealed class CollectorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CollectorHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<CollectorHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = CollectorContentRoot(),
            EnvironmentName = "Testing",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            // Every test client shares 127.0.0.1: the per-IP limit is off unless a test sets it.
            ["Edge:RateLimitPerSecond"] = "0",
            // Tests stop hosts often; a test of shutdown sets its own grace period.
            ["Shutdown:ReadinessGraceSeconds"] = "0",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        // The embedded mode keeps its analytics store and journey states in a data folder: one of its own per
        // host unless the test names one (to restart a collector on the same data).
        var ownFolder = settings is null || !settings.ContainsKey("Analytics:Path") ? NewDataFolder() : null;
        if (ownFolder is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Analytics:Path"] = Path.Combine(ownFolder, "analytics.duckdb") });
        }
        builder.AddServiceDefaults();
        builder.AddCollector();
        var app = builder.Build();
        app.MapCollector();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CollectorHost(app, new Uri(address)) { _ownFolder = ownFolder };
    }

    private string? _ownFolder;

    /// <summary>A new empty folder under the temp directory.</summary>
    public static string NewDataFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tt-test-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Stops the host as SIGTERM would (the stop may block its caller during the readiness grace period).</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownFolder is not null)
        {
            try
            {
                Directory.Delete(_ownFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The collector's project folder (for wwwroot/demo), found from the test's output folder.</summary>
    public static string CollectorContentRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "collector", "TouchpointTracker.Collector", "wwwroot");
            if (Directory.Exists(candidate))
            {
                return Path.Combine(dir.FullName, "collector", "TouchpointTracker.Collector");
            }
        }
        return AppContext.BaseDirectory;
    }
}
