using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>
/// A read-only view of a YAML node (YamlDotNet's representation model), with paths in failure messages,
/// merge keys (<c>&lt;&lt;: *anchor</c>, as docker-compose resolves them) and access to scalar styles
/// (Kubernetes wants strings where a plain <c>12</c> or <c>true</c> is a number or a boolean).
/// </summary>
public sealed partial class YNode
{
    private readonly YamlNode _node;

    private YNode(YamlNode node, string path)
    {
        _node = node;
        Path = path;
    }

    /// <summary>Where this node is, for messages: <c>file#doc.key[0].key</c>.</summary>
    public string Path { get; }

    public static IReadOnlyList<YNode> LoadAll(string repoRelativePath)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(Repo.Read(repoRelativePath)))
        {
            stream.Load(reader);
        }
        return stream.Documents
            .Select((d, i) => new YNode(d.RootNode, $"{repoRelativePath}#{i}"))
            .Where(n => !(n._node is YamlScalarNode { Value: null or "" }))
            .ToList();
    }

    public static YNode Load(string repoRelativePath)
    {
        var docs = LoadAll(repoRelativePath);
        Assert.That(docs, Has.Count.EqualTo(1), $"{repoRelativePath} should hold one YAML document");
        return docs[0];
    }

    public bool IsMapping => _node is YamlMappingNode;
    public bool IsSequence => _node is YamlSequenceNode;
    public bool IsScalar => _node is YamlScalarNode;

    /// <summary>The scalar's text, or null for a mapping or sequence.</summary>
    public string? Scalar => (_node as YamlScalarNode)?.Value;

    /// <summary>The scalar's text; fails the test when this is not a scalar.</summary>
    public string Str => Scalar ?? throw new AssertionException($"{Path} should be a scalar");

    public int Number => int.TryParse(Str, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)
        ? v
        : throw new AssertionException($"{Path} should be an integer (got '{Str}')");

    /// <summary>A YAML null: nothing after the key, <c>~</c> or a plain <c>null</c>.</summary>
    public bool IsNull =>
        _node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>A plain (unquoted) scalar that YAML reads as a number, boolean or null rather than a string.</summary>
    public bool IsPlainNonString =>
        _node is YamlScalarNode { Style: ScalarStyle.Plain } s && (s.Value is null || NonStringPlain().IsMatch(s.Value));

    [GeneratedRegex(@"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|no|on|off|[-+]?(?:\d[\d_]*)(?:\.\d*)?(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex NonStringPlain();

    /// <summary>The entries of a mapping, merge keys resolved (explicit keys win over merged ones).</summary>
    public IReadOnlyList<KeyValuePair<string, YNode>> Entries
    {
        get
        {
            if (_node is not YamlMappingNode map)
            {
                return [];
            }
            var result = new List<KeyValuePair<string, YNode>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            YamlNode? merge = null;
            foreach (var (k, v) in map.Children)
            {
                var key = ((YamlScalarNode)k).Value ?? "";
                if (key == "<<")
                {
                    merge = v;
                    continue;
                }
                seen.Add(key);
                result.Add(new(key, new YNode(v, $"{Path}.{key}")));
            }
            if (merge is not null)
            {
                var sources = merge is YamlSequenceNode seq ? seq.Children.ToList() : [merge];
                foreach (var source in sources)
                {
                    foreach (var entry in new YNode(source, $"{Path}.<<").Entries)
                    {
                        if (seen.Add(entry.Key))
                        {
                            result.Add(new(entry.Key, new YNode(entry.Value._node, $"{Path}.{entry.Key}")));
                        }
                    }
                }
            }
            return result;
        }
    }

    public IEnumerable<string> Keys => Entries.Select(e => e.Key);

    /// <summary>The value of a mapping key, or null.</summary>
    public YNode? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>The value of a mapping key; fails the test when it is absent.</summary>
    public YNode Get(string key) => this[key] ?? throw new AssertionException($"{Path}.{key} is missing");

    /// <summary>The value at a path of mapping keys, or null.</summary>
    public YNode? At(params string[] keys)
    {
        YNode? node = this;
        foreach (var key in keys)
        {
            node = node?[key];
        }
        return node;
    }

    public IReadOnlyList<YNode> Items =>
        _node is YamlSequenceNode seq ? seq.Children.Select((c, i) => new YNode(c, $"{Path}[{i}]")).ToList() : [];

    /// <summary>A string or a sequence of strings, as a list.</summary>
    public IReadOnlyList<string> Strings => IsSequence ? Items.Select(i => i.Str).ToList() : [Str];

    public override string ToString() => Path;
}
