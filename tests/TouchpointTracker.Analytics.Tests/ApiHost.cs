using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The analytics API over Kestrel on a free port, as a host maps it: a store file in a temporary folder, the given
/// settings and a fixed clock; <see cref="Http"/> talks to it.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    private readonly TempDir _dir;

    private ApiHost(TempDir dir, WebApplication app, HttpClient http)
    {
        _dir = dir;
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public static async Task<ApiHost> StartAsync(string storeFile, DateTimeOffset now, IDictionary<string, string?> settings, bool withDocs = true)
    {
        var dir = new TempDir();
        var port = FreePort.Next();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Analytics:Path"] = dir.File(storeFile) });
        builder.Services.AddSingleton<TimeProvider>(new FixedTime(now));
        builder.Services.AddTouchpointAnalytics(builder.Configuration);
        var app = builder.Build();
        app.MapAnalyticsApi();
        if (withDocs)
        {
            app.MapAnalyticsApiDocs();
        }
        await app.StartAsync();
        return new ApiHost(dir, app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _dir.Dispose();
    }
}
