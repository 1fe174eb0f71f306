using System.IO.Compression;
using System.Security.Cryptography;

namespace TouchpointTracker.Collector.Serving;

/// <summary>One tag bundle, read once from the assembly, with its ETag and pre-compressed forms.</summary>
public sealed class TagAsset
{
    public TagAsset(string fileName, byte[] raw)
    {
        FileName = fileName;
        Raw = raw;
        Gzip = Compress(raw, s => new GZipStream(s, CompressionLevel.SmallestSize));
        Brotli = Compress(raw, s => new BrotliStream(s, CompressionLevel.SmallestSize));
        ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(raw))[..16] + "\"";
    }

    public string FileName { get; }
    public byte[] Raw { get; }
    public byte[] Gzip { get; }
    public byte[] Brotli { get; }
    public string ETag { get; }

    private static byte[] Compress(byte[] raw, Func<Stream, Stream> wrap)
    {
        using var ms = new MemoryStream();
        using (var z = wrap(ms))
        {
            z.Write(raw);
        }
        return ms.ToArray();
    }
}

/// <summary>
/// The tag bundles the build embedded from tag/dist: <c>tt.js</c> (the core) and its variants such as
/// <c>tt.full.js</c> (every optional feature).
/// </summary>
public sealed class TagAssets
{
    private const string Prefix = "tag/";
    private readonly Dictionary<string, TagAsset> _byVariant;

    public TagAssets(IEnumerable<TagAsset> assets)
    {
        _byVariant = assets.ToDictionary(a => VariantOf(a.FileName), StringComparer.Ordinal);
        if (!_byVariant.ContainsKey(""))
        {
            throw new InvalidOperationException("The core tag bundle (tt.js) is missing; build tag/ with npm (see README).");
        }
    }

    /// <summary>Variant names: "" for the core, "full" for tt.full.js.</summary>
    public IReadOnlyCollection<string> Variants => _byVariant.Keys;

    public TagAsset Get(string variant) => _byVariant[variant];

    public static TagAssets LoadEmbedded()
    {
        var assembly = typeof(TagAssets).Assembly;
        var assets = new List<TagAsset>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            assets.Add(new TagAsset(name[Prefix.Length..], ms.ToArray()));
        }
        return new TagAssets(assets);
    }

    /// <summary>"tt.js" → "", "tt.full.js" → "full".</summary>
    public static string VariantOf(string fileName)
    {
        var parts = fileName.Split('.');
        return parts.Length > 2 ? string.Join('.', parts[1..^1]) : "";
    }

    /// <summary>Where a variant is served, beside the core path: /tt.js → /tt.full.js.</summary>
    public static string PathFor(string corePath, string variant)
    {
        if (variant.Length == 0)
        {
            return corePath;
        }
        var dot = corePath.LastIndexOf('.');
        return dot > corePath.LastIndexOf('/') ? $"{corePath[..dot]}.{variant}{corePath[dot..]}" : $"{corePath}.{variant}";
    }
}

/// <summary>GET /tt.js (and its variants): the tag, cacheable by browsers and CDNs, revalidated by ETag.</summary>
public static class TagApi
{
    public static IEndpointRouteBuilder MapTagApi(this IEndpointRouteBuilder app, string corePath, TagAssets assets)
    {
        foreach (var variant in assets.Variants)
        {
            var asset = assets.Get(variant);
            app.MapGet(TagAssets.PathFor(corePath, variant), (HttpContext http) => ServeTag(http, asset));
        }
        return app;
    }

    public static IResult ServeTag(HttpContext http, TagAsset tag)
    {
        var headers = http.Response.Headers;
        headers.ETag = tag.ETag;
        headers.CacheControl = "public, max-age=3600, stale-while-revalidate=86400";
        headers.Vary = "Accept-Encoding";
        headers.XContentTypeOptions = "nosniff";
        headers.AccessControlAllowOrigin = "*";
        if (http.Request.Headers.IfNoneMatch.Contains(tag.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        var accept = http.Request.Headers.AcceptEncoding.ToString();
        var body = tag.Raw;
        if (accept.Contains("br", StringComparison.OrdinalIgnoreCase))
        {
            headers.ContentEncoding = "br";
            body = tag.Brotli;
        }
        else if (accept.Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            headers.ContentEncoding = "gzip";
            body = tag.Gzip;
        }
        return TypedResults.Bytes(body, "text/javascript; charset=utf-8");
    }
}
