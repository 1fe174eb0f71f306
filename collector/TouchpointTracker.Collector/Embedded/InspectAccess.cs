using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// Who may read the inspection API (staged touchpoints: identify traits, full URLs). With a key
/// (Collector:InspectApiKey) every request must present it; without one the API is open only while every
/// address the collector listens on is loopback. Until the start-up check has seen the addresses, it is closed.
/// </summary>
public sealed class InspectAccess(IOptions<CollectorOptions> options)
{
    public const string Header = "X-Api-Key";

    private readonly byte[]? _key = options.Value.InspectApiKey is { Length: > 0 } k ? Encoding.UTF8.GetBytes(k) : null;
    private volatile bool _loopbackOnly;

    public bool HasKey => _key is not null;

    /// <summary>Called once the server's addresses are known.</summary>
    public void ListeningOn(IEnumerable<string> addresses) => _loopbackOnly = addresses.All(IsLoopback);

    public bool Allows(HttpRequest request)
    {
        if (_key is null)
        {
            return _loopbackOnly;
        }
        var presented = request.Headers[Header].ToString();
        return presented.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _key);
    }

    /// <summary>True for an address only this host can reach (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
