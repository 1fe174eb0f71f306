using System.Text;

namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// Finds literals of which every match of a regex must contain at least one, so that a rule can be
/// skipped with one vectorised substring search instead of a regex scan (a user agent matches at most
/// one rule per list, and most of the ~1,100 uap-core rules not at all). Conservative by design: only
/// literal characters that the pattern requires count (top-level concatenation, groups that occur at
/// least once, and every branch of an alternation); anything not fully understood ends the current
/// literal or gives no filter at all. A missed literal costs speed, never a match.
/// </summary>
internal static class RequiredLiteral
{
    /// <summary>Shortest literal worth a pre-check.</summary>
    public const int MinLength = 3;

    /// <summary>Largest any-of set kept (uap-core's crawler lists have ~200 names).</summary>
    public const int MaxAlternatives = 512;

    // Everyday browser user agents, used only to rank candidate literals by selectivity.
    private static readonly string[] CommonAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 9; SM-J530F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    ];

    /// <summary>The longest literal every match contains, or null (convenience over <see cref="ExtractAnyOf"/>).</summary>
    public static string? Extract(string pattern, bool ignoreCase) =>
        ExtractAnyOf(pattern, ignoreCase) is { Literals: [var single] } ? single : null;

    /// <summary>
    /// Literals of which every match contains at least one (a single literal when the pattern has one
    /// long enough), or null when none can be proven.
    /// </summary>
    /// <param name="pattern">.NET regex pattern (uap-core dialect).</param>
    /// <param name="ignoreCase">True when the regex is case-insensitive.</param>
    public static LiteralFilter? ExtractAnyOf(string pattern, bool ignoreCase)
    {
        if (pattern.Contains("(?", StringComparison.Ordinal) && HasInlineOptions(pattern))
        {
            ignoreCase = true; // (?i) and friends may switch case-insensitivity on for part of the pattern
        }

        return AnyOf(pattern, 0, pattern.Length, ignoreCase);
    }

    /// <summary>Literal set for p[start..end): per branch of a top-level alternation, or of the sequence.</summary>
    private static LiteralFilter? AnyOf(string p, int start, int end, bool ignoreCase)
    {
        var branches = SplitTopLevel(p, start, end);
        if (branches is null)
        {
            return null;
        }

        if (branches.Count == 1)
        {
            var state = new SequenceState(ignoreCase);
            if (!Scan(p, start, end, state))
            {
                return null;
            }

            state.Flush();
            return state.Best;
        }

        var union = new HashSet<string>(StringComparer.Ordinal);
        var fold = ignoreCase;
        foreach (var (s, e) in branches)
        {
            var filter = AnyOf(p, s, e, ignoreCase);
            if (filter is null)
            {
                return null; // one branch with nothing required: the whole alternation proves nothing
            }

            union.UnionWith(filter.Literals);
            fold |= filter.IgnoreCase;
            if (union.Count > MaxAlternatives)
            {
                return null;
            }
        }

        // Under case folding, "Bot" and "bot" are one literal.
        var literals = fold ? union.Distinct(StringComparer.OrdinalIgnoreCase).ToArray() : [.. union];
        return new LiteralFilter(literals, fold);
    }

    private sealed class SequenceState(bool ignoreCase)
    {
        private bool _runFolds;

        public StringBuilder Run { get; } = new();

        public LiteralFilter? Best { get; private set; }

        public bool IgnoreCase { get; } = ignoreCase;

        public void Append(char c, bool folded)
        {
            Run.Append(c);
            _runFolds |= folded;
        }

        public void Flush()
        {
            if (Run.Length >= MinLength)
            {
                Consider(new LiteralFilter([Run.ToString()], IgnoreCase || _runFolds));
            }

            Run.Clear();
            _runFolds = false;
        }

        /// <summary>
        /// Keeps the more selective candidate: the one found in fewer everyday browser user agents
        /// (") AppleWebKit" is in all of them, "Acer " in none), then fewer alternatives, then longer.
        /// Any candidate is sound; this only picks the one that lets the most inputs skip the regex.
        /// </summary>
        public void Consider(LiteralFilter candidate)
        {
            if (Best is null)
            {
                Best = candidate;
                return;
            }

            var (hits, bestHits) = (CommonHits(candidate), CommonHits(Best));
            if (hits != bestHits)
            {
                if (hits < bestHits)
                {
                    Best = candidate;
                }

                return;
            }

            if (candidate.Literals.Length < Best.Literals.Length
                || (candidate.Literals.Length == Best.Literals.Length && ShortestLength(candidate) > ShortestLength(Best)))
            {
                Best = candidate;
            }
        }

        private static int ShortestLength(LiteralFilter filter) => filter.Literals.Min(static s => s.Length);

        private static int CommonHits(LiteralFilter filter)
        {
            var comparison = filter.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return CommonAgents.Count(ua => filter.Literals.Any(l => ua.Contains(l, comparison)));
        }
    }

    /// <summary>
    /// Walks a concatenation, appending required literal characters to the current run. A group that
    /// occurs at least once is walked into ("(Firefox)/" gives "Firefox/"); one with alternation gives
    /// an any-of candidate. Returns false when the pattern is not understood.
    /// </summary>
    private static bool Scan(string p, int start, int end, SequenceState state)
    {
        var i = start;
        while (i < end)
        {
            var c = p[i];
            char? literal = null;
            var folded = false;
            int next;

            switch (c)
            {
                case '(':
                    next = SkipGroup(p, i);
                    if (next < 0 || next > end)
                    {
                        return false;
                    }

                    var quantifier = QuantifierAt(p, next, out var afterGroup);
                    var bodyStart = GroupBodyStart(p, i);
                    var bodyEnd = next - 1;
                    var branches = bodyStart < 0 ? null : SplitTopLevel(p, bodyStart, bodyEnd);
                    if (bodyStart < 0 || quantifier == Quantifier.Optional || branches is null)
                    {
                        state.Flush(); // lookaround, inline options, optional group: proves nothing
                    }
                    else if (branches.Count > 1)
                    {
                        state.Flush();
                        if (AnyOf(p, bodyStart, bodyEnd, state.IgnoreCase) is { } set)
                        {
                            state.Consider(set);
                        }
                    }
                    else
                    {
                        if (!Scan(p, bodyStart, bodyEnd, state))
                        {
                            return false;
                        }

                        if (quantifier == Quantifier.OneOrMore)
                        {
                            state.Flush(); // repeated: what follows is not adjacent to one copy
                        }
                    }

                    i = afterGroup;
                    continue;
                case '[':
                    next = SkipClass(p, i);
                    if (next < 0)
                    {
                        return false;
                    }

                    if (CaseClassLetter(p, i, next) is { } letter)
                    {
                        literal = letter; // [Bb] is "b" compared case-insensitively: a superset, so still sound
                        folded = true;
                        break;
                    }

                    state.Flush();
                    i = SkipQuantifier(p, next);
                    continue;
                case ')' or '|':
                    return false; // unbalanced (alternation is split before scanning)
                case '\\':
                    if (i + 1 >= end)
                    {
                        return false;
                    }

                    var escaped = p[i + 1];
                    next = i + 2;
                    if (!char.IsAsciiLetterOrDigit(escaped) && escaped < 128)
                    {
                        literal = escaped; // \. \/ \- \( \) \[ \] \  \; ...
                    }

                    break;
                case '.' or '^' or '$' or '*' or '+' or '?' or '{' or '}':
                    next = i + 1;
                    break;
                default:
                    next = i + 1;
                    literal = c;
                    break;
            }

            if (literal is not { } ch || !IsSafe(ch, state.IgnoreCase))
            {
                state.Flush();
                i = SkipQuantifier(p, next);
                continue;
            }

            switch (QuantifierAt(p, next, out var after))
            {
                case Quantifier.None:
                    state.Append(ch, folded);
                    i = next;
                    break;
                case Quantifier.OneOrMore:
                    state.Append(ch, folded);
                    state.Flush();
                    i = after;
                    break;
                default: // optional, or not understood
                    state.Flush();
                    i = after;
                    break;
            }
        }

        return true;
    }

    /// <summary>For a class that is exactly one ASCII letter in both cases ("[Bb]"), that letter in lower case.</summary>
    private static char? CaseClassLetter(string p, int open, int after)
    {
        if (after - open != 4)
        {
            return null;
        }

        var a = p[open + 1];
        var b = p[open + 2];
        return char.IsAsciiLetter(a) && char.IsAsciiLetter(b) && a != b && char.ToLowerInvariant(a) == char.ToLowerInvariant(b)
            ? char.ToLowerInvariant(a)
            : null;
    }

    private enum Quantifier
    {
        None,
        OneOrMore,
        Optional,
    }

    // Characters whose case-insensitive regex match is exactly what OrdinalIgnoreCase finds. 'k' and
    // 's' are left out: the regex engine also folds KELVIN SIGN and LONG S onto them.
    private static bool IsSafe(char c, bool ignoreCase) =>
        c < 128 && !char.IsControl(c) && (!ignoreCase || (c is not ('k' or 'K' or 's' or 'S')));

    private static Quantifier QuantifierAt(string p, int i, out int after)
    {
        after = i;
        if (i >= p.Length)
        {
            return Quantifier.None;
        }

        Quantifier kind;
        switch (p[i])
        {
            case '?' or '*':
                kind = Quantifier.Optional;
                after = i + 1;
                break;
            case '+':
                kind = Quantifier.OneOrMore;
                after = i + 1;
                break;
            case '{':
                var close = p.IndexOf('}', i);
                if (close < 0)
                {
                    after = i + 1;
                    return Quantifier.Optional; // a literal '{' follows: treat the char as not understood
                }

                var body = p.AsSpan(i + 1, close - i - 1);
                var comma = body.IndexOf(',');
                var min = comma < 0 ? body : body[..comma];
                after = close + 1;
                kind = int.TryParse(min, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
                    ? Quantifier.OneOrMore
                    : Quantifier.Optional;
                break;
            default:
                return Quantifier.None;
        }

        if (after < p.Length && p[after] == '?')
        {
            after++; // lazy
        }

        return kind;
    }

    private static int SkipQuantifier(string p, int i)
    {
        QuantifierAt(p, i, out var after);
        return after;
    }

    /// <summary>Start of a capturing, non-capturing or named group's body; -1 for lookarounds and option groups.</summary>
    private static int GroupBodyStart(string p, int open)
    {
        if (open + 1 >= p.Length || p[open + 1] != '?')
        {
            return open + 1;
        }

        if (open + 2 < p.Length && p[open + 2] == ':')
        {
            return open + 3;
        }

        if (open + 3 < p.Length && p[open + 2] is '<' or '\'' && p[open + 3] is not ('=' or '!'))
        {
            var close = p.IndexOf(p[open + 2] == '<' ? '>' : '\'', open + 3);
            return close < 0 ? -1 : close + 1;
        }

        return -1;
    }

    /// <summary>The top-level branches of p[start..end) (one when there is no '|'), or null when unbalanced.</summary>
    private static List<(int Start, int End)>? SplitTopLevel(string p, int start, int end)
    {
        var branches = new List<(int, int)>();
        var depth = 0;
        var branchStart = start;
        for (var i = start; i < end; i++)
        {
            switch (p[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    var after = SkipClass(p, i);
                    if (after < 0 || after > end)
                    {
                        return null;
                    }

                    i = after - 1;
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    if (--depth < 0)
                    {
                        return null;
                    }

                    break;
                case '|' when depth == 0:
                    branches.Add((branchStart, i));
                    branchStart = i + 1;
                    break;
            }
        }

        if (depth != 0)
        {
            return null;
        }

        branches.Add((branchStart, end));
        return branches;
    }

    /// <summary>Index after the group starting at <paramref name="start"/>, or -1 when unbalanced.</summary>
    private static int SkipGroup(string p, int start)
    {
        var depth = 0;
        for (var i = start; i < p.Length; i++)
        {
            switch (p[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    var end = SkipClass(p, i);
                    if (end < 0)
                    {
                        return -1;
                    }

                    i = end - 1;
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    if (depth == 0)
                    {
                        return i + 1;
                    }

                    break;
            }
        }

        return -1;
    }

    /// <summary>Index after the character class starting at <paramref name="start"/>, or -1.</summary>
    private static int SkipClass(string p, int start)
    {
        var i = start + 1;
        if (i < p.Length && p[i] == '^')
        {
            i++;
        }

        if (i < p.Length && p[i] == ']')
        {
            i++; // a leading ']' is literal
        }

        for (; i < p.Length; i++)
        {
            switch (p[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    return -1; // nested class or subtraction: not handled
                case ']':
                    return i + 1;
            }
        }

        return -1;
    }

    private static bool HasInlineOptions(string pattern)
    {
        for (var i = pattern.IndexOf("(?", StringComparison.Ordinal); i >= 0; i = pattern.IndexOf("(?", i + 2, StringComparison.Ordinal))
        {
            if (i + 2 < pattern.Length && pattern[i + 2] is not (':' or '=' or '!' or '<' or '>' or '\''))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Literals of which every match contains one.</summary>
/// <param name="Literals">The literals (one or more).</param>
/// <param name="IgnoreCase">Compare with OrdinalIgnoreCase (the regex is case-insensitive, or a "[Bb]" class was folded).</param>
internal sealed record LiteralFilter(string[] Literals, bool IgnoreCase);
