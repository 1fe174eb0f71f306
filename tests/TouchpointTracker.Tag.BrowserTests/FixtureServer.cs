using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>
/// The customer's web site: a tiny static server on its own free 127.0.0.1 port (so its own origin, not
/// the collector's) serving the pages of Fixtures/. Every text file is a template: <c>{{COLLECTOR}}</c>
/// becomes the collector's origin (where the page loads the tag from), <c>{{NONCE}}</c> a fresh
/// script nonce and <c>{{VARIANT}}</c> the page's <c>variant</c> query parameter (checked). Pages under
/// <c>/csp/</c> are served with a strict Content-Security-Policy that allows scripts only from the
/// collector's origin (plus the page's own nonce-tagged inline scripts) and connections only to the collector.
/// Pages are sent with <c>Cache-Control: no-store</c>, except those under <c>/bfcache/</c> (<c>no-cache</c>),
/// which the back/forward cache may keep, and scripts under <c>/bench/</c> (cached for an hour, as the
/// collector serves the tag). Any method is answered (a form may POST to a page).
/// </summary>
public sealed class FixtureServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FixtureServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Absolute URL of a fixture page, e.g. <c>Url("/landing.html?utm_source=x")</c>.</summary>
    public string Url(string pathAndQuery) => new Uri(BaseAddress, pathAndQuery).ToString();

    public static string FixturesRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string CspFor(string collectorOrigin, string nonce) =>
        $"default-src 'none'; script-src 'nonce-{nonce}' {collectorOrigin}; connect-src {collectorOrigin}; " +
        "img-src data:; style-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static async Task<FixtureServer> StartAsync(Uri collector)
    {
        var collectorOrigin = collector.GetLeftPart(UriPartial.Authority);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(http => ServeAsync(http, collectorOrigin));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FixtureServer(app, new Uri(address));
    }

    private static async Task ServeAsync(HttpContext http, string collectorOrigin)
    {
        var path = http.Request.Path.Value ?? "/";
        var relative = path.TrimStart('/');
        var file = Path.GetFullPath(Path.Combine(FixturesRoot, relative));
        if (relative.Length == 0 || !file.StartsWith(FixturesRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(file))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var text = (await File.ReadAllTextAsync(file, http.RequestAborted))
            .Replace("{{COLLECTOR}}", collectorOrigin, StringComparison.Ordinal)
            .Replace("{{NONCE}}", nonce, StringComparison.Ordinal)
            .Replace("{{VARIANT}}", Variant(http.Request.Query["variant"]), StringComparison.Ordinal);
        var headers = http.Response.Headers;
        // Pages under /bfcache/ may be kept in the back/forward cache: Chromium keeps a no-store page there
        // only while no cookie changes, and the tag of the next page renews its visitor cookie.
        var isHtml = file.EndsWith(".html", StringComparison.Ordinal);
        headers.CacheControl = path.StartsWith("/bfcache/", StringComparison.Ordinal) ? "no-cache"
            // A tag build under /bench/ is cached as the collector caches its own (the benchmark's later visits).
            : !isHtml && path.StartsWith("/bench/", StringComparison.Ordinal) ? "public, max-age=3600"
            : "no-store";
        if (isHtml && path.StartsWith("/csp/", StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy = CspFor(collectorOrigin, nonce);
        }
        http.Response.ContentType = isHtml ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
        await http.Response.WriteAsync(text, http.RequestAborted);
    }

    /// <summary>
    /// The <c>variant</c> query parameter of a page (the benchmark's <c>/bench/variant.html?variant=NAME</c> loads
    /// <c>/bench/NAME.js</c>): letters, digits, dots, dashes and underscores only, anything else gives "none".
    /// </summary>
    private static string Variant(string? v) =>
        v is { Length: > 0 and <= 64 } && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') ? v : "none";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
