using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Offline;

/// <summary>The verdict on one offline event: an enriched touchpoint, or a stable reason and a detail for people.</summary>
public readonly record struct OfflineVerdict(Touchpoint? Touchpoint, string? EventId, string? Reason, string? Detail);

/// <summary>
/// Checks one offline event and turns it into an enriched touchpoint (type <c>offline</c>, name the offline type,
/// at <c>occurred_at</c>). E-mail and phone are hashed here and nowhere kept in clear; so are the other identifiers
/// but <c>visitor_id</c>. Pure: no I/O, and no input makes it throw.
/// </summary>
public sealed partial class OfflineEventValidator(OfflineOptions options, TouchpointTracker.Journeys.Identity.UserIdPolicy? userIds = null)
{
    public const string TouchpointType = "offline";
    public const string DefaultChannel = "Offline";

    /// <summary>The documented types; a custom type follows the same pattern.</summary>
    public static readonly IReadOnlySet<string> KnownTypes = new HashSet<string>(StringComparer.Ordinal)
        { "call", "chat", "meeting", "form", "email_reply", "crm_stage", "revenue", "refund" };

    /// <summary>Identifiers other than <c>visitor_id</c>, kept as <c>&lt;name&gt;_sha256</c>.</summary>
    private static readonly string[] HashedIds = ["user_id", "lead_id", "gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid"];

    private const int MaxTextLength = 128;
    private const double MaxValue = 1e12;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex("^[A-Z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex Currency();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    private static readonly SearchValues<char> TrackingNumberChars = SearchValues.Create("0123456789+-() .");

    public OfflineVerdict Validate(OfflineRow row, string site, DateTimeOffset now)
    {
        var f = row.Fields;
        var id = f.GetValueOrDefault("event_id");
        var echoedId = BeaconReader.IsValidId(id) ? id : null;
        OfflineVerdict Reject(string reason, string detail) => new(null, echoedId, reason, detail);

        if (row.Unreadable is { } unreadable)
        {
            return Reject(OfflineReasons.InvalidEvent, unreadable);
        }
        if (echoedId is null)
        {
            return Reject(OfflineReasons.InvalidEventId, "\"event_id\" must be 1 to 128 printable characters without spaces.");
        }
        var type = f.GetValueOrDefault("type");
        if (type is null || !TypePattern().IsMatch(type))
        {
            return Reject(OfflineReasons.InvalidEventType, "\"type\" must be call, chat, meeting, form, email_reply, crm_stage, revenue, refund or a custom name matching ^[a-z][a-z0-9_]{0,63}$.");
        }
        if (f.GetValueOrDefault("occurred_at") is not { } occurredText || !Rfc3339().IsMatch(occurredText) ||
            !DateTimeOffset.TryParse(occurredText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var occurred))
        {
            return Reject(OfflineReasons.InvalidTimestamp, "\"occurred_at\" must be an RFC 3339 time with an offset, e.g. 2026-03-01T14:05:00Z.");
        }
        if (occurred < now.AddDays(-options.MaxAgeDays))
        {
            return Reject(OfflineReasons.TooOld, $"\"occurred_at\" is more than {options.MaxAgeDays} days in the past.");
        }
        if (occurred > now.AddMinutes(options.MaxFutureMinutes))
        {
            return Reject(OfflineReasons.InFuture, $"\"occurred_at\" is more than {options.MaxFutureMinutes} minutes in the future.");
        }

        var props = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(props))
        {
            w.WriteStartObject();
            if (Identity(f, w, out var strongest) is { } identityError)
            {
                return Reject(OfflineReasons.InvalidIdentity, identityError);
            }
            var visitor = f.GetValueOrDefault("visitor_id");
            if (visitor is null)
            {
                if (strongest is null && row.KeepWithoutIdentity && f.GetValueOrDefault("tracking_number") is { } tracked)
                {
                    // A call to a tracking number nobody held: unmatched, keyed by the number it was made to.
                    strongest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("tracking_number:" + tracked)));
                }
                if (strongest is null)
                {
                    return Reject(OfflineReasons.MissingIdentity, "Send \"visitor_id\" or an identifier: user_id, email, email_sha256, phone, lead_id or a click id (gclid, msclkid, fbclid...).");
                }
                // Matched to a person or visitor by the processor; until then keyed by its strongest identifier (a placeholder no tag sends).
                visitor = TouchpointTracker.Journeys.Identity.IdentityStager.PlaceholderPrefix + strongest[..32];
            }
            if (!BeaconReader.IsValidId(visitor))
            {
                return Reject(OfflineReasons.InvalidVisitor, "\"visitor_id\" must be 1 to 128 printable characters without spaces.");
            }
            if (TypeFields(f, w) is { } bad)
            {
                return Reject(bad.Reason, bad.Detail);
            }
            w.WriteEndObject();
            w.Flush();

            var source = f.GetValueOrDefault("source");
            var touchpoint = new Touchpoint
            {
                EventId = echoedId,
                SiteId = site,
                VisitorId = visitor,
                Type = TouchpointType,
                Name = type,
                ClientTs = occurred.ToUniversalTime(),
                DerivedTs = occurred.ToUniversalTime(),
                ReceivedTs = now,
                Channel = string.IsNullOrEmpty(source) ? DefaultChannel : source,
                Props = PropsOf(props.WrittenMemory),
            };
            return new OfflineVerdict(touchpoint, echoedId, null, null);
        }
    }

    /// <summary>Writes the hashed identifiers; an error text when one is malformed.</summary>
    private string? Identity(Dictionary<string, string> f, Utf8JsonWriter w, out string? strongest)
    {
        strongest = null;
        if (f.GetValueOrDefault("email_sha256") is { } given)
        {
            var lower = given.Trim().ToLowerInvariant();
            if (!Sha256Hex().IsMatch(lower))
            {
                return "\"email_sha256\" must be 64 hex digits.";
            }
            w.WriteString("email_sha256", lower);
            strongest ??= lower;
        }
        else if (f.GetValueOrDefault("email") is { } email)
        {
            var normalized = email.Trim().ToLowerInvariant();
            var at = normalized.IndexOf('@', StringComparison.Ordinal);
            if (normalized.Length > 254 || at <= 0 || at == normalized.Length - 1 || normalized.Any(char.IsWhiteSpace))
            {
                return "\"email\" must be an e-mail address.";
            }
            w.WriteString("email_sha256", Sha256(normalized));
            strongest ??= Sha256(normalized);
        }
        if (f.GetValueOrDefault("phone") is { } phone)
        {
            var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
            if (digits.Length is < 6 or > 15 || phone.Any(c => !(char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')' or '.')))
            {
                return "\"phone\" must be a phone number of 6 to 15 digits (E.164 preferred: +33123456789).";
            }
            var phoneHash = Sha256((phone.TrimStart().StartsWith('+') ? "+" : "") + digits);
            w.WriteString("phone_sha256", phoneHash);
            strongest ??= phoneHash;
        }
        foreach (var name in HashedIds)
        {
            if (f.GetValueOrDefault(name) is { } value)
            {
                if (name == "user_id" && (userIds ?? TouchpointTracker.Journeys.Identity.UserIdPolicy.Default).IsJunk(value))
                {
                    continue; // a placeholder ("null", "anonymous"...) identifies nobody: as if absent
                }
                if (!BeaconReader.IsValidId(value.Trim()))
                {
                    return $"\"{name}\" must be 1 to 128 printable characters without spaces.";
                }
                var hash = Sha256(value.Trim());
                w.WriteString(name + "_sha256", hash);
                strongest = name == "user_id" ? hash : strongest ?? hash;
            }
        }
        return null;
    }

    /// <summary>Writes the type fields; the reason and detail when one is malformed.</summary>
    private static (string Reason, string Detail)? TypeFields(Dictionary<string, string> f, Utf8JsonWriter w)
    {
        if (f.GetValueOrDefault("tracking_number") is { } tracking)
        {
            if (tracking.Length is 0 or > 32 || tracking.AsSpan().ContainsAnyExcept(TrackingNumberChars))
            {
                return (OfflineReasons.InvalidField, "\"tracking_number\" must be a phone number of at most 32 characters.");
            }
            w.WriteString("tracking_number", tracking);
        }
        if (f.GetValueOrDefault("duration_s") is { } duration)
        {
            if (!long.TryParse(duration, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 7 * 86_400)
            {
                return (OfflineReasons.InvalidField, "\"duration_s\" must be a whole number of seconds, 0 to 604800.");
            }
            w.WriteNumber("duration_s", seconds);
        }
        if (f.GetValueOrDefault("answered") is { } answered)
        {
            bool? yes = answered.Trim().ToLowerInvariant() switch { "true" or "1" or "yes" => true, "false" or "0" or "no" => false, _ => null };
            if (yes is null)
            {
                return (OfflineReasons.InvalidField, "\"answered\" must be true or false.");
            }
            w.WriteBoolean("answered", yes.Value);
        }
        foreach (var name in (string[])["source", "stage", "order_id", "deal_id"])
        {
            if (f.GetValueOrDefault(name) is { } text)
            {
                if (text.Length is 0 or > MaxTextLength || text.Any(char.IsControl) || text.Any(char.IsSurrogate))
                {
                    return (OfflineReasons.InvalidField, $"\"{name}\" must be 1 to {MaxTextLength} characters, no control characters.");
                }
                w.WriteString(name, text);
            }
        }
        if (f.GetValueOrDefault("value") is { } valueText)
        {
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || Math.Abs(value) > MaxValue)
            {
                return (OfflineReasons.InvalidField, "\"value\" must be a number (a dot for decimals), at most 1e12.");
            }
            w.WriteNumber("value", value);
        }
        if (f.GetValueOrDefault("currency") is { } currency)
        {
            var upper = currency.Trim().ToUpperInvariant();
            if (!Currency().IsMatch(upper))
            {
                return (OfflineReasons.InvalidCurrency, "\"currency\" must be an ISO 4217 code of three letters, e.g. EUR.");
            }
            w.WriteString("currency", upper);
        }
        return null;
    }

    private static Dictionary<string, JsonElement> PropsOf(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json);
        var props = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            props[p.Name] = p.Value.Clone();
        }
        return props;
    }

    internal static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
