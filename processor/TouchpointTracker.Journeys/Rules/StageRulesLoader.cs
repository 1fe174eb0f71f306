using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Signals;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace TouchpointTracker.Journeys.Rules;

/// <summary>
/// Reads a rules file (YAML; JSON is YAML too), validates it and compiles it into a <see cref="StageEngine"/>.
/// Every problem is collected and reported at once, each naming where it is ("rules[3] 'decision.pricing':
/// when.path_group: unknown group 'pricng'"), so a site owner fixes the file in one go.
/// </summary>
public static class StageRulesLoader
{
    public const string DefaultResourceName = "stage-rules.default.yaml";
    public const string DefaultSourceName = "default rules";

    private static readonly string[] AllStages =
        [JourneyStages.Awareness, JourneyStages.Consideration, JourneyStages.Decision, JourneyStages.Retention, JourneyStages.Advocacy];
    private static readonly HashSet<string> TouchTypes = new(StringComparer.Ordinal) { "pageview", "event", "engagement", "identify" };

    public static StageEngine LoadDefault()
    {
        using var stream = typeof(StageEngine).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new InvalidOperationException("The default stage rules are missing from the assembly.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), DefaultSourceName);
    }

    /// <summary>The default rules file's text, for a site owner to copy and edit.</summary>
    public static string DefaultText()
    {
        using var stream = typeof(StageEngine).Assembly.GetManifestResourceStream(DefaultResourceName)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static StageEngine LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StageRulesException($"{path}: cannot read the rules file: {ex.Message}");
        }
        return Parse(text, path);
    }

    public static StageEngine Parse(string text, string sourceName)
    {
        StageRulesDocument? doc;
        try
        {
            var deserializer = new DeserializerBuilder()
                .WithNamingConvention(UnderscoredNamingConvention.Instance)
                .Build();
            doc = deserializer.Deserialize<StageRulesDocument?>(text);
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException is null ? "" : ": " + ex.InnerException.Message;
            throw new StageRulesException($"{sourceName}: line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}{inner}");
        }
        if (doc is null)
        {
            throw new StageRulesException($"{sourceName}: the file is empty");
        }
        var errors = new List<string>();
        var engine = Compile(doc, sourceName, errors);
        if (errors.Count > 0 || engine is null)
        {
            throw new StageRulesException($"{sourceName}: {errors.Count} problem(s): {string.Join("; ", errors)}");
        }
        return engine;
    }

    private static StageEngine? Compile(StageRulesDocument doc, string source, List<string> errors)
    {
        if (doc.Version != 1)
        {
            errors.Add($"version: only version 1 is known (got {doc.Version})");
        }

        // Stages in use, in funnel order.
        var stages = new List<string>();
        foreach (var s in doc.Stages ?? [.. AllStages])
        {
            if (JourneyStages.Rank(s) == 0)
            {
                errors.Add($"stages: '{s}' is not a stage (use {string.Join(", ", AllStages)})");
            }
            else if (!stages.Contains(s))
            {
                stages.Add(s);
            }
        }
        stages.Sort((a, b) => JourneyStages.Rank(a).CompareTo(JourneyStages.Rank(b)));
        if (!stages.Contains(JourneyStages.Awareness))
        {
            errors.Add("stages: awareness is required (every journey starts there)");
        }
        if (doc.ScoreHalfLifeDays < 0)
        {
            errors.Add("score_half_life_days: must be 0 (no decay) or more");
        }

        var keywords = CompileKeywords(doc, errors);
        var pathGroups = CompilePathGroups(doc, errors);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var rules = new List<StageRule>();
        if (doc.Rules is not { Count: > 0 })
        {
            errors.Add("rules: at least one rule is required");
        }
        for (var i = 0; i < (doc.Rules?.Count ?? 0); i++)
        {
            var rule = CompileRule(doc.Rules![i], i, stages, pathGroups, ids, errors);
            if (rule is not null)
            {
                rules.Add(rule);
            }
        }

        var bands = new List<ScoreBand>();
        for (var i = 0; i < (doc.ScoreBands?.Count ?? 0); i++)
        {
            var b = doc.ScoreBands![i];
            var where = string.IsNullOrWhiteSpace(b.Id) ? $"score_bands[{i}]" : $"score_bands[{i}] '{b.Id}'";
            var ok = true;
            if (string.IsNullOrWhiteSpace(b.Id))
            {
                errors.Add($"{where}: 'id' is required");
                ok = false;
            }
            else if (!ids.Add(b.Id))
            {
                errors.Add($"{where}: duplicate id (ids must be unique across rules and bands)");
                ok = false;
            }
            if (!IsStageInUse(b.Stage, stages, where, errors))
            {
                ok = false;
            }
            if (b.MinScore <= 0)
            {
                errors.Add($"{where}: 'min_score' must be above 0");
                ok = false;
            }
            if (ok)
            {
                bands.Add(new ScoreBand(b.Id!, b.Stage!, b.MinScore));
            }
        }

        var searchParams = new List<string>();
        foreach (var name in doc.SiteSearchParams ?? [])
        {
            if (string.IsNullOrWhiteSpace(name) || name.AsSpan().IndexOfAny("&=?# ") >= 0)
            {
                errors.Add($"site_search_params: '{name}' is not a query parameter name");
            }
            else
            {
                searchParams.Add(name.Trim());
            }
        }

        return errors.Count > 0 ? null : new StageEngine(source, stages, doc.ForwardOnly, doc.ScoreHalfLifeDays, keywords, pathGroups, rules, bands, searchParams);
    }

    private static KeywordIntentClassifier CompileKeywords(StageRulesDocument doc, List<string> errors)
    {
        var lists = new List<(KeywordIntent, IEnumerable<string>)>();
        if (doc.BrandTerms is { Count: > 0 } brand)
        {
            lists.Add((KeywordIntent.Branded, brand.Where(t => !string.IsNullOrWhiteSpace(t))));
        }
        foreach (var (name, languages) in doc.KeywordIntents ?? [])
        {
            var intent = KeywordIntentNames.Parse(name);
            if (intent == KeywordIntent.None)
            {
                errors.Add($"keyword_intents: '{name}' is not an intent (use {string.Join(", ", KeywordIntentNames.All)})");
                continue;
            }
            foreach (var (language, words) in languages ?? [])
            {
                if (words is null || words.Count == 0 || words.Any(string.IsNullOrWhiteSpace))
                {
                    errors.Add($"keyword_intents.{name}.{language}: give a list of non-empty words or phrases");
                    continue;
                }
                lists.Add((intent, words));
            }
        }
        return new KeywordIntentClassifier(lists);
    }

    private static PathGroups CompilePathGroups(StageRulesDocument doc, List<string> errors)
    {
        var names = new List<string>();
        var regexes = new List<System.Text.RegularExpressions.Regex>();
        foreach (var (name, patterns) in doc.PathGroups ?? [])
        {
            var where = $"path_groups.{name}";
            if (patterns is not { Count: > 0 })
            {
                errors.Add($"{where}: give at least one regular expression");
                continue;
            }
            var regex = PathGroups.Compile(where, patterns, errors);
            if (regex is not null)
            {
                names.Add(name);
                regexes.Add(regex);
            }
        }
        if (names.Count > 64)
        {
            errors.Add($"path_groups: at most 64 groups (got {names.Count})");
            return PathGroups.Empty;
        }
        return new PathGroups(names, regexes);
    }

    private static StageRule? CompileRule(StageRuleDefinition def, int index, List<string> stages, PathGroups groups, HashSet<string> ids, List<string> errors)
    {
        var where = string.IsNullOrWhiteSpace(def.Id) ? $"rules[{index}]" : $"rules[{index}] '{def.Id}'";
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(def.Id))
        {
            errors.Add($"{where}: 'id' is required");
        }
        else if (!ids.Add(def.Id))
        {
            errors.Add($"{where}: duplicate id");
        }
        var stage = string.IsNullOrWhiteSpace(def.Stage) ? null : def.Stage.Trim();
        if (stage is not null)
        {
            IsStageInUse(stage, stages, where, errors);
        }
        else if (def.Points is null)
        {
            errors.Add($"{where}: give a 'stage', 'points', or both (this rule would do nothing; 'points: 0' for a rule that only records its reason)");
        }
        var repeat = def.Repeat?.Trim() switch
        {
            null or "" or "every_touch" => RuleRepeat.EveryTouch,
            "once_per_session" => RuleRepeat.OncePerSession,
            "once_per_journey" => RuleRepeat.OncePerJourney,
            _ => (RuleRepeat?)null,
        };
        if (repeat is null)
        {
            errors.Add($"{where}: 'repeat' must be every_touch, once_per_session or once_per_journey (got '{def.Repeat}')");
        }
        var w = def.When;
        if (w is null)
        {
            errors.Add($"{where}: 'when' is required (the conditions under which the rule fires)");
            return null;
        }
        var rule = new StageRule(def.Id!, stage, def.Points ?? 0, repeat ?? RuleRepeat.EveryTouch, def.Description);
        return CompileConditions(rule, where, "when", w, groups, errors, 0) && errors.Count == before ? rule : null;
    }

    /// <summary>Nested <c>any</c>/<c>not</c> condition sets go at most this deep.</summary>
    private const int MaxConditionDepth = 3;

    /// <summary>Validates one condition set and sets it on <paramref name="rule"/>; false when it has problems.</summary>
    private static bool CompileConditions(StageRule rule, string where, string at, RuleConditions w, PathGroups groups, List<string> errors, int depth)
    {
        var before = errors.Count;
        var hasCondition = w.FirstTouch is not null || w.SessionStart is not null || w.Type is { Count: > 0 } || w.Event is { Count: > 0 } ||
            w.PathGroup is { Count: > 0 } || w.Path is { Count: > 0 } || w.Channel is { Count: > 0 } || w.Medium is { Count: > 0 } ||
            w.Source is { Count: > 0 } || w.KeywordIntent is { Count: > 0 } || w.CurrentStage is { Count: > 0 } || w.MinSessions is not null ||
            w.MaxSessions is not null || w.MinPages is not null || w.MinSessionPages is not null || w.MinEngagedSeconds is not null ||
            w.MinSessionEngagedSeconds is not null || w.ReturnedWithinDays is not null || w.MinEventsBefore is { Count: > 0 } ||
            w.Props is { Count: > 0 } || w.SiteSearch is not null || w.Any is { Count: > 0 } || w.Not is not null;
        if (!hasCondition)
        {
            errors.Add($"{where}: '{at}' needs at least one condition");
        }

        foreach (var t in w.Type ?? [])
        {
            if (!TouchTypes.Contains(t))
            {
                errors.Add($"{where}: {at}.type: '{t}' is not a touchpoint type (use {string.Join(", ", TouchTypes)})");
            }
        }
        ulong mask = 0;
        foreach (var g in w.PathGroup ?? [])
        {
            var i = groups.IndexOf(g);
            if (i < 0)
            {
                errors.Add($"{where}: {at}.path_group: unknown group '{g}' (known: {string.Join(", ", groups.Names)})");
            }
            else
            {
                mask |= 1UL << i;
            }
        }
        var intents = KeywordIntent.None;
        foreach (var k in w.KeywordIntent ?? [])
        {
            var intent = KeywordIntentNames.Parse(k);
            if (intent == KeywordIntent.None)
            {
                errors.Add($"{where}: {at}.keyword_intent: '{k}' is not an intent (use {string.Join(", ", KeywordIntentNames.All)})");
            }
            intents |= intent;
        }
        foreach (var s in w.CurrentStage ?? [])
        {
            if (JourneyStages.Rank(s) == 0)
            {
                errors.Add($"{where}: {at}.current_stage: '{s}' is not a stage");
            }
        }
        CheckNotNegative(where, "min_sessions", w.MinSessions, errors);
        CheckNotNegative(where, "max_sessions", w.MaxSessions, errors);
        CheckNotNegative(where, "min_pages", w.MinPages, errors);
        CheckNotNegative(where, "min_session_pages", w.MinSessionPages, errors);
        CheckNotNegative(where, "min_engaged_seconds", w.MinEngagedSeconds, errors);
        CheckNotNegative(where, "min_session_engaged_seconds", w.MinSessionEngagedSeconds, errors);
        if (w.ReturnedWithinDays is <= 0)
        {
            errors.Add($"{where}: {at}.returned_within_days must be above 0");
        }
        foreach (var (name, min) in w.MinEventsBefore ?? [])
        {
            if (string.IsNullOrWhiteSpace(name) || min < 1)
            {
                errors.Add($"{where}: {at}.min_events_before: give event names with counts of 1 or more (got '{name}': {min})");
            }
        }
        System.Text.RegularExpressions.Regex? path = null;
        if (w.Path is { Count: > 0 })
        {
            path = PathGroups.Compile($"{where}: {at}.path", w.Path, errors);
        }
        var props = new List<(string, System.Text.RegularExpressions.Regex)>();
        foreach (var (name, pattern) in w.Props ?? [])
        {
            if (string.IsNullOrWhiteSpace(name) || string.IsNullOrEmpty(pattern))
            {
                errors.Add($"{where}: {at}.props: give property names with a regular expression each (got '{name}': '{pattern}')");
                continue;
            }
            if (PathGroups.TryCreate(pattern, out var error) is { } regex)
            {
                props.Add((name, regex));
            }
            else
            {
                errors.Add($"{where}: {at}.props.{name}: '{pattern}' is not a valid regular expression: {error}");
            }
        }
        StageRule[]? any = null;
        StageRule? not = null;
        if (depth >= MaxConditionDepth && (w.Any is not null || w.Not is not null))
        {
            errors.Add($"{where}: {at}: 'any' and 'not' nest at most {MaxConditionDepth} deep");
        }
        else
        {
            if (w.Any is not null)
            {
                if (w.Any.Count == 0)
                {
                    errors.Add($"{where}: {at}.any: give at least one condition set");
                }
                any = new StageRule[w.Any.Count];
                for (var i = 0; i < w.Any.Count; i++)
                {
                    any[i] = new StageRule(rule.Id, null, 0, RuleRepeat.EveryTouch, null);
                    if (w.Any[i] is null)
                    {
                        errors.Add($"{where}: {at}.any[{i}]: empty condition set");
                        continue;
                    }
                    CompileConditions(any[i], where, $"{at}.any[{i}]", w.Any[i], groups, errors, depth + 1);
                }
            }
            if (w.Not is not null)
            {
                not = new StageRule(rule.Id, null, 0, RuleRepeat.EveryTouch, null);
                CompileConditions(not, where, $"{at}.not", w.Not, groups, errors, depth + 1);
            }
        }
        if (errors.Count > before)
        {
            return false;
        }
        rule.FirstTouch = w.FirstTouch;
        rule.SessionStart = w.SessionStart;
        rule.Types = ToSet(w.Type, StringComparer.Ordinal);
        rule.Events = ToSet(w.Event, StringComparer.OrdinalIgnoreCase);
        rule.PathGroupMask = mask;
        rule.Path = path;
        rule.Channels = ToSet(w.Channel, StringComparer.OrdinalIgnoreCase);
        rule.Mediums = ToSet(w.Medium, StringComparer.OrdinalIgnoreCase);
        rule.Sources = ToSet(w.Source, StringComparer.OrdinalIgnoreCase);
        rule.Intents = intents;
        rule.CurrentStages = ToSet(w.CurrentStage, StringComparer.Ordinal);
        rule.MinSessions = w.MinSessions;
        rule.MaxSessions = w.MaxSessions;
        rule.MinPages = w.MinPages;
        rule.MinSessionPages = w.MinSessionPages;
        rule.MinEngagedMs = w.MinEngagedSeconds * 1000L;
        rule.MinSessionEngagedMs = w.MinSessionEngagedSeconds * 1000L;
        rule.ReturnedWithin = w.ReturnedWithinDays is { } d ? TimeSpan.FromDays(d) : null;
        rule.MinEventsBefore = [.. (w.MinEventsBefore ?? []).Select(kv => (kv.Key, kv.Value))];
        rule.Props = [.. props];
        rule.SiteSearch = w.SiteSearch;
        rule.Any = any;
        rule.Not = not;
        return true;
    }

    private static bool IsStageInUse(string? stage, List<string> stages, string where, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(stage) || JourneyStages.Rank(stage) == 0)
        {
            errors.Add($"{where}: 'stage' must be one of {string.Join(", ", AllStages)} (got '{stage}')");
            return false;
        }
        if (!stages.Contains(stage))
        {
            errors.Add($"{where}: stage '{stage}' is not in use (add it to 'stages' or remove the rule)");
            return false;
        }
        return true;
    }

    private static void CheckNotNegative(string where, string name, int? value, List<string> errors)
    {
        if (value is < 0)
        {
            errors.Add($"{where}: when.{name} must be 0 or more");
        }
    }

    private static HashSet<string>? ToSet(List<string>? values, StringComparer comparer) =>
        values is { Count: > 0 } ? new HashSet<string>(values.Select(v => v.Trim()), comparer) : null;
}
