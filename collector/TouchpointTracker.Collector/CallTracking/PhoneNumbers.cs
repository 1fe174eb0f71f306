using System.Collections.Frozen;
using System.Text;

namespace TouchpointTracker.Collector.CallTracking;

/// <summary>
/// Phone numbers as call tracking needs them: E.164 (<c>+33123456789</c>) from the formats people and call
/// platforms write (spaces, dots, dashes, slashes, parentheses, <c>+33</c> or <c>0033</c>, <c>+44 (0)20 ...</c>,
/// national <c>01 23 45 67 89</c> given the country), the country calling code of a number, and a national
/// display. Pure and allocation-light; no input makes it throw.
/// </summary>
public static class PhoneNumbers
{
    /// <summary>E.164: at most 15 digits after the +.</summary>
    public const int MaxDigits = 15;

    /// <summary>Shortest number taken (country code included): shorter strings are codes or extensions, not numbers.</summary>
    public const int MinDigits = 7;

    /// <summary>Longest text looked at: a phone number written with every separator fits easily.</summary>
    public const int MaxTextLength = 40;

    /// <summary>The ITU country calling codes of one and two digits; every other code has three (ITU-T E.164 assignment list).</summary>
    private static readonly FrozenSet<string> ShortCodes = new[]
    {
        "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86",
        "90", "91", "92", "93", "94", "95", "98",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// National (trunk) prefixes that differ from the usual <c>0</c>: none where the national number is dialled as
    /// is (North America, Italy, Spain, Greece, the Nordics but Finland and Sweden, Portugal, Luxembourg...), 8 in
    /// Russia and Kazakhstan, 06 in Hungary.
    /// </summary>
    private static readonly FrozenDictionary<string, string> Trunks = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["1"] = "", ["7"] = "8", ["36"] = "06", ["30"] = "", ["34"] = "", ["39"] = "", ["45"] = "", ["47"] = "", ["299"] = "",
        ["351"] = "", ["352"] = "", ["356"] = "", ["376"] = "", ["377"] = "", ["378"] = "", ["423"] = "", ["298"] = "",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The country calling code an E.164 number starts with (<c>+33...</c> → <c>33</c>); null when it is not E.164.</summary>
    public static string? CountryCodeOf(string? e164)
    {
        if (!IsE164(e164))
        {
            return null;
        }
        var digits = e164.AsSpan(1);
        for (var length = 1; length <= 2; length++)
        {
            if (ShortCodes.Contains(digits[..length].ToString()))
            {
                return digits[..length].ToString();
            }
        }
        return digits[..3].ToString();
    }

    /// <summary>The national (trunk) prefix of a country calling code: <c>0</c> unless listed otherwise.</summary>
    public static string TrunkOf(string countryCode) => Trunks.GetValueOrDefault(countryCode, "0");

    /// <summary><c>+</c> then 7 to 15 digits, the first not 0.</summary>
    public static bool IsE164([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? s)
    {
        if (s is null || s.Length < MinDigits + 1 || s.Length > MaxDigits + 1 || s[0] != '+' || s[1] == '0')
        {
            return false;
        }
        for (var i = 1; i < s.Length; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// E.164 of <paramref name="text"/>, or null when it is not a phone number. International forms (<c>+</c>,
    /// <c>00</c>, and <c>011</c> for North America) need nothing else; a national form needs
    /// <paramref name="countryCode"/> (the published number's): its trunk prefix is dropped (<c>01 23 45 67 89</c>
    /// with 33 → <c>+33123456789</c>), and where there is no trunk prefix (North America, Italy...) the number is
    /// taken as dialled (<c>(555) 010-0199</c> with 1 → <c>+15550100199</c>). Separators: spaces (also
    /// non-breaking), <c>.</c>, <c>-</c>, <c>/</c>, parentheses, and a <c>tel:</c> scheme in front; <c>(0)</c>
    /// after an international code (<c>+44 (0)20 ...</c>) is the trunk prefix written for national readers and is
    /// dropped.
    /// </summary>
    public static string? Normalize(string? text, string? countryCode = null)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxTextLength + 4)
        {
            return null;
        }
        var s = text.AsSpan().Trim();
        if (s.StartsWith("tel:", StringComparison.OrdinalIgnoreCase))
        {
            s = s[4..].TrimStart();
        }
        if (s.Length > MaxTextLength)
        {
            return null;
        }
        var plus = false;
        var digits = new StringBuilder(16);
        var trunkInParentheses = -1; // where "(0)" was, as a count of digits before it
        var depth = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (c == '+')
            {
                if (plus || digits.Length > 0 || depth > 0)
                {
                    return null;
                }
                plus = true;
            }
            else if (c == '(')
            {
                if (depth > 0)
                {
                    return null;
                }
                depth++;
                if (i + 2 < s.Length && s[i + 1] == '0' && s[i + 2] == ')')
                {
                    trunkInParentheses = digits.Length;
                }
            }
            else if (c == ')')
            {
                if (depth == 0)
                {
                    return null;
                }
                depth--;
            }
            else if (c is not (' ' or '\u00a0' or '\u202f' or '.' or '-' or '/' or '\u2010' or '\u2011' or '\u2013'))
            {
                return null;
            }
            if (digits.Length > MaxDigits + 4)
            {
                return null;
            }
        }
        if (depth != 0)
        {
            return null;
        }

        var all = digits.ToString();
        string? international = null;
        var skipped = 0; // digits of the international prefix left out
        if (plus)
        {
            international = all;
        }
        else if (all.StartsWith("00", StringComparison.Ordinal))
        {
            international = all[2..];
            skipped = 2;
        }
        else if (countryCode == "1" && all.StartsWith("011", StringComparison.Ordinal))
        {
            international = all[3..];
            skipped = 3;
        }

        if (international is not null)
        {
            if (trunkInParentheses >= 0)
            {
                // "+44 (0)20 7946 0958": the (0) must follow the country code itself.
                var at = trunkInParentheses - skipped;
                var code = international.Length > 0 && international[0] != '0'
                    ? CountryCodeOf("+" + international[..Math.Min(3, international.Length)].PadRight(MinDigits, '1'))
                    : null;
                if (code is null || at != code.Length)
                {
                    return null;
                }
                international = international.Remove(at, 1);
            }
            var e164 = "+" + international;
            return IsE164(e164) && NationalLength(e164) >= 4 ? e164 : null;
        }

        if (trunkInParentheses >= 0 || countryCode is null || !IsE164("+" + countryCode + "0000000") || CountryCodeOf("+" + countryCode + "0000000") != countryCode)
        {
            return null;
        }
        var trunk = TrunkOf(countryCode);
        string national;
        if (countryCode == "1")
        {
            // North America: ten digits, or eleven with the leading 1 (1-555-010-0199).
            national = all.Length == 11 && all[0] == '1' ? all[1..] : all;
            if (national.Length != 10)
            {
                return null;
            }
        }
        else if (trunk.Length > 0)
        {
            if (!all.StartsWith(trunk, StringComparison.Ordinal))
            {
                return null;
            }
            national = all[trunk.Length..];
        }
        else
        {
            national = all;
        }
        var result = "+" + countryCode + national;
        return IsE164(result) && national.Length >= 4 ? result : null;
    }

    /// <summary>Digits after the country code.</summary>
    private static int NationalLength(string e164) => e164.Length - 1 - (CountryCodeOf(e164)?.Length ?? 0);

    /// <summary>
    /// The number written for national readers: the trunk prefix, then the national digits grouped like
    /// <paramref name="pattern"/> (the published number as configured, e.g. <c>+33 1 23 45 67 89</c> gives
    /// <c>01 23 45 67 89</c>); North American numbers as <c>(555) 010-0199</c>. Without a usable pattern the
    /// digits are grouped in twos after the first group of one to three.
    /// </summary>
    public static string Display(string e164, string? pattern = null)
    {
        var code = CountryCodeOf(e164);
        if (code is null)
        {
            return e164;
        }
        var national = e164[(1 + code.Length)..];
        if (code == "1" && national.Length == 10)
        {
            return $"({national[..3]}) {national[3..6]}-{national[6..]}";
        }
        var trunk = TrunkOf(code);
        var groups = GroupsOf(pattern, code);
        if (groups is null || groups.Sum() != national.Length)
        {
            var first = national.Length % 2 == 0 ? 2 : 1;
            groups = [first, .. Enumerable.Repeat(2, (national.Length - first) / 2)];
        }
        var sb = new StringBuilder(national.Length + groups.Count + trunk.Length);
        var at = 0;
        foreach (var g in groups)
        {
            if (at > 0)
            {
                sb.Append(' ');
            }
            else
            {
                sb.Append(trunk);
            }
            sb.Append(national, at, g);
            at += g;
        }
        return sb.ToString();
    }

    /// <summary>The lengths of the digit groups after the country code in an international pattern such as <c>+33 1 23 45 67 89</c>.</summary>
    private static List<int>? GroupsOf(string? pattern, string code)
    {
        if (pattern is null || Normalize(pattern) is null)
        {
            return null;
        }
        var groups = new List<int>();
        var current = 0;
        var skip = code.Length;
        var afterPlus = pattern.TrimStart().StartsWith("00", StringComparison.Ordinal) ? 2 : 0;
        var zeroInParentheses = pattern.Contains("(0)", StringComparison.Ordinal);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (char.IsAsciiDigit(c))
            {
                if (afterPlus > 0)
                {
                    afterPlus--;
                    continue;
                }
                if (skip > 0)
                {
                    skip--;
                    continue;
                }
                if (zeroInParentheses && c == '0' && i > 0 && pattern[i - 1] == '(' && i + 1 < pattern.Length && pattern[i + 1] == ')')
                {
                    continue;
                }
                current++;
            }
            else if (current > 0)
            {
                groups.Add(current);
                current = 0;
            }
        }
        if (current > 0)
        {
            groups.Add(current);
        }
        return groups.Count > 0 ? groups : null;
    }
}
