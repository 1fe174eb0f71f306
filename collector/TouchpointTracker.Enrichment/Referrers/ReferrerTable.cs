using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TouchpointTracker.Enrichment.Referrers;

/// <summary>
/// The referrer table: the project's versioned YAML file <c>Referrers/referrers.yaml</c> (embedded in this
/// assembly), optionally extended by a deployment's override file. Loaded and validated once at start-up: every
/// error names the file, line and column. Immutable. Format and override rules: docs/enrichment.md.
/// </summary>
public sealed partial class ReferrerTable
{
    /// <summary>Name of the embedded built-in table.</summary>
    public const string BuiltInResourceName = "TouchpointTracker.Enrichment.Referrers.referrers.yaml";

    private const string BuiltInOrigin = "referrers.yaml (built-in)";
    private static readonly Lazy<ReferrerTable> BuiltInTable = new(LoadBuiltIn);

    private ReferrerTable(string version, IReadOnlyList<ReferrerEntry> entries, IReadOnlyDictionary<string, string> aliases, IReadOnlyList<SpamList> spam, string? overrideOrigin, string? overrideVersion)
    {
        Version = version;
        Entries = entries;
        Aliases = aliases;
        Spam = spam;
        OverrideOrigin = overrideOrigin;
        OverrideVersion = overrideVersion;
        SpamReasons = [.. spam.Select(s => s.Reason).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The table shipped in this assembly.</summary>
    public static ReferrerTable BuiltIn => BuiltInTable.Value;

    /// <summary>Version of the built-in table this one is based on ("2026.05.1").</summary>
    public string Version { get; }

    /// <summary>The override file merged in, or null.</summary>
    public string? OverrideOrigin { get; }

    /// <summary>The override file's own <c>version</c>, when it gives one.</summary>
    public string? OverrideVersion { get; }

    /// <summary>The site entries, in file order (built-in first, then added override entries).</summary>
    public IReadOnlyList<ReferrerEntry> Entries { get; }

    /// <summary>utm_source spellings that stand for a source name ("fb" -> "facebook").</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; }

    /// <summary>Referrer-spam hosts by reason.</summary>
    public IReadOnlyList<SpamList> Spam { get; }

    /// <summary>The distinct spam reasons, in order (the labels of the spam counter).</summary>
    public IReadOnlyList<string> SpamReasons { get; }

    /// <summary>"2026.05.1 (built-in)" or "2026.05.1 (built-in) + /etc/referrers.yaml (version 3)".</summary>
    public string Description =>
        OverrideOrigin is null ? $"{Version} (built-in)"
        : $"{Version} (built-in) + {OverrideOrigin}" + (OverrideVersion is null ? "" : $" (version {OverrideVersion})");

    /// <summary>Number of host patterns over all entries and the spam list.</summary>
    public int HostCount => Entries.Sum(e => e.Hosts.Count) + Spam.Sum(s => s.Hosts.Count);

    /// <summary>Parses a complete table (a <c>version</c> is required). Throws <see cref="ReferrerTableException"/>.</summary>
    public static ReferrerTable Parse(TextReader reader, string origin)
    {
        var file = ReadFile(reader, origin, isOverride: false);
        var entries = file.Entries.Select(e => e.Entry).ToList();
        var table = new ReferrerTable(file.Version!, entries, file.Aliases.ToDictionary(a => a.Key, a => a.Value.Target, StringComparer.OrdinalIgnoreCase), MergeSpam([], file.Spam), null, null);
        table.CheckConsistency(file.Errors, file.Entries.ToDictionary(e => e.Entry, e => e.Mark), file.Aliases, origin);
        ThrowIfAny(file.Errors);
        return table;
    }

    /// <summary>This table extended by the override file at <paramref name="path"/>. Throws <see cref="ReferrerTableException"/>.</summary>
    public ReferrerTable WithOverride(string path)
    {
        using var reader = File.OpenText(path);
        return WithOverride(reader, path);
    }

    /// <summary>
    /// This table extended by an override file: an entry with the key of an existing one replaces it whole
    /// (<c>remove: true</c> deletes it), other entries are added; a host pattern the override lists is taken
    /// from the entry or spam list that had it; aliases are added or replaced; spam hosts are added, and
    /// <c>not_spam</c> hosts removed. Throws <see cref="ReferrerTableException"/>.
    /// </summary>
    public ReferrerTable WithOverride(TextReader reader, string origin)
    {
        var file = ReadFile(reader, origin, isOverride: true);
        var errors = file.Errors;
        var marks = new Dictionary<ReferrerEntry, Mark>();
        var byKey = Entries.ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);
        var result = new List<ReferrerEntry>(Entries);
        var overridePatterns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        foreach (var (entry, mark, remove) in file.Entries.Select(e => (e.Entry, e.Mark, e.Remove)))
        {
            var existing = byKey.GetValueOrDefault(entry.Id);
            var index = existing is null ? -1 : result.IndexOf(existing);
            if (remove)
            {
                if (index < 0)
                {
                    errors.Add(new(origin, mark.Line, mark.Column, $"'{entry.Id}' is not an entry of the table: nothing to remove"));
                }
                else
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            overridePatterns.UnionWith(entry.Hosts);
            marks[entry] = mark;
            if (index >= 0)
            {
                result[index] = entry;
            }
            else
            {
                result.Add(entry);
            }
        }

        overridePatterns.UnionWith(file.Spam.SelectMany(s => s.Hosts));

        // A pattern the override lists moves to the override's entry: take it from the others.
        for (var i = result.Count - 1; i >= 0; i--)
        {
            var entry = result[i];
            if (marks.ContainsKey(entry) || !entry.Hosts.Any(overridePatterns.Contains))
            {
                continue;
            }

            var hosts = entry.Hosts.Where(h => !overridePatterns.Contains(h)).ToArray();
            if (hosts.Length == 0)
            {
                result.RemoveAt(i);
            }
            else
            {
                result[i] = entry with { Hosts = hosts };
            }
        }

        var overrideSpamHosts = new HashSet<string>(file.Spam.SelectMany(s => s.Hosts), StringComparer.OrdinalIgnoreCase);
        var entryPatterns = new HashSet<string>(file.Entries.Where(e => !e.Remove).SelectMany(e => e.Entry.Hosts), StringComparer.OrdinalIgnoreCase);
        var spam = Spam
            .Select(s => s with { Hosts = [.. s.Hosts.Where(h => !overrideSpamHosts.Contains(h) && !entryPatterns.Contains(h))] })
            .ToList();
        var allSpam = new HashSet<string>(spam.SelectMany(s => s.Hosts).Concat(overrideSpamHosts), StringComparer.OrdinalIgnoreCase);
        foreach (var (host, mark) in file.NotSpam)
        {
            if (!allSpam.Contains(host))
            {
                errors.Add(new(origin, mark.Line, mark.Column, $"not_spam: '{host}' is not on the spam list"));
            }
        }

        var notSpam = new HashSet<string>(file.NotSpam.Select(n => n.Host), StringComparer.OrdinalIgnoreCase);
        spam = MergeSpam(spam, file.Spam)
            .Select(s => s with { Hosts = [.. s.Hosts.Where(h => !notSpam.Contains(h))] })
            .Where(s => s.Hosts.Count > 0)
            .ToList();

        // Built-in aliases of a removed or renamed entry go with it; the override's own are checked below.
        var sourceNames = new HashSet<string>(result.Select(e => e.Source).OfType<string>(), StringComparer.OrdinalIgnoreCase);
        var aliases = Aliases.Where(a => sourceNames.Contains(a.Value)).ToDictionary(a => a.Key, a => a.Value, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, (target, _)) in file.Aliases)
        {
            aliases[alias] = target;
        }

        var table = new ReferrerTable(Version, result, aliases, spam, origin, file.Version);
        table.CheckConsistency(errors, marks, file.Aliases, origin);
        ThrowIfAny(errors);
        return table;
    }

    private static ReferrerTable LoadBuiltIn()
    {
        using var stream = typeof(ReferrerTable).Assembly.GetManifestResourceStream(BuiltInResourceName)
            ?? throw new InvalidOperationException($"The built-in referrer table ({BuiltInResourceName}) is missing from {typeof(ReferrerTable).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return Parse(reader, BuiltInOrigin);
    }

    private static List<SpamList> MergeSpam(IEnumerable<SpamList> existing, IEnumerable<SpamList> added)
    {
        var byReason = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var list in existing.Concat(added))
        {
            if (!byReason.TryGetValue(list.Reason, out var hosts))
            {
                byReason[list.Reason] = hosts = [];
                order.Add(list.Reason);
            }

            hosts.AddRange(list.Hosts.Where(h => !hosts.Contains(h, StringComparer.OrdinalIgnoreCase)));
        }

        return [.. order.Select(r => new SpamList(r, byReason[r]))];
    }

    private static void ThrowIfAny(List<ReferrerTableError> errors)
    {
        if (errors.Count > 0)
        {
            throw new ReferrerTableException(errors);
        }
    }

    /// <summary>Checks what spans entries: one pattern in two places, one name under two channel media, alias targets.</summary>
    private void CheckConsistency(List<ReferrerTableError> errors, Dictionary<ReferrerEntry, Mark> marks, Dictionary<string, (string Target, Mark Mark)> newAliases, string origin)
    {
        ReferrerTableError At(ReferrerEntry entry, string message)
        {
            var (o, line, column) = marks.TryGetValue(entry, out var m) ? (origin, m.Line, m.Column) : (BuiltInOrigin, 0, 0);
            return new(o, line, column, message);
        }

        var owners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in Entries)
        {
            foreach (var host in entry.Hosts)
            {
                if (!owners.TryAdd(host, entry.Id))
                {
                    errors.Add(At(entry, $"host pattern '{host}' is listed by both '{owners[host]}' and '{entry.Id}'"));
                }
            }
        }

        foreach (var host in Spam.SelectMany(s => s.Hosts))
        {
            if (owners.TryGetValue(host, out var owner))
            {
                errors.Add(new(origin, 0, 0, $"host pattern '{host}' is both on the spam list and in '{owner}'"));
            }
        }

        var channelNames = new Dictionary<string, ReferrerEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in Entries)
        {
            if (entry.Source is null || !SourceCatalog.IsChannelMedium(entry.Medium))
            {
                continue;
            }

            if (channelNames.TryGetValue(entry.Source, out var other) && other.Medium != entry.Medium)
            {
                errors.Add(At(entry, $"source '{entry.Source}' is listed as both {other.Medium.ToWireName()} and {entry.Medium.ToWireName()}: the channel rules could not tell which"));
            }

            channelNames.TryAdd(entry.Source, entry);
        }

        var names = new HashSet<string>(Entries.Select(e => e.Source).OfType<string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in Aliases)
        {
            if (!names.Contains(target))
            {
                var (o, line, column) = newAliases.TryGetValue(alias, out var a) ? (origin, a.Mark.Line, a.Mark.Column) : (BuiltInOrigin, 0, 0);
                errors.Add(new(o, line, column, $"alias '{alias}' names source '{target}', which no entry has"));
            }
        }
    }

    // ---- Reading one file ----------------------------------------------------------------------------

    private static readonly string[] EntryKeys = ["id", "source", "medium", "keywords", "platform", "campaign_medium", "hosts", "remove"];

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex LabelRegex();

    [GeneratedRegex(@"^[A-Za-z0-9_.\-\[\]]{1,32}$")]
    private static partial Regex ParameterRegex();

    [GeneratedRegex(@"^/[A-Za-z0-9._~!$&'()+,;=:@%/-]*$")]
    private static partial Regex PathRegex();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex TokenRegex();

    private sealed record FileEntry(ReferrerEntry Entry, Mark Mark, bool Remove);

    private sealed class FileContent
    {
        public string? Version;
        public List<FileEntry> Entries = [];
        public Dictionary<string, (string Target, Mark Mark)> Aliases = new(StringComparer.OrdinalIgnoreCase);
        public List<SpamList> Spam = [];
        public List<(string Host, Mark Mark)> NotSpam = [];
        public List<ReferrerTableError> Errors = [];
    }

    private static FileContent ReadFile(TextReader reader, string origin, bool isOverride)
    {
        var file = new FileContent();
        var errors = file.Errors;
        void Error(YamlNode node, string message) => errors.Add(new(origin, node.Start.Line, node.Start.Column, message));

        var yaml = new YamlStream();
        try
        {
            yaml.Load(reader);
        }
        catch (YamlException ex)
        {
            errors.Add(new(origin, ex.Start.Line, ex.Start.Column, "not valid YAML: " + (ex.InnerException?.Message ?? ex.Message)));
            throw new ReferrerTableException(errors);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            errors.Add(new(origin, 1, 1, "the file must be a mapping with 'version', 'sources', 'aliases' and 'spam'"));
            throw new ReferrerTableException(errors);
        }

        var patternsSeen = new Dictionary<string, Mark>(StringComparer.OrdinalIgnoreCase);
        var idsSeen = new Dictionary<string, Mark>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            switch (key)
            {
                case "version":
                    file.Version = Scalar(value, Error, "version");
                    if (file.Version is { Length: 0 })
                    {
                        Error(value, "version: must not be empty");
                    }

                    break;
                case "sources":
                    foreach (var item in Sequence(value, Error, "sources"))
                    {
                        if (ReadEntry(item, isOverride, Error, patternsSeen) is { } entry)
                        {
                            if (idsSeen.TryGetValue(entry.Entry.Id, out var first))
                            {
                                Error(item, $"entry '{entry.Entry.Id}' is defined twice (first at line {first.Line}); give one an 'id'");
                            }
                            else
                            {
                                idsSeen[entry.Entry.Id] = item.Start;
                                file.Entries.Add(entry);
                            }
                        }
                    }

                    break;
                case "aliases":
                    if (value is not YamlMappingNode aliases)
                    {
                        Error(value, "aliases: must be a mapping of utm_source spelling to source name");
                        break;
                    }

                    foreach (var (alias, target) in aliases.Children)
                    {
                        var a = Scalar(alias, Error, "alias");
                        var t = Scalar(target, Error, "alias target");
                        if (a is { Length: > 0 } && t is { Length: > 0 })
                        {
                            file.Aliases[a] = (t, alias.Start);
                        }
                    }

                    break;
                case "spam":
                    foreach (var item in Sequence(value, Error, "spam"))
                    {
                        if (ReadSpam(item, Error, patternsSeen) is { } spam)
                        {
                            file.Spam.Add(spam);
                        }
                    }

                    break;
                case "not_spam" when isOverride:
                    foreach (var item in Sequence(value, Error, "not_spam"))
                    {
                        if (Scalar(item, Error, "not_spam") is { Length: > 0 } host)
                        {
                            file.NotSpam.Add((host, item.Start));
                        }
                    }

                    break;
                default:
                    Error(keyNode, $"unknown key '{key}' (expected version, sources, aliases, spam{(isOverride ? ", not_spam" : "")})");
                    break;
            }
        }

        if (!isOverride && string.IsNullOrEmpty(file.Version) && !errors.Any(e => e.Message.StartsWith("version", StringComparison.Ordinal)))
        {
            errors.Add(new(origin, root.Start.Line, root.Start.Column, "version: missing (the table's version is reported in /metrics)"));
        }

        return file;
    }

    private static FileEntry? ReadEntry(YamlNode node, bool isOverride, Action<YamlNode, string> error, Dictionary<string, Mark> patternsSeen)
    {
        if (node is not YamlMappingNode map)
        {
            error(node, "an entry must be a mapping (source, medium, hosts, ...)");
            return null;
        }

        string? id = null, source = null, platform = null, campaignMedium = null;
        ReferrerMedium medium = ReferrerMedium.None;
        YamlNode? mediumNode = null, keywordsNode = null, hostsNode = null, platformNode = null, campaignMediumNode = null;
        var remove = false;
        var keywords = new List<string>();
        var hosts = new List<string>();
        var ok = true;

        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            switch (key)
            {
                case "id":
                    id = Scalar(value, error, "id");
                    if (id is not null && !TokenRegex().IsMatch(id))
                    {
                        error(value, $"id: '{id}' must be lower-case letters, digits, '-' or '_'");
                        ok = false;
                    }

                    break;
                case "source":
                    source = Scalar(value, error, "source");
                    if (source is not null && (source.Length is 0 or > 64 || source != source.Trim() || !source.Equals(source.ToLowerInvariant(), StringComparison.Ordinal)))
                    {
                        error(value, $"source: '{source}' must be a lower-case name of 1 to 64 characters without surrounding spaces");
                        ok = false;
                    }

                    break;
                case "medium":
                    mediumNode = value;
                    var m = Scalar(value, error, "medium");
                    if (m is not null && !ReferrerMediumNames.TryParse(m, out medium))
                    {
                        error(value, $"medium: '{m}' is not one of search, social, email, video, shopping, ai, paid, referral");
                        ok = false;
                    }

                    break;
                case "keywords":
                    keywordsNode = value;
                    foreach (var k in Sequence(value, error, "keywords"))
                    {
                        var p = Scalar(k, error, "keyword parameter");
                        if (p is null || !ParameterRegex().IsMatch(p))
                        {
                            error(k, $"keywords: '{p}' is not a query parameter name (letters, digits, '_', '-', '.', at most 32)");
                            ok = false;
                        }
                        else
                        {
                            keywords.Add(p);
                        }
                    }

                    break;
                case "platform":
                    platformNode = value;
                    platform = Scalar(value, error, "platform");
                    if (platform is not null && !TokenRegex().IsMatch(platform))
                    {
                        error(value, $"platform: '{platform}' must be lower-case letters, digits, '-' or '_' (as in campaign.click_platform)");
                        ok = false;
                    }

                    break;
                case "campaign_medium":
                    campaignMediumNode = value;
                    campaignMedium = Scalar(value, error, "campaign_medium");
                    if (campaignMedium is not null && !TokenRegex().IsMatch(campaignMedium))
                    {
                        error(value, $"campaign_medium: '{campaignMedium}' must be a lower-case medium such as display or cpc");
                        ok = false;
                    }

                    break;
                case "hosts":
                    hostsNode = value;
                    ok &= ReadHosts(value, error, "host pattern", patternsSeen, hosts);

                    break;
                case "remove" when isOverride:
                    remove = Scalar(value, error, "remove") is "true" or "yes";
                    break;
                default:
                    error(keyNode, $"unknown key '{key}' in an entry (expected {string.Join(", ", EntryKeys.Where(k => isOverride || k != "remove"))})");
                    ok = false;
                    break;
            }
        }

        if (mediumNode is null)
        {
            if (!remove || id is null)
            {
                error(map, "medium: missing");
                return null;
            }
        }

        if (source is null && id is null)
        {
            error(map, "an entry needs a 'source' (or, to report the referrer host itself, an 'id')");
            return null;
        }

        var key2 = id ?? $"{medium.ToWireName()}/{source}";
        if (remove)
        {
            return new FileEntry(new ReferrerEntry(key2, source, medium, [], []), map.Start, Remove: true);
        }

        if (hostsNode is null || (hosts.Count == 0 && ok))
        {
            error(hostsNode ?? map, "hosts: at least one host pattern is needed");
            ok = false;
        }

        if (keywordsNode is not null && medium is not (ReferrerMedium.Search or ReferrerMedium.Shopping or ReferrerMedium.None))
        {
            error(keywordsNode, $"keywords: only search and shopping entries carry a keyword, not {medium.ToWireName()}");
            ok = false;
        }

        if (medium == ReferrerMedium.Paid)
        {
            if (platform is null)
            {
                error(platformNode ?? map, "platform: a paid entry must name its ad platform (e.g. google_ads)");
                ok = false;
            }

            if (campaignMedium is null)
            {
                error(campaignMediumNode ?? map, "campaign_medium: a paid entry must give the campaign medium of its clicks (display or cpc)");
                ok = false;
            }
        }
        else if (medium != ReferrerMedium.None)
        {
            if (platformNode is not null)
            {
                error(platformNode, "platform: only paid entries have an ad platform");
                ok = false;
            }

            if (campaignMediumNode is not null)
            {
                error(campaignMediumNode, "campaign_medium: only paid entries have a campaign medium");
                ok = false;
            }
        }

        if (!ok || medium == ReferrerMedium.None)
        {
            return null;
        }

        var origin = map.Start;
        return new FileEntry(
            new ReferrerEntry(key2, source, medium, keywords, hosts) { Platform = platform, CampaignMedium = campaignMedium, Line = (int)origin.Line },
            origin,
            Remove: false);
    }

    private static SpamList? ReadSpam(YamlNode node, Action<YamlNode, string> error, Dictionary<string, Mark> patternsSeen)
    {
        if (node is not YamlMappingNode map)
        {
            error(node, "a spam entry must be a mapping (reason, hosts)");
            return null;
        }

        string? reason = null;
        var hosts = new List<string>();
        var ok = true;
        foreach (var (keyNode, value) in map.Children)
        {
            switch ((keyNode as YamlScalarNode)?.Value)
            {
                case "reason":
                    reason = Scalar(value, error, "reason");
                    if (reason is not null && !TokenRegex().IsMatch(reason))
                    {
                        error(value, $"reason: '{reason}' must be lower-case letters, digits, '-' or '_' (it is a metric label)");
                        ok = false;
                    }

                    break;
                case "hosts":
                    ok &= ReadHosts(value, error, "host", patternsSeen, hosts);

                    break;
                default:
                    error(keyNode, $"unknown key '{(keyNode as YamlScalarNode)?.Value}' in a spam entry (expected reason, hosts)");
                    ok = false;
                    break;
            }
        }

        if (reason is null)
        {
            error(map, "reason: missing");
            return null;
        }

        return ok && hosts.Count > 0 ? new SpamList(reason, hosts) : null;
    }

    /// <summary>Reads a <c>hosts</c> list into <paramref name="hosts"/>: each a valid pattern, listed once in the whole file.</summary>
    private static bool ReadHosts(YamlNode value, Action<YamlNode, string> error, string what, Dictionary<string, Mark> patternsSeen, List<string> hosts)
    {
        var ok = true;
        foreach (var h in Sequence(value, error, "hosts"))
        {
            var pattern = Scalar(h, error, what);
            if (pattern is null)
            {
                ok = false;
            }
            else if (CheckPattern(pattern) is { } problem)
            {
                error(h, $"hosts: '{pattern}' {problem}");
                ok = false;
            }
            else if (!patternsSeen.TryAdd(pattern, h.Start))
            {
                error(h, $"hosts: '{pattern}' is listed twice (first at line {patternsSeen[pattern].Line})");
                ok = false;
            }
            else
            {
                hosts.Add(pattern);
            }
        }
        return ok;
    }

    /// <summary>Why <paramref name="pattern"/> is not a valid host pattern, or null when it is.</summary>
    internal static string? CheckPattern(string pattern)
    {
        if (pattern.Length is 0 or > EnrichmentLimits.MaxHostLength)
        {
            return "must have 1 to 253 characters";
        }

        var slash = pattern.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? pattern : pattern[..slash];
        if (slash >= 0 && (!PathRegex().IsMatch(pattern[slash..]) || pattern.Length == slash + 1))
        {
            return "has a path prefix that is not a plain URL path ('/chat', '/i/grok')";
        }

        if (!host.Equals(host.ToLowerInvariant(), StringComparison.Ordinal))
        {
            return "must be lower case";
        }

        if (host.StartsWith("www.", StringComparison.Ordinal))
        {
            return "must not start with 'www.' (patterns match subdomains, www included)";
        }

        var labels = host.Split('.');
        if (labels.Length < 2)
        {
            return "needs at least two labels ('example.com', 'brand.*')";
        }

        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (i == labels.Length - 1 && label == "*")
            {
                continue; // brand.*
            }

            if (i == 0 && label.Length > 1 && label.EndsWith('*') && !host.EndsWith(".*", StringComparison.Ordinal) && LabelRegex().IsMatch(label[..^1]))
            {
                continue; // mail*.orange.fr
            }

            if (!LabelRegex().IsMatch(label) || label.EndsWith('-'))
            {
                return label.Contains('*', StringComparison.Ordinal)
                    ? "has a '*' where none may be: only 'brand.*' or a prefix of the first label ('mail*.example.fr')"
                    : $"has an invalid label '{label}' (letters, digits and '-' only)";
            }
        }

        return null;
    }

    private static string? Scalar(YamlNode node, Action<YamlNode, string> error, string what)
    {
        if (node is YamlScalarNode scalar)
        {
            return scalar.Value ?? "";
        }

        error(node, $"{what}: must be a single value");
        return null;
    }

    private static IEnumerable<YamlNode> Sequence(YamlNode node, Action<YamlNode, string> error, string what)
    {
        if (node is YamlSequenceNode sequence)
        {
            return sequence.Children;
        }

        error(node, $"{what}: must be a list");
        return [];
    }
}

/// <summary>One entry of the referrer table.</summary>
/// <param name="Id">Key for overrides: the entry's <c>id</c>, else "medium/source" ("search/google").</param>
/// <param name="Source">Name reported as the source; null to report the referrer host.</param>
/// <param name="Medium">Kind of site.</param>
/// <param name="Keywords">Query parameters carrying the search terms (search and shopping).</param>
/// <param name="Hosts">Host patterns.</param>
public sealed record ReferrerEntry(string Id, string? Source, ReferrerMedium Medium, IReadOnlyList<string> Keywords, IReadOnlyList<string> Hosts)
{
    /// <summary>Ad platform (paid entries).</summary>
    public string? Platform { get; init; }

    /// <summary>campaign.medium of an untagged click (paid entries).</summary>
    public string? CampaignMedium { get; init; }

    /// <summary>Line of the entry in its file.</summary>
    public int Line { get; init; }
}

/// <summary>Referrer-spam hosts listed under one reason.</summary>
public sealed record SpamList(string Reason, IReadOnlyList<string> Hosts);

/// <summary>One problem of a referrer table file.</summary>
public readonly record struct ReferrerTableError(string Origin, long Line, long Column, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Line > 0 ? $"{Origin}:{Line}:{Column}: {Message}" : $"{Origin}: {Message}";
}

/// <summary>A referrer table file that cannot be used; <see cref="Exception.Message"/> lists every problem with its line.</summary>
public sealed class ReferrerTableException(IReadOnlyList<ReferrerTableError> errors)
    : FormatException("Invalid referrer table:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    /// <summary>The problems found, in file order.</summary>
    public IReadOnlyList<ReferrerTableError> Errors { get; } = errors;
}
