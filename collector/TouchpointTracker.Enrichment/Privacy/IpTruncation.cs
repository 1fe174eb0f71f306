using System.Net;
using System.Net.Sockets;

namespace TouchpointTracker.Enrichment.Privacy;

/// <summary>
/// Truncates IP addresses for storage when the "keep truncated IP" setting is on: IPv4 to its /24
/// (last octet zeroed), IPv6 to its /48 (last 80 bits zeroed). IPv4-mapped IPv6 addresses are
/// treated as IPv4.
/// </summary>
public static class IpTruncation
{
    /// <summary>IPv4 prefix kept.</summary>
    public const int IPv4PrefixLength = 24;

    /// <summary>IPv6 prefix kept.</summary>
    public const int IPv6PrefixLength = 48;

    /// <summary>The truncated address, or null for null or a non-IP address family.</summary>
    public static IPAddress? Truncate(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                {
                    Span<byte> bytes = stackalloc byte[4];
                    address.TryWriteBytes(bytes, out _);
                    bytes[3] = 0;
                    return new IPAddress(bytes);
                }

            case AddressFamily.InterNetworkV6:
                {
                    Span<byte> bytes = stackalloc byte[16];
                    address.TryWriteBytes(bytes, out _);
                    bytes[(IPv6PrefixLength / 8)..].Clear();
                    return new IPAddress(bytes);
                }

            default:
                return null;
        }
    }

    /// <summary>The truncated address as text ("203.0.113.0", "2001:db8:85a3::"), or null.</summary>
    public static string? TruncateToString(IPAddress? address) => Truncate(address)?.ToString();
}
