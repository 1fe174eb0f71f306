namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// Which user ids may identify a person. A junk id (the blocklist: "", "null", "undefined", "0", "anonymous",
/// "guest", "distinct_id", "[object Object]"... trimmed, any case) is the classic way a site merges every visitor
/// into one person (a template that renders <c>tt('identify', user.id)</c> before the user is known). Such an id
/// identifies nobody; so does an id longer than 256 characters or holding control characters.
/// The blocklist is also known by the hashes of its entries' common spellings, so the processor, which only sees
/// hashed ids, can refuse them too.
/// </summary>
public sealed class UserIdPolicy
{
    public const int MaxLength = 256;
    private readonly HashSet<string> _junk;
    private readonly HashSet<string> _junkHashes;

    public UserIdPolicy(IEnumerable<string> blocklist)
    {
        _junk = new HashSet<string>(blocklist.Select(b => b.Trim()), StringComparer.OrdinalIgnoreCase);
        _junkHashes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var j in _junk)
        {
            _junkHashes.Add(IdentityHashing.UserId(j));
            _junkHashes.Add(IdentityHashing.UserId(j.ToLowerInvariant()));
            _junkHashes.Add(IdentityHashing.UserId(j.ToUpperInvariant()));
            if (j.Length > 0)
            {
                _junkHashes.Add(IdentityHashing.UserId(char.ToUpperInvariant(j[0]) + j[1..].ToLowerInvariant()));
            }
        }
    }

    public static readonly UserIdPolicy Default = new(IdentitySettings.DefaultBlocklist);

    /// <summary>True when <paramref name="userId"/> identifies nobody.</summary>
    public bool IsJunk(string? userId)
    {
        if (userId is null)
        {
            return true;
        }
        var trimmed = userId.Trim();
        return trimmed.Length == 0 || trimmed.Length > MaxLength || _junk.Contains(trimmed) || trimmed.Any(char.IsControl);
    }

    /// <summary>True when the hash is that of a blocklisted id as commonly spelt (lower, upper or capitalised).</summary>
    public bool IsJunkHash(string? userIdSha256) => userIdSha256 is null || !IdentityHashing.IsSha256Hex(userIdSha256) || _junkHashes.Contains(userIdSha256);

    /// <summary>The hash of a usable user id, or null for a junk one.</summary>
    public string? Hash(string? userId) => IsJunk(userId) ? null : IdentityHashing.UserId(userId!);
}
