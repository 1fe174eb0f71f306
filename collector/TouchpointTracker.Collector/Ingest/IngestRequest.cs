using System.Net;

namespace TouchpointTracker.Collector.Ingest;

/// <summary>What the collector knows of a request besides its body. The IP is used for geo and rate limiting only.</summary>
public readonly record struct IngestRequest(string? Origin, string? UserAgent, IPAddress? ClientIp, string? CookieVisitorId, bool Gpc = false);
