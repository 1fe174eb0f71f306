using TouchpointTracker.Enrichment.UserAgents;

namespace TouchpointTracker.Enrichment.Tests.UserAgents;

public class UserAgentParserTests
{
    private const string ChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36";
    private const string SafariIphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    private const string ChromeSamsung = "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36";

    private static readonly UserAgentRegexes Regexes = UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = false });
    private static readonly UserAgentParser Parser = new(Regexes);

    [Test]
    public void Loads_all_three_lists_and_skips_invalid_regexes()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Regexes.Counts, Is.EqualTo((10, 6, 6)));
            Assert.That(Regexes.Skipped, Has.Count.EqualTo(1));
            Assert.That(Regexes.Skipped[0], Does.StartWith("(Invalid["));
        });
    }

    [Test]
    public void Only_the_first_512_characters_are_parsed()
    {
        // A hostile UA: padding, then what would match. Parsing 1,024 unique characters cost 13x.
        var hostile = new string('x', 512) + " " + ChromeWindows;
        var padded = ChromeWindows + new string(' ', 600) + "iPhone";

        Assert.Multiple(() =>
        {
            Assert.That(EnrichmentLimits.MaxUserAgentLength, Is.EqualTo(512));
            Assert.That(Parser.Parse(hostile).Browser.Family, Is.Not.EqualTo("Chrome"), "nothing past character 512 is read");
            Assert.That(Parser.Parse(padded).Browser.Family, Is.EqualTo("Chrome"));
        });
    }

    [Test]
    public void Parses_chrome_on_windows()
    {
        var info = Parser.Parse(ChromeWindows);
        Assert.Multiple(() =>
        {
            Assert.That(info.Browser, Is.EqualTo(new VersionedName("Chrome", "120", "0", "6099", "109")));
            Assert.That(info.Browser.Version, Is.EqualTo("120.0.6099.109"));
            Assert.That(info.Os, Is.EqualTo(new VersionedName("Windows", "10")));
            Assert.That(info.Device, Is.EqualTo(DeviceName.Other));
            Assert.That(info.IsBot, Is.False);
        });
    }

    [Test]
    public void Replacements_substitute_groups()
    {
        var info = Parser.Parse(SafariIphone);
        Assert.Multiple(() =>
        {
            Assert.That(info.Browser, Is.EqualTo(new VersionedName("Safari", "17", "1")));
            Assert.That(info.Os, Is.EqualTo(new VersionedName("iOS", "17", "1", "2")));
            Assert.That(info.Device, Is.EqualTo(new DeviceName("iPhone", "Apple", "iPhone")));
        });
    }

    [Test]
    public void Device_replacements_use_any_group()
    {
        var info = Parser.Parse(ChromeSamsung);
        Assert.Multiple(() =>
        {
            Assert.That(info.Os, Is.EqualTo(new VersionedName("Android", "13")));
            Assert.That(info.Device, Is.EqualTo(new DeviceName("Samsung SM-G991B", "Samsung", "SM-G991B")));
        });
    }

    [Test]
    public void Family_replacement_with_placeholder()
    {
        var info = Parser.ParseBrowser("Mozilla/5.0 (Windows; Windows NT 5.1; rv:2.0b3pre) Gecko/20100727 Minefield/4.0.1pre");
        Assert.That(info, Is.EqualTo(new VersionedName("Firefox (Minefield)", "4", "0", "1pre")));
    }

    [Test]
    public void Literal_and_substituted_version_replacements()
    {
        Assert.That(Parser.ParseBrowser("OddBrowser 7"), Is.EqualTo(new VersionedName("Odd", "v7", "0")));
    }

    [Test]
    public void Os_replacement_with_placeholder()
    {
        Assert.That(Parser.ParseOs("Mozilla/4.0 (compatible; Win98)"), Is.EqualTo(new VersionedName("Windows 98")));
    }

    [Test]
    public void Case_insensitive_flag_applies()
    {
        var device = Parser.ParseDevice("Mozilla/5.0 (Linux; U; Android 4.2.2; de-de; PEDI_PLUS_W Build/JDQ39)");
        Assert.That(device, Is.EqualTo(new DeviceName("PEDI_PLUS_W", "Odys", "PEDI PLUS W")));
    }

    [Test]
    public void Results_are_trimmed_and_empty_ones_dropped()
    {
        Assert.That(Parser.ParseDevice("Blank"), Is.EqualTo(new DeviceName("Other", null, null)));
        Assert.That(Parser.ParseDevice("BlankX"), Is.EqualTo(new DeviceName("X", "X", "X")));
    }

    [Test]
    public void Unknown_is_other()
    {
        var info = Parser.Parse("SomethingElse/1.0");
        Assert.That(info, Is.EqualTo(new UserAgentInfo(VersionedName.Other, VersionedName.Other, DeviceName.Other, false)));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    public void Blank_is_unknown(string? ua)
    {
        Assert.That(Parser.Parse(ua), Is.SameAs(UserAgentInfo.Unknown));
    }

    [Test]
    public void Spider_device_family_is_a_bot()
    {
        var info = Parser.Parse("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        Assert.Multiple(() =>
        {
            Assert.That(info.Browser.Family, Is.EqualTo("Googlebot"));
            Assert.That(info.Device.Family, Is.EqualTo("Spider"));
            Assert.That(info.IsBot, Is.True);
        });
    }

    [Test]
    public void Keyword_bots_are_flagged_even_when_no_rule_says_spider()
    {
        Assert.That(Parser.Parse("curl/8.4.0").IsBot, Is.True);
    }

    [Test]
    public void A_catastrophic_regex_times_out_as_no_match()
    {
        var slow = new UserAgentParser(UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = false, MatchTimeout = TimeSpan.FromMilliseconds(20) }));
        var info = slow.ParseBrowser("Catastrophic " + new string('a', 40) + "!");
        Assert.Multiple(() =>
        {
            Assert.That(info, Is.EqualTo(VersionedName.Other));
            Assert.That(slow.Timeouts, Is.EqualTo(1));
        });
    }

    [Test]
    public void Over_long_user_agents_are_cut_not_rejected()
    {
        var info = Parser.Parse(ChromeWindows + new string('x', 100_000));
        Assert.That(info.Browser.Family, Is.EqualTo("Chrome"));
    }

    [Test]
    public void Malformed_yaml_fails_at_load()
    {
        Assert.Throws<InvalidDataException>(() => UserAgentRegexes.Parse("user_agent_parsers: [ { regex: 'x' "));
        Assert.Throws<InvalidDataException>(() => UserAgentRegexes.Parse("something_else: 1"));
        Assert.Throws<FileNotFoundException>(() => UserAgentRegexes.LoadFile("/nonexistent/regexes.yaml"));
    }

    [Test]
    public void Create_requires_a_path_and_wraps_in_a_cache()
    {
        Assert.Throws<ArgumentException>(() => UserAgentParser.Create(new UserAgentParserOptions()));

        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"regexes-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, TestRegexes.Yaml);
        try
        {
            var cached = UserAgentParser.Create(new UserAgentParserOptions { RegexesPath = path, CompileRegexes = false, CacheCapacity = 8 });
            var plain = UserAgentParser.Create(new UserAgentParserOptions { RegexesPath = path, CompileRegexes = false, CacheCapacity = 0 });
            Assert.Multiple(() =>
            {
                Assert.That(cached, Is.InstanceOf<CachedUserAgentParser>());
                Assert.That(plain, Is.InstanceOf<UserAgentParser>());
                Assert.That(cached.Parse(ChromeWindows), Is.EqualTo(plain.Parse(ChromeWindows)));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Warm_up_runs_every_rule_and_changes_nothing()
    {
        var regexes = UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = true });
        Assert.That(regexes.WarmUp(), Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        Assert.That(new UserAgentParser(regexes).Parse(ChromeWindows), Is.EqualTo(Parser.Parse(ChromeWindows)));
    }

    [Test]
    public void Any_of_prefilter_uses_the_rule_case_rules()
    {
        const string yaml = """
            user_agent_parsers:
              - regex: '(Foo|Bar)Browser/(\d+)'
              - regex: '(?:[Qq]ux|[Zz]ip)(Agent)/(\d+)'
                family_replacement: 'QZ'
            """;
        var parser = new UserAgentParser(UserAgentRegexes.Parse(yaml, new UserAgentParserOptions { CompileRegexes = false }));
        Assert.Multiple(() =>
        {
            Assert.That(parser.ParseBrowser("x BarBrowser/3"), Is.EqualTo(new VersionedName("Bar", "3")));
            Assert.That(parser.ParseBrowser("x barBrowser/3"), Is.EqualTo(VersionedName.Other));
            Assert.That(parser.ParseBrowser("x ZipAgent/9"), Is.EqualTo(new VersionedName("QZ", "9")));
            Assert.That(parser.ParseBrowser("x qux"), Is.EqualTo(VersionedName.Other));
        });
    }

    [Test]
    public void Compiled_and_interpreted_regexes_agree()
    {
        var compiled = new UserAgentParser(UserAgentRegexes.Parse(TestRegexes.Yaml, new UserAgentParserOptions { CompileRegexes = true }));
        foreach (var ua in new[] { ChromeWindows, SafariIphone, ChromeSamsung, "curl/8.4.0" })
        {
            Assert.That(compiled.Parse(ua), Is.EqualTo(Parser.Parse(ua)));
        }
    }
}
