using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>Thrown when a rules file cannot be used; the message lists every problem found.</summary>
public sealed class StageRulesException(string message) : Exception(message);

/// <summary>
/// Evaluates the stage rules for one touch. Pure: no I/O, no clock; safe to share between threads.
/// </summary>
public sealed class StageEngine
{
    private readonly StageRule[] _rules;

    public StageEngine(IEnumerable<StageRule> rules) => _rules = [.. rules];

    public IReadOnlyList<StageRule> Rules => _rules;

    /// <summary>The rules that ship with the product (see processor/Journeys/stage-rules.default.json).</summary>
    public static StageEngine CreateDefault()
    {
        using var stream = typeof(StageEngine).Assembly.GetManifestResourceStream("stage-rules.default.json")
            ?? throw new InvalidOperationException("The default stage rules are missing from the assembly.");
        return Parse(stream, "default rules");
    }

    /// <summary>Loads and validates a rules file; throws <see cref="StageRulesException"/> naming each problem.</summary>
    public static StageEngine Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    public static StageEngine Parse(Stream json, string sourceName)
    {
        StageRuleSet? set;
        try
        {
            set = JsonSerializer.Deserialize(json, JourneysJsonContext.Default.StageRuleSet);
        }
        catch (JsonException ex)
        {
            throw new StageRulesException($"{sourceName}: not a valid rules file: {ex.Message}");
        }
        if (set is null || set.Rules.Count == 0)
        {
            throw new StageRulesException($"{sourceName}: no rules");
        }
        var errors = new List<string>();
        var compiled = new List<StageRule>(set.Rules.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < set.Rules.Count; i++)
        {
            var rule = StageRule.Compile(set.Rules[i], i, errors);
            if (!string.IsNullOrEmpty(rule.Id) && !ids.Add(rule.Id))
            {
                errors.Add($"rule '{rule.Id}': duplicate id");
            }
            compiled.Add(rule);
        }
        if (errors.Count > 0)
        {
            throw new StageRulesException($"{sourceName}: {string.Join("; ", errors)}");
        }
        return new StageEngine(compiled);
    }

    /// <summary>
    /// The rules that fire for this touch and the stage they point to (the furthest one), or null
    /// when none fires.
    /// </summary>
    public (string? Stage, double Points, List<string> Reasons) Evaluate(in RuleInput input)
    {
        string? stage = null;
        double points = 0;
        var reasons = new List<string>(4);
        foreach (var rule in _rules)
        {
            if (!rule.Matches(input))
            {
                continue;
            }
            reasons.Add(rule.Id);
            points += rule.Points;
            if (JourneyStages.Rank(rule.Stage) > JourneyStages.Rank(stage))
            {
                stage = rule.Stage;
            }
        }
        return (stage, points, reasons);
    }
}
