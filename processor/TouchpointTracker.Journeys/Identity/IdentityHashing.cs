using System.Security.Cryptography;
using System.Text;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// How identifiers are kept: only as SHA-256 (64 lower-case hex digits) of a normalised value, so an e-mail
/// address, a phone number or a user id is never stored, forwarded or logged in clear. The collector applies
/// these on arrival (identify beacons and offline events); the processor only ever sees the hashes.
/// </summary>
public static class IdentityHashing
{
    public static string Sha256Hex(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>A user id: the SHA-256 of the trimmed value (user ids are case-sensitive).</summary>
    public static string UserId(string userId) => Sha256Hex(userId.Trim());

    /// <summary>An e-mail address: lower-cased and trimmed; null when it does not look like an address.</summary>
    public static string? Email(string email)
    {
        var normalized = email.Trim().ToLowerInvariant();
        var at = normalized.IndexOf('@');
        if (at <= 0 || at != normalized.LastIndexOf('@') || at == normalized.Length - 1 || normalized.Length > 254 ||
            normalized.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return null;
        }
        return Sha256Hex(normalized);
    }

    /// <summary>
    /// A phone number as E.164: the digits, with the leading <c>+</c> when given (send <c>+33612345678</c>);
    /// spaces, <c>-</c>, <c>.</c> and parentheses are ignored. Null unless 6 to 15 digits.
    /// </summary>
    public static string? Phone(string phone)
    {
        var trimmed = phone.Trim();
        var digits = new StringBuilder(16);
        foreach (var c in trimmed)
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (!(c is ' ' or '-' or '(' or ')' or '.' || c == '+' && digits.Length == 0))
            {
                return null;
            }
        }
        if (digits.Length is < 6 or > 15)
        {
            return null;
        }
        return Sha256Hex((trimmed.StartsWith('+') ? "+" : "") + digits);
    }

    /// <summary>A click id (gclid, msclkid, fbclid...): the SHA-256 of the trimmed value, as the offline API keeps it.</summary>
    public static string ClickId(string clickId) => Sha256Hex(clickId.Trim());

    /// <summary>True for 64 hex digits (any case).</summary>
    public static bool IsSha256Hex(string? s) => s is { Length: 64 } && s.All(char.IsAsciiHexDigit);
}
