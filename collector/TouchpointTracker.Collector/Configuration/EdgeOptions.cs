using System.ComponentModel.DataAnnotations;

namespace TouchpointTracker.Collector.Configuration;

/// <summary>How the collector faces the internet (section <c>Edge</c>): proxies, rate limits, cookies.</summary>
public sealed class EdgeOptions : IValidatableObject
{
    public const string Section = "Edge";

    /// <summary>
    /// Networks whose X-Forwarded-For / X-Forwarded-Proto headers are believed (CIDR). Unset: loopback only.
    /// List the exact addresses of your load balancers or ingress pods: trusting whole private ranges lets any
    /// client behind a private hop (NAT, kube-proxy SNAT, same-VPC hosts) choose its IP.
    /// </summary>
    public List<string>? TrustedProxies { get; set; }

    /// <summary>
    /// Most X-Forwarded-For entries read, from the right: the number of proxies in front of the collector (nginx: 1;
    /// a CDN in front of it: 2). Entries further left are the client's own claims and are never believed.
    /// </summary>
    [Range(1, 10)] public int ForwardLimit { get; set; } = 1;

    /// <summary>Collect requests per second allowed per client IP (token bucket refill); 0 turns the limit off.</summary>
    [Range(0, 1_000_000)] public int RateLimitPerSecond { get; set; } = 20;

    /// <summary>Requests a client IP may send in a burst above the steady rate.</summary>
    [Range(1, 1_000_000)] public int RateLimitBurst { get; set; } = 200;

    /// <summary>Name of the visitor cookie the collector sets itself; empty: no cookie (the default).</summary>
    public string? VisitorCookieName { get; set; }

    /// <summary>Days the collector's visitor cookie lives (13 months by default).</summary>
    [Range(1, 800)] public int VisitorCookieDays { get; set; } = 395;

    /// <summary>Domain of the collector's visitor cookie (e.g. example.com when the collector is t.example.com); empty: the collector's host.</summary>
    public string? VisitorCookieDomain { get; set; }

    public static readonly string[] DefaultTrustedProxies = ["127.0.0.0/8", "::1/128"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var cidr in TrustedProxies ?? [])
        {
            if (!System.Net.IPNetwork.TryParse(cidr, out _))
            {
                yield return new ValidationResult($"{Section}:TrustedProxies: '{cidr}' is not a network in CIDR notation (such as 10.0.0.0/8)");
            }
        }
        if (VisitorCookieName is { Length: > 0 } name && !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            yield return new ValidationResult($"{Section}:VisitorCookieName must use letters, digits, '_' and '-' only (got '{name}')");
        }
    }
}
