using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace TouchpointTracker.Analytics.Dashboard;

/// <summary>
/// The analytics dashboard at <c>/dashboard</c>: a static front-end (HTML, CSS, ES modules and the vendored uPlot)
/// embedded in this assembly, which calls the JSON API of <see cref="AnalyticsApi.MapAnalyticsApi"/> from the browser
/// (same origin). Any host that maps the API maps this too: the collector's embedded mode, a distributed analytics host.
/// </summary>
public static class AnalyticsDashboard
{
    public const string DefaultPath = "/dashboard";

    /// <summary>
    /// Every dashboard response carries it: only the product's own files run (no inline script or style, no eval),
    /// the API is the only thing fetched, and no other site may frame the pages.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Maps the page at <paramref name="path"/> (and <c>path/</c>) and its files under <c>path/assets/{version}/</c>.</summary>
    public static RouteGroupBuilder MapAnalyticsDashboard(this IEndpointRouteBuilder app, string path = DefaultPath)
    {
        var assets = DashboardAssets.Load(path.TrimEnd('/'));
        var group = app.MapGroup(path.TrimEnd('/'));
        group.ExcludeFromDescription();
        group.MapMethods("", ["GET", "HEAD"], (HttpContext http) => GetPage(http, assets)).WithName("analytics-dashboard");
        group.MapMethods("/assets/{version}/{**file}", ["GET", "HEAD"], (string version, string file, HttpContext http) => GetAsset(version, file, http, assets))
            .WithName("analytics-dashboard-assets");
        return group;
    }

    /// <summary>The page: never cached without revalidation, so a new version's asset folder is picked up at once.</summary>
    public static FileContentHttpResult GetPage(HttpContext http, DashboardAssets assets)
    {
        SetSecurityHeaders(http.Response);
        http.Response.Headers.CacheControl = "no-cache";
        var page = assets.Page;
        return TypedResults.Bytes(page.Content, page.ContentType, entityTag: page.ETag);
    }

    /// <summary>
    /// An asset: immutable for a year under the current version; under another version (a page from before an upgrade)
    /// the current file, revalidated each time; 404 for a name that is not embedded.
    /// </summary>
    public static Results<FileContentHttpResult, NotFound> GetAsset(string version, string file, HttpContext http, DashboardAssets assets)
    {
        SetSecurityHeaders(http.Response);
        if (!assets.Files.TryGetValue(file, out var asset))
        {
            return TypedResults.NotFound();
        }
        http.Response.Headers.CacheControl = string.Equals(version, assets.Version, StringComparison.Ordinal)
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        return TypedResults.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }

    private static void SetSecurityHeaders(HttpResponse response)
    {
        var h = response.Headers;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        // The page's own URL may hold ?key= (a read key): no referrer leaves it.
        h["Referrer-Policy"] = "no-referrer";
    }
}

/// <summary>One embedded file ready to send.</summary>
public sealed record DashboardAsset(byte[] Content, string ContentType, EntityTagHeaderValue ETag);

/// <summary>The embedded front-end, read once: the page (with its asset folder filled in) and the files by name.</summary>
public sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private DashboardAssets(string version, DashboardAsset page, FrozenDictionary<string, DashboardAsset> files)
    {
        Version = version;
        Page = page;
        Files = files;
    }

    /// <summary>A hash of every file: the asset folder's name, so a new build is never served from a stale cache.</summary>
    public string Version { get; }
    public DashboardAsset Page { get; }
    public FrozenDictionary<string, DashboardAsset> Files { get; }

    public static DashboardAssets Load(string basePath)
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var raw = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                raw[name[Prefix.Length..]] = Read(assembly, name);
            }
        }
        if (!raw.TryGetValue("index.html", out var template))
        {
            throw new InvalidOperationException("The dashboard's index.html is not embedded in " + assembly.GetName().Name + ".");
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, content) in raw)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData(content);
        }
        var version = Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
        var html = Encoding.UTF8.GetString(template)
            .Replace("__ASSETS__", $"{basePath}/assets/{version}", StringComparison.Ordinal)
            .Replace("__BASE__", basePath, StringComparison.Ordinal);
        var files = raw.Where(f => f.Key != "index.html")
            .ToFrozenDictionary(f => f.Key, f => Asset(f.Value, ContentTypeOf(f.Key)), StringComparer.Ordinal);
        return new DashboardAssets(version, Asset(Encoding.UTF8.GetBytes(html), "text/html; charset=utf-8"), files);
    }

    internal static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json; charset=utf-8",
        _ => "text/plain; charset=utf-8", // LICENSE and other notes
    };

    private static DashboardAsset Asset(byte[] content, string contentType) =>
        new(content, contentType, new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\""));

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
