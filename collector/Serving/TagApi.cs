using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace TouchpointTracker.Collector.Serving;

/// <summary>The tag bundle, read once from the assembly, with its ETag and pre-compressed forms.</summary>
public sealed class TagAsset
{
    public TagAsset(byte[] raw)
    {
        Raw = raw;
        Gzip = Compress(raw, s => new GZipStream(s, CompressionLevel.SmallestSize));
        Brotli = Compress(raw, s => new BrotliStream(s, CompressionLevel.SmallestSize));
        ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(raw))[..16] + "\"";
    }

    public byte[] Raw { get; }
    public byte[] Gzip { get; }
    public byte[] Brotli { get; }
    public string ETag { get; }

    /// <summary>Loads the bundle the build embedded (tag/dist/tt.js).</summary>
    public static TagAsset LoadEmbedded()
    {
        using var stream = typeof(TagAsset).Assembly.GetManifestResourceStream("tag/tt.js")
            ?? throw new InvalidOperationException("The tag bundle is missing from the collector assembly; build tag/ with npm (see README).");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return new TagAsset(ms.ToArray());
    }

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

/// <summary>GET /tt.js: the tag, cacheable by browsers and CDNs, revalidated by ETag.</summary>
public static class TagApi
{
    public static RouteGroupBuilder MapTagApi(this IEndpointRouteBuilder app, string path)
    {
        var group = app.MapGroup(path);
        group.MapGet("", ServeTag);
        return group;
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
        byte[] body = tag.Raw;
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
