using System.Buffers;
using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace TouchpointTracker.Enrichment.UserAgents;

/// <summary>
/// The three ordered rule lists of a uap-core regexes.yaml (user_agent_parsers, os_parsers,
/// device_parsers), with their regexes built once. Loading happens at start-up and throws on a missing
/// or malformed file; a single regex .NET cannot build is skipped and listed in <see cref="Skipped"/>.
/// </summary>
public sealed class UserAgentRegexes
{
    private UserAgentRegexes(IReadOnlyList<Rule> userAgent, IReadOnlyList<Rule> os, IReadOnlyList<Rule> device, IReadOnlyList<string> skipped)
    {
        UserAgentRules = userAgent;
        OsRules = os;
        DeviceRules = device;
        Skipped = skipped;
    }

    /// <summary>
    /// One rule: its regex, the replacements (UA/OS: family, v1..v4; device: device, brand, model), and a
    /// pre-check: literals of which every match contains one (null when none could be proven).
    /// </summary>
    internal sealed class Rule(Regex regex, string?[] replacements, LiteralFilter? filter)
    {
        private readonly string? _single = filter?.Literals is [var only] ? only : null;
        private readonly SearchValues<string>? _anyOf = filter?.Literals is { Length: > 1 } many ? SearchValues.Create(many, Comparison(filter.IgnoreCase)) : null;
        private readonly StringComparison _comparison = Comparison(filter?.IgnoreCase == true);

        public Regex Regex { get; } = regex;

        public string?[] Replacements { get; } = replacements;

        public IReadOnlyList<string>? Literals { get; } = filter?.Literals;

        /// <summary>False when the input cannot match (none of its required literals is present).</summary>
        public bool MayMatch(string input) =>
            _single is not null ? input.Contains(_single, _comparison)
            : _anyOf is null || input.AsSpan().IndexOfAny(_anyOf) >= 0;

        private static StringComparison Comparison(bool ignoreCase) => ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
    }

    internal IReadOnlyList<Rule> UserAgentRules { get; }

    internal IReadOnlyList<Rule> OsRules { get; }

    internal IReadOnlyList<Rule> DeviceRules { get; }

    /// <summary>Number of rules per list (user agent, OS, device).</summary>
    public (int UserAgent, int Os, int Device) Counts => (UserAgentRules.Count, OsRules.Count, DeviceRules.Count);

    /// <summary>Rules that have a required-literal pre-check.</summary>
    public int PrefilteredRules => UserAgentRules.Concat(OsRules).Concat(DeviceRules).Count(static r => r.Literals is not null);

    /// <summary>Patterns that could not be built, with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>
    /// Runs every rule's regex once so that compiled regexes are JIT-compiled now (a few milliseconds
    /// each) instead of on the first request that reaches them. Optional; call at start-up, possibly
    /// from a background task. Returns the time it took.
    /// </summary>
    public TimeSpan WarmUp()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var rule in UserAgentRules.Concat(OsRules).Concat(DeviceRules))
        {
            // A probe holding the rule's literals gets past the start-position search into the matcher.
            var probe = rule.Literals is { } literals ? "Mozilla/5.0 (" + string.Join("; ", literals) + ") " : "Mozilla/5.0 (Linux; Android 10; K) ";
            try
            {
                rule.Regex.IsMatch(probe);
            }
            catch (RegexMatchTimeoutException)
            {
                // The JIT itself ran; nothing else to do.
            }
        }

        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Loads a regexes.yaml file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a uap-core regexes document.</exception>
    public static UserAgentRegexes LoadFile(string path, UserAgentParserOptions? options = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"uap-core regexes file not found: {path}", path);
        }

        using var reader = File.OpenText(path);
        return Load(reader, options);
    }

    /// <summary>Loads regexes YAML from text.</summary>
    /// <exception cref="InvalidDataException">The text is not a uap-core regexes document.</exception>
    public static UserAgentRegexes Parse(string yaml, UserAgentParserOptions? options = null)
    {
        using var reader = new StringReader(yaml);
        return Load(reader, options);
    }

    private static UserAgentRegexes Load(TextReader reader, UserAgentParserOptions? options)
    {
        options ??= new UserAgentParserOptions();
        Document? document;
        try
        {
            document = new DeserializerBuilder()
                .IgnoreUnmatchedProperties()
                .Build()
                .Deserialize<Document>(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"regexes YAML is malformed: {e.Message}", e);
        }

        if (document is null || (document.UserAgentParsers is null && document.OsParsers is null && document.DeviceParsers is null))
        {
            throw new InvalidDataException("regexes YAML has none of user_agent_parsers, os_parsers, device_parsers.");
        }

        var skipped = new List<string>();
        var ua = Build(document.UserAgentParsers, e => [e.FamilyReplacement, e.V1Replacement, e.V2Replacement, e.V3Replacement, e.V4Replacement], options, skipped);
        var os = Build(document.OsParsers, e => [e.OsReplacement, e.OsV1Replacement, e.OsV2Replacement, e.OsV3Replacement, e.OsV4Replacement], options, skipped);
        var device = Build(document.DeviceParsers, e => [e.DeviceReplacement, e.BrandReplacement, e.ModelReplacement], options, skipped);
        return new UserAgentRegexes(ua, os, device, skipped);
    }

    private static Rule[] Build(List<Entry>? entries, Func<Entry, string?[]> replacements, UserAgentParserOptions options, List<string> skipped)
    {
        if (entries is null)
        {
            return [];
        }

        var rules = new List<Rule>(entries.Count);
        foreach (var entry in entries)
        {
            if (string.IsNullOrEmpty(entry.Regex))
            {
                continue;
            }

            var flags = RegexOptions.CultureInvariant;
            if (options.CompileRegexes)
            {
                flags |= RegexOptions.Compiled;
            }

            var ignoreCase = entry.RegexFlag?.Contains('i', StringComparison.Ordinal) == true;
            if (ignoreCase)
            {
                flags |= RegexOptions.IgnoreCase;
            }

            try
            {
                var regex = new Regex(entry.Regex, flags, options.MatchTimeout);
                var filter = options.UseLiteralPrefilter ? RequiredLiteral.ExtractAnyOf(entry.Regex, ignoreCase) : null;
                rules.Add(new Rule(regex, replacements(entry), filter));
            }
            catch (ArgumentException e)
            {
                skipped.Add($"{entry.Regex}: {e.Message}");
            }
        }

        return [.. rules];
    }

    // YAML shapes, keyed by uap-core's names.
    internal sealed class Document
    {
        [YamlMember(Alias = "user_agent_parsers")]
        public List<Entry>? UserAgentParsers { get; set; }

        [YamlMember(Alias = "os_parsers")]
        public List<Entry>? OsParsers { get; set; }

        [YamlMember(Alias = "device_parsers")]
        public List<Entry>? DeviceParsers { get; set; }
    }

    internal sealed class Entry
    {
        [YamlMember(Alias = "regex")]
        public string? Regex { get; set; }

        [YamlMember(Alias = "regex_flag")]
        public string? RegexFlag { get; set; }

        [YamlMember(Alias = "family_replacement")]
        public string? FamilyReplacement { get; set; }

        [YamlMember(Alias = "v1_replacement")]
        public string? V1Replacement { get; set; }

        [YamlMember(Alias = "v2_replacement")]
        public string? V2Replacement { get; set; }

        [YamlMember(Alias = "v3_replacement")]
        public string? V3Replacement { get; set; }

        [YamlMember(Alias = "v4_replacement")]
        public string? V4Replacement { get; set; }

        [YamlMember(Alias = "os_replacement")]
        public string? OsReplacement { get; set; }

        [YamlMember(Alias = "os_v1_replacement")]
        public string? OsV1Replacement { get; set; }

        [YamlMember(Alias = "os_v2_replacement")]
        public string? OsV2Replacement { get; set; }

        [YamlMember(Alias = "os_v3_replacement")]
        public string? OsV3Replacement { get; set; }

        [YamlMember(Alias = "os_v4_replacement")]
        public string? OsV4Replacement { get; set; }

        [YamlMember(Alias = "device_replacement")]
        public string? DeviceReplacement { get; set; }

        [YamlMember(Alias = "brand_replacement")]
        public string? BrandReplacement { get; set; }

        [YamlMember(Alias = "model_replacement")]
        public string? ModelReplacement { get; set; }
    }
}
