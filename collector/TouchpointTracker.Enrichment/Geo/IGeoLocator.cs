using System.Net;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Enrichment.Geo;

/// <summary>Looks up where an IP address is. Implementations are thread-safe and never throw on input.</summary>
public interface IGeoLocator
{
    /// <summary>Country/region/city of <paramref name="address"/>, or null when unknown.</summary>
    GeoInfo? Locate(IPAddress? address);
}
