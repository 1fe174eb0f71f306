using System.Diagnostics;
using TouchpointTracker.Enrichment.Tests.Support;
using TouchpointTracker.Enrichment.UserAgents;
using YamlDotNet.Serialization;

namespace TouchpointTracker.Enrichment.Tests.Conformance;

/// <summary>
/// Runs uap-core's own test suites against our parser with the regexes.yaml they ship with.
/// Skipped (Ignore) where uap-core is not installed; prints pass rates and the first failures.
/// </summary>
[TestFixture]
[Category("Conformance")]
public class UapCoreConformanceTests
{
    // uap-core's own runner (tests/test.js) checks family/major/minor/patch for user agents and adds
    // patch_minor for operating systems; the user agent suites' patch_minor is reported, not asserted.
    private static readonly string[] UserAgentFields = ["family", "major", "minor", "patch"];
    private static readonly string[] OsFields = ["family", "major", "minor", "patch", "patch_minor"];
    private static readonly string[] UserAgentExtraFields = ["patch_minor"];
    private static readonly string[] DeviceFields = ["family", "brand", "model"];
    private static readonly string[] CoreSuites = ["tests/test_ua.yaml", "tests/test_os.yaml", "tests/test_device.yaml"];

    private UserAgentParser _parser = null!;
    private UserAgentRegexes _regexes = null!;

    [OneTimeSetUp]
    public void Load()
    {
        var path = Path.Combine(TestPaths.UapCoreDirectory, "regexes.yaml");
        if (!File.Exists(path))
        {
            Assert.Ignore($"uap-core not installed ({path} missing): install the Debian package uap-core or set UAP_CORE_DIR.");
        }

        var watch = Stopwatch.StartNew();
        var regexes = UserAgentRegexes.LoadFile(path, new UserAgentParserOptions { CompileRegexes = true });
        TestContext.Out.WriteLine($"loaded {path}: {regexes.Counts} rules ({regexes.PrefilteredRules} with a literal pre-check), {regexes.Skipped.Count} skipped, {watch.ElapsedMilliseconds} ms (compiled)");
        foreach (var skipped in regexes.Skipped)
        {
            TestContext.Out.WriteLine("  skipped: " + skipped);
        }

        _parser = new UserAgentParser(regexes);
        _regexes = regexes;
    }

    /// <summary>
    /// The literal pre-check may only skip rules that cannot match: for every rule and every suite
    /// user agent (device suite sampled) without the rule's literal, the regex must not match.
    /// </summary>
    [Test]
    public void Literal_prefilter_never_hides_a_match()
    {
        var agents = CoreSuites
            .Select(s => Path.Combine(TestPaths.UapCoreDirectory, s))
            .Where(File.Exists)
            .SelectMany(f => LoadCases(f).Select(c => c.GetValueOrDefault("user_agent_string")).OfType<string>().Where((_, i) => !f.EndsWith("test_device.yaml", StringComparison.Ordinal) || i % 8 == 0))
            .Distinct()
            .ToList();
        var rules = _regexes.UserAgentRules.Concat(_regexes.OsRules).Concat(_regexes.DeviceRules).Where(r => r.Literals is not null).ToList();
        var hidden = new List<string>();
        var skipped = 0L;
        foreach (var rule in rules)
        {
            foreach (var ua in agents)
            {
                if (!rule.MayMatch(ua))
                {
                    skipped++;
                    if (IsMatchWithRetry(rule.Regex, ua))
                    {
                        hidden.Add($"{rule.Regex} (literals {string.Join(",", rule.Literals!.Take(5))}) matches {ua}");
                    }
                }
            }
        }

        TestContext.Out.WriteLine($"{rules.Count} rules with a literal x {agents.Count} user agents: {skipped:N0} regex runs skipped, {hidden.Count} wrongly");
        Assert.That(hidden, Is.Empty);
    }

    [TestCase("tests/test_ua.yaml")]
    [TestCase("test_resources/firefox_user_agent_strings.yaml")]
    [TestCase("test_resources/opera_mini_user_agent_strings.yaml")]
    [TestCase("test_resources/podcasting_user_agent_strings.yaml")]
    [TestCase("test_resources/pgts_browser_list.yaml")]
    public void User_agents(string suite) =>
        Run(suite, UserAgentFields, ua => Fields(_parser.ParseBrowser(ua)), UserAgentExtraFields);

    [TestCase("tests/test_os.yaml")]
    [TestCase("test_resources/additional_os_tests.yaml")]
    public void Operating_systems(string suite) =>
        Run(suite, OsFields, ua => Fields(_parser.ParseOs(ua)));

    [TestCase("tests/test_device.yaml")]
    public void Devices(string suite) =>
        Run(suite, DeviceFields, ua =>
        {
            var d = _parser.ParseDevice(ua);
            return new Dictionary<string, string?> { ["family"] = d.Family, ["brand"] = d.Brand, ["model"] = d.Model };
        });

    // The first match of a compiled regex includes its JIT, which can exceed the timeout on a busy machine.
    private static bool IsMatchWithRetry(System.Text.RegularExpressions.Regex regex, string input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return regex.IsMatch(input);
        }
    }

    private static Dictionary<string, string?> Fields(VersionedName v) => new()
    {
        ["family"] = v.Family,
        ["major"] = v.Major,
        ["minor"] = v.Minor,
        ["patch"] = v.Patch,
        ["patch_minor"] = v.PatchMinor,
    };

    private void Run(string suite, string[] fields, Func<string, Dictionary<string, string?>> parse, string[]? reportedFields = null)
    {
        var path = Path.Combine(TestPaths.UapCoreDirectory, suite);
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} missing");
        }

        var cases = LoadCases(path);
        var failures = new List<string>();
        var reported = new List<string>();
        var watch = Stopwatch.StartNew();
        foreach (var c in cases)
        {
            if (!c.TryGetValue("user_agent_string", out var ua) || ua is null)
            {
                continue;
            }

            var actual = parse(ua);
            var wrong = Differences(c, actual, fields);
            if (wrong is not null)
            {
                failures.Add($"{ua}\n      {wrong}");
            }

            var extra = reportedFields is null ? null : Differences(c, actual, reportedFields);
            if (extra is not null)
            {
                reported.Add($"{ua}\n      {extra}");
            }
        }

        var total = cases.Count;
        var passed = total - failures.Count;
        TestContext.Out.WriteLine($"{suite}: regex timeouts so far: {_parser.Timeouts}");
        TestContext.Out.WriteLine($"{suite}: {passed}/{total} passed ({100.0 * passed / Math.Max(1, total):F2}%) in {watch.ElapsedMilliseconds} ms");
        foreach (var f in failures.Take(25))
        {
            TestContext.Out.WriteLine("  FAIL " + f);
        }

        if (reportedFields is not null)
        {
            TestContext.Out.WriteLine($"  (not asserted) {string.Join(",", reportedFields)}: {total - reported.Count}/{total} agree");
            foreach (var r in reported.Take(10))
            {
                TestContext.Out.WriteLine("  DIFF " + r);
            }
        }

        Assert.That(failures, Is.Empty, $"{failures.Count} of {total} cases differ (see output)");
    }

    // A field absent from the case is not checked.
    private static string? Differences(Dictionary<string, string?> expected, Dictionary<string, string?> actual, string[] fields)
    {
        var wrong = fields
            .Where(f => expected.ContainsKey(f) && !string.Equals(Normalize(expected[f]), actual[f], StringComparison.Ordinal))
            .Select(f => $"{f}: expected '{expected[f]}' got '{actual[f]}'")
            .ToList();
        return wrong.Count == 0 ? null : string.Join("; ", wrong);
    }

    private static string? Normalize(string? expected) => string.IsNullOrEmpty(expected) ? null : expected;

    private static List<Dictionary<string, string?>> LoadCases(string path)
    {
        using var reader = File.OpenText(path);
        var doc = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, string?>>>>(reader);
        return doc.TryGetValue("test_cases", out var cases) ? cases : [];
    }
}
