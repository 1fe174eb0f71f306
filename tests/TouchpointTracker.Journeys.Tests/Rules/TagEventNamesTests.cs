using System.Text.RegularExpressions;
using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Journeys.Tests.Rules;

/// <summary>
/// Every event name the tag sends (tag/src) is listened for by a default rule, or is deliberately not a
/// stage signal (the full tag once sent <c>file_download</c> while the rules listened for
/// <c>download</c>, so downloads never counted).
/// </summary>
public sealed partial class TagEventNamesTests
{
    /// <summary>Names the tag sends that feed no stage rule, each with the reason.</summary>
    private static readonly Dictionary<string, string> NotStageSignals = new(StringComparer.Ordinal)
    {
        ["outbound_click"] = "leaving for another site says nothing about buying from this one; kept for reports (where visitors go)",
        ["page_not_found"] = "a broken link is about the site, not the visitor's intent; kept for the site owner's reports",
    };

    // event('name', ...) in any module; the tt('lead') / tt('purchase') commands: `c == 'lead' || c == 'purchase') event(c, ...`.
    [GeneratedRegex(@"\bevent\(\s*(?<arg>[^,)]*)")]
    private static partial Regex EventCall();

    [GeneratedRegex(@"\bc\s*==\s*'(?<name>[a-z0-9_]+)'")]
    private static partial Regex CommandName();

    [GeneratedRegex(@"\brecord\(\s*'(?<type>[a-z_]+)'")]
    private static partial Regex RecordCall();

    /// <summary>Event names sent by the tag's sources, with the file each is sent from.</summary>
    private static List<(string Name, string File)> TagEventNames(out List<string> unknownShapes)
    {
        var names = new List<(string, string)>();
        unknownShapes = [];
        foreach (var path in Directory.EnumerateFiles(Repo.PathOf("tag/src"), "*.js", SearchOption.AllDirectories))
        {
            var file = Repo.Relative(path);
            foreach (var line in File.ReadLines(path))
            {
                if (line.TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }
                foreach (Match call in EventCall().Matches(line))
                {
                    var arg = call.Groups["arg"].Value.Trim();
                    if (arg is "name") // the definition: export const event = (name, props) => ...
                    {
                        continue;
                    }
                    if (arg.Length > 2 && arg[0] is '\'' or '"' && arg[^1] == arg[0])
                    {
                        names.Add((arg[1..^1], file));
                    }
                    else if (arg == "c")
                    {
                        names.AddRange(CommandName().Matches(line).Select(m => (m.Groups["name"].Value, file)));
                    }
                    else if (arg != "'' + a") // tt('track', name): the site's own names, as the page gives them (beacon v2)
                    {
                        unknownShapes.Add($"{file}: event({arg}...");
                    }
                }
            }
        }
        return names;
    }

    [Test]
    public void Every_event_name_the_tag_sends_feeds_a_default_rule_or_is_listed_with_a_reason()
    {
        var engine = StageEngine.CreateDefault();
        var sent = TagEventNames(out var unknownShapes);
        Assert.Multiple(() =>
        {
            Assert.That(unknownShapes, Is.Empty, "event(...) calls whose name this test cannot read: teach it the new shape");
            Assert.That(sent.Select(s => s.Name), Is.SupersetOf(new[] { "file_download", "outbound_click", "form_submit", "lead", "purchase", "page_not_found" }),
                "the names this test is known to find (a parser that finds nothing would pass)");
            foreach (var (name, file) in sent.Distinct())
            {
                Assert.That(engine.EventNames.Contains(name) || NotStageSignals.ContainsKey(name), Is.True,
                    $"{file} sends '{name}', which no default rule listens for: name it in processor/TouchpointTracker.Journeys/stage-rules.default.yaml, or list it in {nameof(NotStageSignals)} with the reason");
            }
            foreach (var name in NotStageSignals.Keys)
            {
                Assert.That(engine.EventNames, Does.Not.Contain(name), $"'{name}' is listed as not a stage signal but a rule listens for it");
                Assert.That(sent.Select(s => s.Name), Does.Contain(name), $"'{name}' is listed but the tag no longer sends it");
            }
        });
    }

    [Test]
    public void Every_touch_type_the_tag_records_is_one_the_rules_know()
    {
        var types = Directory.EnumerateFiles(Repo.PathOf("tag/src"), "*.js", SearchOption.AllDirectories)
            .SelectMany(f => RecordCall().Matches(File.ReadAllText(f)).Select(m => m.Groups["type"].Value))
            .Distinct().ToList();
        Assert.That(types, Is.SupersetOf(new[] { "pageview", "event", "engagement" })); // identify is record(c, ...) in api.js
        // event is recorded through event(); engagement carries engaged_ms (engaged-time rules) and scroll_pct.
        Assert.That(types, Is.SubsetOf(new[] { "pageview", "event", "engagement", "identify" }), "a type the rules' when.type cannot name");
    }
}
