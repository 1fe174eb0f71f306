using System.Text;
using System.Text.RegularExpressions;

namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// Applies uap-core rules: per list, the first matching regex wins; a <c>*_replacement</c> replaces the
/// value its position would take from the capture groups, with <c>$1</c>..<c>$9</c> substituted;
/// results are trimmed and empty ones dropped; no match gives family "Other". Thread-safe, no cache
/// (see <see cref="CachedUserAgentParser"/>), never throws on input.
/// </summary>
public sealed class UserAgentParser : IUserAgentParser
{
    private readonly UserAgentRegexes _regexes;
    private long _timeouts;

    /// <summary>Creates a parser over loaded rules.</summary>
    public UserAgentParser(UserAgentRegexes regexes) => _regexes = regexes;

    /// <summary>
    /// Loads <see cref="UserAgentParserOptions.RegexesPath"/> and returns a parser behind an LRU cache
    /// of <see cref="UserAgentParserOptions.CacheCapacity"/> entries. Throws at start-up on a bad file.
    /// </summary>
    public static IUserAgentParser Create(UserAgentParserOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.RegexesPath))
        {
            throw new ArgumentException("UserAgentParserOptions.RegexesPath is required.", nameof(options));
        }

        var parser = new UserAgentParser(UserAgentRegexes.LoadFile(options.RegexesPath, options));
        return options.CacheCapacity > 0 ? new CachedUserAgentParser(parser, options.CacheCapacity) : parser;
    }

    /// <summary>Regex matches abandoned after timing out twice (a metric; should stay 0).</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <inheritdoc />
    public UserAgentInfo Parse(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return UserAgentInfo.Unknown;
        }

        var ua = Bound(userAgent);
        var device = ParseDevice(ua);
        return new UserAgentInfo(ParseBrowser(ua), ParseOs(ua), device, BotDetector.IsBot(ua, device.Family));
    }

    /// <summary>The user agent (browser) part only.</summary>
    public VersionedName ParseBrowser(string userAgent) => ParseVersioned(_regexes.UserAgentRules, Bound(userAgent));

    /// <summary>The operating system part only.</summary>
    public VersionedName ParseOs(string userAgent) => ParseVersioned(_regexes.OsRules, Bound(userAgent));

    /// <summary>The device part only.</summary>
    public DeviceName ParseDevice(string userAgent)
    {
        var ua = Bound(userAgent);
        foreach (var rule in _regexes.DeviceRules)
        {
            var match = rule.MayMatch(ua) ? TryMatch(rule.Regex, ua) : null;
            if (match is null)
            {
                continue;
            }

            var family = Resolve(match, rule.Replacements[0], 1) ?? UserAgentInfo.OtherFamily;
            var brand = Resolve(match, rule.Replacements[1], 0);
            var model = Resolve(match, rule.Replacements[2], 1);
            return new DeviceName(family, brand, model);
        }

        return DeviceName.Other;
    }

    private VersionedName ParseVersioned(IReadOnlyList<UserAgentRegexes.Rule> rules, string ua)
    {
        foreach (var rule in rules)
        {
            var match = rule.MayMatch(ua) ? TryMatch(rule.Regex, ua) : null;
            if (match is null)
            {
                continue;
            }

            var r = rule.Replacements;
            return new VersionedName(
                Resolve(match, r[0], 1) ?? UserAgentInfo.OtherFamily,
                Resolve(match, r[1], 2),
                Resolve(match, r[2], 3),
                Resolve(match, r[3], 4),
                Resolve(match, r[4], 5));
        }

        return VersionedName.Other;
    }

    /// <summary>
    /// Matches with the rule's timeout. A compiled regex is JIT-compiled on its first match, inside the
    /// timed region, so on a busy machine a first match can time out spuriously: a timeout is retried
    /// once, and a second one counts as "no match".
    /// </summary>
    private Match? TryMatch(Regex regex, string input)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                var match = regex.Match(input);
                return match.Success ? match : null;
            }
            catch (RegexMatchTimeoutException)
            {
            }
        }

        Interlocked.Increment(ref _timeouts);
        return null;
    }

    /// <summary>
    /// The replacement with $n substituted, or capture group <paramref name="group"/> when there is no
    /// replacement (0 = none); trimmed, null when empty.
    /// </summary>
    private static string? Resolve(Match match, string? replacement, int group)
    {
        string? value;
        if (replacement is not null)
        {
            value = replacement.Contains('$', StringComparison.Ordinal) ? Substitute(match, replacement) : replacement;
        }
        else if (group > 0 && group < match.Groups.Count && match.Groups[group].Success)
        {
            value = match.Groups[group].Value;
        }
        else
        {
            return null;
        }

        var trimmed = value.AsSpan().Trim();
        return trimmed.IsEmpty ? null : trimmed.Length == value.Length ? value : new string(trimmed);
    }

    private static string Substitute(Match match, string replacement)
    {
        var sb = new StringBuilder(replacement.Length + 16);
        for (var i = 0; i < replacement.Length; i++)
        {
            var c = replacement[i];
            if (c == '$' && i + 1 < replacement.Length && replacement[i + 1] is >= '1' and <= '9')
            {
                var n = replacement[i + 1] - '0';
                if (n < match.Groups.Count && match.Groups[n].Success)
                {
                    sb.Append(match.Groups[n].ValueSpan);
                }

                i++;
                continue;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static string Bound(string userAgent) =>
        userAgent.Length > EnrichmentLimits.MaxUserAgentLength ? userAgent[..EnrichmentLimits.MaxUserAgentLength] : userAgent;
}
