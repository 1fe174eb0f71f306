using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>
/// A stand-in for a collector behind nginx: answers POST /collect with a chosen status, serves /tt.js with
/// the collector's caching headers, answers /healthz and /readyz, and records what reached it.
/// </summary>
public sealed class FakeCollector : IAsyncDisposable
{
    public const string TagETag = "\"0123456789abcdef\"";
    public const string TagCacheControl = "public, max-age=3600, stale-while-revalidate=86400";

    private readonly WebApplication _app;

    private FakeCollector(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Every request that reached this instance: "METHOD /path".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>X-Forwarded-For and X-Forwarded-Proto of each request.</summary>
    public ConcurrentQueue<(string? For, string? Proto)> Forwarded { get; } = new();

    public int Count(string methodAndPath) => Requests.Count(r => r == methodAndPath);

    public static async Task<FakeCollector> StartAsync(int collectStatus, int readyStatus = 200)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeCollector? self = null;
        app.Use(async (ctx, next) =>
        {
            self!.Requests.Enqueue($"{ctx.Request.Method} {ctx.Request.Path}");
            self.Forwarded.Enqueue((ctx.Request.Headers["X-Forwarded-For"].ToString(), ctx.Request.Headers["X-Forwarded-Proto"].ToString()));
            await next(ctx);
        });
        app.MapPost("/collect", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            await reader.ReadToEndAsync();
            ctx.Response.StatusCode = collectStatus;
            if (collectStatus == StatusCodes.Status503ServiceUnavailable)
            {
                ctx.Response.Headers.RetryAfter = "5";
            }
            await ctx.Response.WriteAsync(collectStatus == StatusCodes.Status202Accepted ? "{\"accepted\":1,\"rejected\":[]}" : "{}");
        });
        // The offline events API: answers with the number of body bytes it received (or the chosen 503).
        app.MapPost("/api/v1/offline-events", async (HttpContext ctx) =>
        {
            using var copy = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(copy);
            if (collectStatus == StatusCodes.Status503ServiceUnavailable)
            {
                ctx.Response.Headers.RetryAfter = "5";
                ctx.Response.StatusCode = collectStatus;
                return;
            }
            await ctx.Response.WriteAsJsonAsync(new { bytes = copy.Length });
        });
        app.MapGet("/tt.js", (HttpContext ctx) =>
        {
            ctx.Response.Headers.ETag = TagETag;
            ctx.Response.Headers.CacheControl = TagCacheControl;
            ctx.Response.Headers.Vary = "Accept-Encoding";
            if (ctx.Request.Headers.IfNoneMatch.ToString() == TagETag)
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            return Results.Text("(function(){})();", "text/javascript");
        });
        app.MapGet("/healthz", () => Results.Ok());
        app.MapGet("/readyz", () => Results.StatusCode(readyStatus));
        app.MapGet("/metrics", () => Results.Text("tt_secret 1\n"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self = new FakeCollector(app, new Uri(address).Port);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
