using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>The collector's edge: the client IP behind trusted proxies only, and a per-IP rate limit on /collect.</summary>
public static class EdgeExtensions
{
    public static IServiceCollection AddCollectorEdge(this IServiceCollection services, IConfiguration configuration)
    {
        var edge = configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var network in SafeParse(edge))
            {
                o.KnownIPNetworks.Add(network);
            }
            // Walk back at most ForwardLimit hops, through trusted proxies only: a client's own X-Forwarded-For
            // entries (left of the proxies') are never taken as its address.
            o.ForwardLimit = edge.ForwardLimit;
        });
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(CollectApi.RateLimitPolicy, http =>
            {
                var current = http.RequestServices.GetRequiredService<IOptions<EdgeOptions>>().Value;
                var key = RateLimitKey(http.Connection.RemoteIpAddress);
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = current.RateLimitBurst,
                    TokensPerPeriod = Math.Max(1, current.RateLimitPerSecond),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var ingestor = http.RequestServices.GetRequiredService<BeaconIngestor>();
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                ingestor.Refuse(RejectReasons.RateLimited, "Too many requests from this address.", null, 0);
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                http.Response.Headers.AccessControlAllowOrigin = "*";
                http.Response.Headers.AccessControlExposeHeaders = "Retry-After";
                await TypedResults.Problem(
                    detail: $"Too many requests from this address; retry after {retry} s.",
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "rate limited",
                    type: "urn:touchpointtracker:problem:" + RejectReasons.RateLimited,
                    extensions: new Dictionary<string, object?> { ["reason"] = RejectReasons.RateLimited }).ExecuteAsync(http);
            };
        });
        return services;
    }

    public static WebApplication UseCollectorEdge(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>
    /// The rate-limit bucket of a client: its IPv4 address, or the /64 of its IPv6 address (one subscriber's
    /// network: a client holds a whole /64 and could otherwise rotate through it). No allocation for IPv4.
    /// </summary>
    public static IPAddress RateLimitKey(IPAddress? ip)
    {
        if (ip is null)
        {
            return IPAddress.None;
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4();
        }
        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return ip;
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <summary>Bad entries are reported by options validation at start-up; here they are skipped.</summary>
    private static IEnumerable<System.Net.IPNetwork> SafeParse(EdgeOptions edge)
    {
        foreach (var cidr in edge.TrustedProxies ?? [.. EdgeOptions.DefaultTrustedProxies])
        {
            if (System.Net.IPNetwork.TryParse(cidr, out var network))
            {
                yield return network;
            }
        }
    }
}
