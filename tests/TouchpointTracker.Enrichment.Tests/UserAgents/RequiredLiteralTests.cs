using System.Text.RegularExpressions;
using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests.UserAgents;

public class RequiredLiteralTests
{
    [TestCase(@"(Firefox)/(\d+)\.(\d+)", false, "Firefox/")]
    [TestCase(@"Version/(\d+)\.(\d+)(?:\.(\d+)|).*Safari/", false, "Version/")]
    [TestCase(@"\[FB.{0,300};(FBAV)/(\d+)", false, ";FBAV/")]
    [TestCase(@"Windows NT 10\.0", false, "Windows NT 10.0")]
    [TestCase(@"; *(SM-[A-Z]\d+)", false, "SM-")]
    [TestCase(@"(?<name>Edg)e?/", false, "Edg")]
    [TestCase(@"(Chrome)+/x", false, "Chrome")]
    [TestCase(@"(Chrome)?/xyz", false, "/xyz")]
    [TestCase(@"(?=Chrome)Chr", false, "Chr")]
    [TestCase(@"a(bc|de)fgh", false, "fgh")]
    [TestCase(@"a(bcd|def)gh", false, null)] // an any-of set, not a single literal (see below)
    [TestCase(@"HTC_Touch_?Pro", false, "HTC_Touch")]
    [TestCase(@"abcd+ef", false, "abcd")]
    [TestCase(@"abcd{2,}xyz", false, "abcd")]
    [TestCase(@"abcd{0,3}xyz", false, "abc")]
    [TestCase(@"abcd*?xyz", false, "abc")]
    [TestCase(@"Opera|Presto", false, null)] // any-of
    [TestCase(@"Oper(a|x)", false, "Oper")]
    [TestCase(@"(?:Opera|Presto)/Mini", false, "/Mini")]
    [TestCase(@"Mozilla[^)]*\) Gecko", false, ") Gecko")] // the rarer literal in everyday user agents wins
    [TestCase(@"^Mozilla/5\.0 \(", false, "Mozilla/5.0 (")]
    [TestCase(@"Desktop", true, "top")] // 'k' and 's' fold onto non-ASCII letters
    [TestCase(@"(?i)galaxy nexus", false, "galaxy nexu")] // inline option: treated as case-insensitive
    [TestCase(@"Nokia(?i)Browser", false, "Brow")]
    [TestCase(@"iPhone\d", false, "iPhone")]
    [TestCase(@"abc(", false, null)]
    [TestCase(@"ab[c", false, null)]
    public void Extracts_the_longest_required_literal(string pattern, bool ignoreCase, string? expected)
    {
        var literal = RequiredLiteral.Extract(pattern, ignoreCase);
        Assert.That(literal is null || literal.Length >= RequiredLiteral.MinLength, Is.True);
        Assert.That(literal, Is.EqualTo(expected is { Length: >= RequiredLiteral.MinLength } ? expected : null));
    }

    [TestCase(@"Opera|Presto", false, new[] { "Opera", "Presto" })]
    [TestCase(@"a(bcd|def)gh", false, new[] { "bcd", "def" })]
    [TestCase(@"^.{0,100}(bot|Crawler|^NING|spider(?:-x|))\b", false, new[] { "bot", "Crawler", "NING", "spider" })]
    [TestCase(@"(abc|de)f", false, null)] // "de" is too short to prove anything
    [TestCase(@"(abc|(?:def)?)x", false, null)] // an empty branch proves nothing
    [TestCase(@"(Abc|Abc)x", false, new[] { "Abc" })]
    [TestCase(@"(?:[Aa]rchiver|[Bb]ot|[Ss]pider)[/ ]", false, new[] { "archiver", "bot", "spider" })]
    [TestCase(@"[^C][^Uu][Bb]ot\b", false, new[] { "bot" })]
    public void Extracts_any_of_sets_from_alternations(string pattern, bool ignoreCase, string[]? expected)
    {
        Assert.That(RequiredLiteral.ExtractAnyOf(pattern, ignoreCase)?.Literals, expected is null ? Is.Null : Is.EquivalentTo(expected));
    }

    [Test]
    public void Case_classes_fold_the_filter()
    {
        var filter = RequiredLiteral.ExtractAnyOf(@"x[Bb]ot", false);
        Assert.That(filter, Is.EqualTo(new LiteralFilter(["xbot"], true)).Using<LiteralFilter>((a, b) => a.Literals.SequenceEqual(b.Literals) && a.IgnoreCase == b.IgnoreCase));
        Assert.That(RequiredLiteral.ExtractAnyOf("Chrome/", false)!.IgnoreCase, Is.False);
    }

    [Test]
    public void Literal_is_in_every_match_of_random_inputs()
    {
        // Property check: for each pattern, whenever the regex matches a random string, the literal is in it.
        string[] patterns =
        [
            @"ab+c(d|e)?f", @"x{1,3}yz[0-9]+ok", @"(?:q|r)stu\.v", @"m(n)*opq", @"ab\-cd?e", @"^hel+o wor?ld$",
            @"(ab)+(cd)e", @"(?:x(yz)w)+v", @"p(q(r)s)t", @"(a|b)c(de)f", @"(abc|def)+x", @"qrs|tuv|wxy", @"(?:ab(cde|fgh)|zyx)w",
            @"[Hh]el[Ll]o|[Ww]orld", @"x[Yy]z[^a]q",
        ];
        var random = new Random(5);
        const string alphabet = "abcdefhlmnopqrstuvwxyz0-. HLWY";
        foreach (var pattern in patterns)
        {
            var literals = RequiredLiteral.ExtractAnyOf(pattern, false);
            var regex = new Regex(pattern);
            for (var i = 0; i < 20_000; i++)
            {
                var chars = new char[random.Next(0, 16)];
                for (var j = 0; j < chars.Length; j++)
                {
                    chars[j] = alphabet[random.Next(alphabet.Length)];
                }

                var input = new string(chars);
                if (literals is not null && regex.IsMatch(input))
                {
                    var comparison = literals.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                    Assert.That(literals.Literals.Any(l => input.Contains(l, comparison)), Is.True, $"{pattern} matched '{input}'");
                }
            }
        }
    }

    [Test]
    public void Prefilter_does_not_change_results()
    {
        var with = new UserAgentParser(UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = false }));
        var without = new UserAgentParser(UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = false, UseLiteralPrefilter = false }));
        string[] agents =
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36",
            "Mozilla/5.0 (Linux; U; Android 4.2.2; de-de; pedi_plus_w Build/JDQ39)",
            "Mozilla/5.0 (Windows; Windows NT 5.1; rv:2.0b3pre) Gecko/20100727 Minefield/4.0.1pre",
            "OddBrowser 7", "curl/8.4.0", "Mozilla/4.0 (compatible; Win98)",
        ];
        foreach (var ua in agents)
        {
            Assert.That(with.Parse(ua), Is.EqualTo(without.Parse(ua)), ua);
        }
    }
}
