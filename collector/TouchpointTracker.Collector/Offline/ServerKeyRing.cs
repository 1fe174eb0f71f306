using System.Security.Cryptography;
using System.Text;
using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Offline;

/// <summary>
/// The sites' server keys (<c>Collector:Sites:&lt;site&gt;:ServerKeys</c>, plus the embedded demo key). A presented
/// key is compared with every configured key, all of them, in constant time: SHA-256 of both sides, so the length
/// of a key is not revealed either, then <see cref="CryptographicOperations.FixedTimeEquals"/>. Keys are never logged.
/// </summary>
public sealed class ServerKeyRing
{
    private readonly (string Site, byte[] Hash)[] _keys;

    public ServerKeyRing(SiteRegistry sites)
    {
        var keys = new List<(string, byte[])>();
        foreach (var site in sites.Keys)
        {
            if (sites.TryGet(site, out var options))
            {
                // Trimmed as the presented key is: a key pasted with a trailing newline still works.
                keys.AddRange(options.ServerKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => (site, SHA256.HashData(Encoding.UTF8.GetBytes(k.Trim())))));
            }
        }
        _keys = [.. keys];
    }

    /// <summary>The site whose server key <paramref name="presented"/> is, or null for an unknown key.</summary>
    public string? SiteOf(string presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        string? found = null;
        foreach (var (site, key) in _keys)
        {
            // No early exit: every key is compared, whichever matches.
            if (CryptographicOperations.FixedTimeEquals(hash, key))
            {
                found ??= site;
            }
        }
        return found;
    }

    /// <summary>The key of an <c>Authorization: Bearer &lt;key&gt;</c> header, or null when there is none.</summary>
    public static string? BearerOf(string? authorization)
    {
        const string Scheme = "Bearer ";
        if (string.IsNullOrEmpty(authorization) || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var key = authorization[Scheme.Length..].Trim();
        return key.Length == 0 ? null : key;
    }
}
