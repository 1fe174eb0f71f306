using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>One Dockerfile instruction, continuation lines joined.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    /// <summary>The arguments as a JSON array (exec form), or null for the shell form.</summary>
    public IReadOnlyList<string>? ExecForm(string? after = null)
    {
        var text = Arguments;
        if (after is not null)
        {
            var at = text.IndexOf(after, StringComparison.Ordinal);
            if (at < 0)
            {
                return null;
            }
            text = text[(at + after.Length)..];
        }
        text = text.Trim();
        if (!text.StartsWith('['))
        {
            return null;
        }
        return JsonSerializer.Deserialize<List<string>>(text);
    }

    /// <summary>Flags (<c>--from=build</c>) and the remaining words of COPY-like instructions.</summary>
    public (IReadOnlyDictionary<string, string> Flags, IReadOnlyList<string> Words) Split()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var words = new List<string>();
        foreach (var word in Dockerfile.Words(Arguments))
        {
            if (words.Count == 0 && word.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                flags[eq < 0 ? word[2..] : word[2..eq]] = eq < 0 ? "" : word[(eq + 1)..];
            }
            else
            {
                words.Add(word);
            }
        }
        return (flags, words);
    }
}

/// <summary>A build stage: its base image (ARG defaults substituted), name and instructions.</summary>
public sealed class DockerStage
{
    public DockerStage(string image, string? name, int index)
    {
        Image = image;
        Name = name;
        Index = index;
    }

    public string Image { get; }
    public string? Name { get; }
    public int Index { get; }
    public List<DockerInstruction> Instructions { get; } = [];

    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    /// <summary>The variables ENV sets in this stage.</summary>
    public IReadOnlyDictionary<string, string> Env
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var i in All("ENV"))
            {
                var words = Dockerfile.Words(i.Arguments).ToList();
                if (words.Count >= 1 && !words[0].Contains('=', StringComparison.Ordinal))
                {
                    env[words[0]] = string.Join(' ', words.Skip(1)); // legacy "ENV key value"
                    continue;
                }
                foreach (var w in words)
                {
                    var eq = w.IndexOf('=', StringComparison.Ordinal);
                    Assert.That(eq, Is.GreaterThan(0), $"line {i.Line}: ENV word '{w}' is not key=value");
                    env[w[..eq]] = w[(eq + 1)..];
                }
            }
            return env;
        }
    }

    public override string ToString() => Name ?? $"stage {Index} ({Image})";
}

/// <summary>A small Dockerfile parser: enough for infra/docker/*.Dockerfile.</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(string path, IReadOnlyList<DockerStage> stages, IReadOnlyDictionary<string, string> args)
    {
        Path = path;
        Stages = stages;
        GlobalArgs = args;
    }

    public string Path { get; }
    public IReadOnlyList<DockerStage> Stages { get; }
    public IReadOnlyDictionary<string, string> GlobalArgs { get; }
    public DockerStage Final => Stages[^1];

    public DockerStage? Stage(string name) => Stages.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    public static Dockerfile Load(string repoRelativePath)
    {
        var lines = Repo.Read(repoRelativePath).Split('\n');
        var stages = new List<DockerStage>();
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        var sb = new StringBuilder();
        var start = 0;
        for (var n = 0; n < lines.Length; n++)
        {
            var raw = lines[n].TrimEnd('\r');
            var trimmed = raw.Trim();
            if (trimmed.StartsWith('#') || (trimmed.Length == 0 && sb.Length == 0))
            {
                continue; // comments (and parser directives), also inside continuations
            }
            if (sb.Length == 0)
            {
                start = n + 1;
            }
            if (trimmed.EndsWith('\\'))
            {
                sb.Append(trimmed[..^1]).Append(' ');
                continue;
            }
            sb.Append(trimmed);
            var text = sb.ToString().Trim();
            sb.Clear();
            if (text.Length == 0)
            {
                continue;
            }
            var space = text.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? text : text[..space]).ToUpperInvariant();
            var rest = space < 0 ? "" : text[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var words = Words(rest).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                var image = Substitute(words[0], args);
                var name = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                stages.Add(new DockerStage(image, name, stages.Count));
                continue;
            }
            if (stages.Count == 0)
            {
                Assert.That(keyword, Is.EqualTo("ARG"), $"{repoRelativePath}:{start}: only ARG may come before the first FROM");
                var eq = rest.IndexOf('=', StringComparison.Ordinal);
                args[eq < 0 ? rest : rest[..eq]] = eq < 0 ? "" : rest[(eq + 1)..];
                continue;
            }
            stages[^1].Instructions.Add(new DockerInstruction(keyword, rest, start));
        }
        Assert.That(sb.ToString().Trim(), Is.Empty, $"{repoRelativePath}: the last instruction ends with a line continuation");
        Assert.That(stages, Is.Not.Empty, $"{repoRelativePath} has no FROM");
        return new Dockerfile(repoRelativePath, stages, args);
    }

    private static string Substitute(string text, IReadOnlyDictionary<string, string> args) =>
        VariableReference().Replace(text, m =>
        {
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            Assert.That(args.TryGetValue(name, out var value), Is.True, $"FROM uses ${name}, which no ARG before it defines");
            return value!;
        });

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariableReference();

    /// <summary>Whitespace-separated words; double or single quotes group.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var sb = new StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var c in text)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    sb.Append(c);
                }
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                any = true;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0 || any)
                {
                    yield return sb.ToString();
                }
                sb.Clear();
                any = false;
                continue;
            }
            sb.Append(c);
        }
        if (sb.Length > 0 || any)
        {
            yield return sb.ToString();
        }
    }
}

/// <summary>.dockerignore semantics for the patterns this repository uses (**, *, ?, leading !).</summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude, string Text)> _rules = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().TrimStart('/').TrimEnd('/');
            _rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude, line));
        }
    }

    public IReadOnlyList<string> Patterns => _rules.Select(r => r.Text).ToList();

    /// <summary>Whether a context-relative path is left out of the build context (the last matching rule wins; a rule on a folder covers what is below it).</summary>
    public bool Excludes(string path)
    {
        path = path.Trim('/');
        var excluded = false;
        foreach (var (pattern, exclude, _) in _rules)
        {
            if (Prefixes(path).Any(pattern.IsMatch))
            {
                excluded = exclude;
            }
        }
        return excluded;
    }

    private static IEnumerable<string> Prefixes(string path)
    {
        var parts = path.Split('/');
        for (var n = 1; n <= parts.Length; n++)
        {
            yield return string.Join('/', parts.Take(n));
        }
    }

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                {
                    i++;
                    sb.Append("(?:.*/)?");
                }
                else
                {
                    sb.Append(".*");
                }
            }
            else if (c == '*')
            {
                sb.Append("[^/]*");
            }
            else if (c == '?')
            {
                sb.Append("[^/]");
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }
        return sb.ToString();
    }
}
