using System.Text;
using System.Text.RegularExpressions;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>One nginx directive: name, arguments, block (for <c>http { }</c>, <c>location { }</c>...).</summary>
public sealed class NginxDirective
{
    public NginxDirective(string name, IReadOnlyList<string> args, int line, NginxDirective? parent, IReadOnlyList<string> comments)
    {
        Name = name;
        Args = args;
        Line = line;
        Parent = parent;
        Comments = comments;
    }

    public string Name { get; }
    public IReadOnlyList<string> Args { get; }
    public int Line { get; }
    public NginxDirective? Parent { get; }

    /// <summary>The comment lines right above the directive.</summary>
    public IReadOnlyList<string> Comments { get; }

    /// <summary>Children of a block directive; null for a simple one.</summary>
    public List<NginxDirective>? Block { get; internal set; }

    public IEnumerable<NginxDirective> Children(string name) => (Block ?? []).Where(d => d.Name == name);

    public NginxDirective? Child(string name) => Children(name).FirstOrDefault();

    public NginxDirective Only(string name)
    {
        var found = Children(name).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"one '{name}' expected in '{Describe()}' (line {Line})");
        return found[0];
    }

    /// <summary>
    /// The directives named <paramref name="name"/> that apply here under nginx's inheritance: those of the
    /// innermost level that has any (a level that sets e.g. one proxy_set_header inherits none of them).
    /// </summary>
    public IReadOnlyList<NginxDirective> Effective(string name)
    {
        for (var level = this; level is not null; level = level.Parent)
        {
            var here = level.Children(name).ToList();
            if (here.Count > 0)
            {
                return here;
            }
        }
        return [];
    }

    /// <summary>Every directive below this one, depth first.</summary>
    public IEnumerable<NginxDirective> Descendants()
    {
        foreach (var child in Block ?? [])
        {
            yield return child;
            foreach (var d in child.Descendants())
            {
                yield return d;
            }
        }
    }

    public string Describe() => Args.Count == 0 ? Name : $"{Name} {string.Join(' ', Args)}";

    public override string ToString() => Describe();
}

/// <summary>A small nginx configuration parser: enough for the files in infra/nginx.</summary>
public static class NginxConf
{
    /// <summary>The root: a pseudo-directive whose block is the main context.</summary>
    public static NginxDirective Parse(string text)
    {
        var root = new NginxDirective("(main)", [], 0, null, []) { Block = [] };
        var stack = new Stack<NginxDirective>();
        stack.Push(root);
        var words = new List<string>();
        var pendingComments = new List<string>();
        var line = 1;
        var startLine = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
                if (words.Count == 0 && pendingComments.Count > 0 && i < text.Length && text[i] == '\n')
                {
                    pendingComments.Clear(); // a blank line ends a comment block
                }
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '#')
            {
                var end = text.IndexOf('\n', i);
                end = end < 0 ? text.Length : end;
                if (words.Count == 0)
                {
                    pendingComments.Add(text[(i + 1)..end].Trim());
                }
                i = end;
                continue;
            }
            if (c is ';' or '{' or '}')
            {
                i++;
                if (c == '}')
                {
                    Assert.That(words, Is.Empty, $"line {line}: '{string.Join(' ', words)}' before '}}' lacks a ';'");
                    Assert.That(stack, Has.Count.GreaterThan(1), $"line {line}: unbalanced '}}'");
                    stack.Pop();
                    pendingComments.Clear();
                    continue;
                }
                Assert.That(words, Is.Not.Empty, $"line {line}: '{c}' without a directive");
                var parent = stack.Peek();
                var directive = new NginxDirective(words[0], words.Skip(1).ToList(), startLine, parent, pendingComments.ToList());
                parent.Block!.Add(directive);
                words.Clear();
                pendingComments.Clear();
                if (c == '{')
                {
                    directive.Block = [];
                    stack.Push(directive);
                }
                continue;
            }
            if (words.Count == 0)
            {
                startLine = line;
            }
            words.Add(ReadWord(text, ref i, ref line));
        }
        Assert.That(words, Is.Empty, $"unterminated directive '{string.Join(' ', words)}' at the end");
        Assert.That(stack, Has.Count.EqualTo(1), "unbalanced '{'");
        return root;
    }

    private static string ReadWord(string text, ref int i, ref int line)
    {
        var sb = new StringBuilder();
        if (text[i] is '"' or '\'')
        {
            var quote = text[i++];
            while (i < text.Length && text[i] != quote)
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                    sb.Append(text[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var x => x });
                }
                else
                {
                    if (text[i] == '\n')
                    {
                        line++;
                    }
                    sb.Append(text[i]);
                }
                i++;
            }
            i++; // closing quote
            return sb.ToString();
        }
        while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ';' and not '{' and not '}')
        {
            sb.Append(text[i]);
            i++;
        }
        return sb.ToString();
    }

    /// <summary>
    /// The location nginx picks for a URI path among a server's locations: an exact match (<c>=</c>) first,
    /// then the longest prefix if it is <c>^~</c>, then the first matching regex (<c>~</c>, <c>~*</c>) in
    /// file order, then the longest prefix.
    /// </summary>
    public static NginxDirective? SelectLocation(NginxDirective server, string path)
    {
        var locations = server.Children("location").ToList();
        foreach (var l in locations)
        {
            if (l.Args is ["=", var exact] && exact == path)
            {
                return l;
            }
        }
        var prefix = locations
            .Select(l => l.Args switch
            {
                ["^~", var p] => (Location: l, Prefix: p, Stop: true),
                [var p] => (Location: l, Prefix: p, Stop: false),
                _ => (Location: l, Prefix: (string?)null, Stop: false),
            })
            .Where(x => x.Prefix is not null && path.StartsWith(x.Prefix, StringComparison.Ordinal))
            .OrderByDescending(x => x.Prefix!.Length)
            .FirstOrDefault();
        if (prefix.Location is not null && prefix.Stop)
        {
            return prefix.Location;
        }
        foreach (var l in locations)
        {
            if (l.Args is [var op, var pattern] && op is "~" or "~*")
            {
                var options = op == "~*" ? RegexOptions.IgnoreCase : RegexOptions.None;
                if (Regex.IsMatch(path, pattern, options | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))
                {
                    return l;
                }
            }
        }
        return prefix.Location;
    }

    /// <summary>Bytes of an nginx size ("64k", "1m", "512").</summary>
    public static long Size(string value)
    {
        var m = Regex.Match(value, "^([0-9]+)([kKmMgG]?)$");
        Assert.That(m.Success, Is.True, $"'{value}' is not an nginx size");
        var n = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[2].Value.ToLowerInvariant() switch
        {
            "k" => n * 1024,
            "m" => n * 1024 * 1024,
            "g" => n * 1024 * 1024 * 1024,
            _ => n,
        };
    }
}
