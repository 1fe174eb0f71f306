using System.Collections.Frozen;
using System.Text;
using TouchpointTracker.Enrichment.Campaigns;

namespace TouchpointTracker.Enrichment.Privacy;

/// <summary>
/// Removes personal data from the query strings of URLs before anything is derived from them or stored:
/// parameters with a configured name (email, token, password, phone...) and any value that holds an e-mail
/// address keep their name and get the value <see cref="Replacement"/>. In allow-list mode the site's own
/// page URLs keep only utm_* parameters, click ids and the configured names; referrers (other sites' URLs,
/// where search terms are read) get the redaction rules instead.
/// A URL without a query, or whose query needs no change, is returned as the same string: no allocation.
/// </summary>
public sealed class UrlRedactor
{
    /// <summary>What a redacted value becomes (plain ASCII: no encoding needed in a URL).</summary>
    public const string Replacement = "redacted";

    /// <summary>Parameter names redacted by default (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> DefaultParameters =
    [
        "email", "e-mail", "e_mail", "mail", "emailaddress", "email_address", "token", "access_token", "id_token", "refresh_token",
        "auth", "authorization", "password", "passwd", "pwd", "pass", "secret", "api_key", "apikey", "key", "phone", "tel", "mobile",
        "ssn", "session", "sessionid", "session_id", "code", "otp", "first_name", "last_name", "firstname", "lastname", "dob", "birthdate",
    ];

    /// <summary>Redacts e-mail addresses and <see cref="DefaultParameters"/>; keeps every other parameter.</summary>
    public static UrlRedactor Default { get; } = new(DefaultParameters, redactEmails: true, keepOnlyAllowed: false, [], ClickIdRegistry.Default);

    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _redacted;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _allowed;
    private readonly bool _emails;
    private readonly bool _keepOnlyAllowed;
    private readonly ClickIdRegistry _clickIds;

    /// <summary>A redactor of the given parameter names, e-mail addresses when asked, and in allow-list mode the given names besides utm_* and <paramref name="clickIds"/>.</summary>
    public UrlRedactor(IEnumerable<string> redactParameters, bool redactEmails, bool keepOnlyAllowed, IEnumerable<string> allowParameters, ClickIdRegistry clickIds)
    {
        _redacted = redactParameters.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _allowed = allowParameters.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _emails = redactEmails;
        _keepOnlyAllowed = keepOnlyAllowed;
        _clickIds = clickIds;
    }

    /// <summary>True in allow-list mode.</summary>
    public bool KeepsOnlyAllowed => _keepOnlyAllowed;

    /// <summary>The URL with its query redacted; <paramref name="ownPage"/>: a page of the site (allow-list mode applies).</summary>
    public string? Redact(string? url, bool ownPage)
    {
        if (url is null)
        {
            return null;
        }
        var q = url.IndexOf('?');
        if (q < 0)
        {
            return url;
        }
        var hash = url.IndexOf('#', q);
        var end = hash < 0 ? url.Length : hash;
        var query = url.AsSpan(q + 1, end - q - 1);
        var allowList = _keepOnlyAllowed && ownPage;
        if (!NeedsChange(query, allowList))
        {
            return url;
        }

        var sb = new StringBuilder(url.Length);
        sb.Append(url, 0, q);
        var kept = 0;
        foreach (var range in query.Split('&'))
        {
            var part = query[range];
            if (part.IsEmpty)
            {
                continue;
            }
            var eq = part.IndexOf('=');
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? [] : part[(eq + 1)..];
            if (allowList && !IsAllowed(name))
            {
                continue;
            }
            sb.Append(kept++ == 0 ? '?' : '&');
            if (_redacted.Contains(name) || (_emails && HoldsEmail(value)))
            {
                sb.Append(name).Append('=').Append(Replacement);
            }
            else
            {
                sb.Append(part);
            }
        }
        sb.Append(url, end, url.Length - end);
        return sb.ToString();
    }

    private bool NeedsChange(ReadOnlySpan<char> query, bool allowList)
    {
        foreach (var range in query.Split('&'))
        {
            var part = query[range];
            var eq = part.IndexOf('=');
            var name = eq < 0 ? part : part[..eq];
            if ((allowList && !part.IsEmpty && !IsAllowed(name)) ||
                (_redacted.Contains(name) && !part[(eq + 1)..].SequenceEqual(Replacement)) ||
                (_emails && eq >= 0 && HoldsEmail(part[(eq + 1)..])))
            {
                return true;
            }
        }
        return false;
    }

    private bool IsAllowed(ReadOnlySpan<char> name) =>
        name.StartsWith("utm_", StringComparison.OrdinalIgnoreCase) || _clickIds.TryGet(name, out _) || _allowed.Contains(name);

    /// <summary>
    /// An e-mail address somewhere in a (still percent-encoded) value: a non-empty local part, '@' or %40, and
    /// a domain with a dot. Only values holding '@' or '%' are looked at closely.
    /// </summary>
    internal static bool HoldsEmail(ReadOnlySpan<char> value)
    {
        while (!value.IsEmpty)
        {
            var at = value.IndexOfAny('@', '%');
            if (at < 0)
            {
                return false;
            }
            var width = value[at] == '@' ? 1 : value[at..].StartsWith("%40", StringComparison.Ordinal) ? 3 : 0;
            if (width > 0 && at > 0 && IsLocalChar(value[at - 1]))
            {
                var domain = value[(at + width)..];
                var stop = domain.IndexOfAny('&', '/', '#');
                if (stop >= 0)
                {
                    domain = domain[..stop];
                }
                var dot = domain.IndexOf('.');
                if (dot > 0 && dot < domain.Length - 1)
                {
                    return true;
                }
            }
            value = value[(at + 1)..];
        }
        return false;
    }

    private static bool IsLocalChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+';
}
