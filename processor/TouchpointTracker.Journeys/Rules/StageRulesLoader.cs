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
    private static readonly HashSet<string> TouchTypes = new(StringComparer.Ordinal) { "pageview", "event", "engagement", "identify", "offline" };

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
        var engine = Compile(doc, sourceName, errors, GoalLines(text));
        if (errors.Count > 0 || engine is null)
        {
            throw new StageRulesException($"{sourceName}: {errors.Count} problem(s): {string.Join("; ", errors)}");
        }
        return engine;
    }

    private static StageEngine? Compile(StageRulesDocument doc, string source, List<string> errors, List<int>? goalLines = null)
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

        var goals = CompileGoals(doc, ids, goalLines, errors);

        return errors.Count > 0 ? null : new StageEngine(source, stages, doc.ForwardOnly, doc.ScoreHalfLifeDays, keywords, pathGroups, rules, bands, searchParams, goals);
    }

    private static readonly System.Text.RegularExpressions.Regex TypeName = new("^[a-z][a-z0-9_]{0,63}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Validates the goals; each problem names the goal, its place and its line.</summary>
    private static List<Conversions.ConversionGoal> CompileGoals(StageRulesDocument doc, HashSet<string> ids, List<int>? lines, List<string> errors)
    {
        var goals = new List<Conversions.ConversionGoal>();
        var goalIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (doc.Goals?.Count ?? 0); i++)
        {
            var g = doc.Goals![i];
            var line = lines is not null && i < lines.Count ? $" (line {lines[i]})" : "";
            var where = (string.IsNullOrWhiteSpace(g?.Id) ? $"goals[{i}]" : $"goals[{i}] '{g.Id}'") + line;
            if (g is null)
            {
                errors.Add($"{where}: empty goal");
                continue;
            }
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(g.Id))
            {
                errors.Add($"{where}: 'id' is required");
            }
            else if (!goalIds.Add(g.Id) || ids.Contains(g.Id))
            {
                errors.Add($"{where}: duplicate id (goal ids must be unique and differ from rule ids)");
            }
            var type = g.Type?.Trim();
            if (string.IsNullOrEmpty(type) || !TypeName.IsMatch(type))
            {
                errors.Add($"{where}: 'type' must be one of {string.Join(", ", Conversions.ConversionTypes.Known.Where(t => t != Conversions.ConversionTypes.Refund))} or a name of your own (lower-case letters, digits, '_'; got '{g.Type}')");
            }
            else if (type == Conversions.ConversionTypes.Refund)
            {
                errors.Add($"{where}: 'type' cannot be refund (refunds come from refund events with the order's id)");
            }
            var given = (g.Pageview is not null ? 1 : 0) + (g.Event is not null ? 1 : 0) + (g.FormSubmit is not null ? 1 : 0) + (g.Offline is not null ? 1 : 0);
            if (given != 1)
            {
                errors.Add($"{where}: give exactly one of 'pageview' (a path regex), 'event' (event names), 'form_submit' (a path regex) or 'offline' (offline event types); got {given}");
            }
            System.Text.RegularExpressions.Regex? path = null;
            var kind = Conversions.GoalKind.Pageview;
            if (g.Pageview is not null || g.FormSubmit is not null)
            {
                kind = g.Pageview is not null ? Conversions.GoalKind.Pageview : Conversions.GoalKind.FormSubmit;
                var pattern = g.Pageview ?? g.FormSubmit!;
                var key = g.Pageview is not null ? "pageview" : "form_submit";
                if (string.IsNullOrWhiteSpace(pattern))
                {
                    errors.Add($"{where}: '{key}' must be a regular expression of the page path ('.' for any page)");
                }
                else if (PathGroups.TryCreate(pattern, out var error) is { } regex)
                {
                    path = regex;
                }
                else
                {
                    errors.Add($"{where}: {key}: '{pattern}' is not a valid regular expression: {error}");
                }
            }
            HashSet<string>? names = null;
            if (g.Event is not null || g.Offline is not null)
            {
                kind = g.Event is not null ? Conversions.GoalKind.Event : Conversions.GoalKind.Offline;
                var list = g.Event ?? g.Offline!;
                var key = g.Event is not null ? "event" : "offline";
                if (list.Count == 0 || list.Any(string.IsNullOrWhiteSpace))
                {
                    errors.Add($"{where}: '{key}' must list one or more names");
                }
                names = new HashSet<string>(list.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()), StringComparer.Ordinal);
            }
            var props = new List<(string, System.Text.RegularExpressions.Regex)>();
            foreach (var (name, pattern) in g.Props ?? [])
            {
                if (string.IsNullOrWhiteSpace(name) || string.IsNullOrEmpty(pattern))
                {
                    errors.Add($"{where}: props: give property names with a regular expression each (got '{name}': '{pattern}')");
                }
                else if (PathGroups.TryCreate(pattern, out var error) is { } regex)
                {
                    props.Add((name, regex));
                }
                else
                {
                    errors.Add($"{where}: props.{name}: '{pattern}' is not a valid regular expression: {error}");
                }
            }
            if (g.Value is { } value && (!double.IsFinite(value) || value < 0 || value > 1e12))
            {
                errors.Add($"{where}: 'value' must be a number from 0 to 1e12 (got {value})");
            }
            var currency = g.Currency?.Trim();
            if (currency is not null && !Conversions.ReportingCurrencies.CurrencyCode().IsMatch(currency))
            {
                errors.Add($"{where}: 'currency' must be an ISO 4217 code of three capital letters (got '{g.Currency}')");
            }
            if (currency is not null && g.Value is null)
            {
                errors.Add($"{where}: 'currency' needs a 'value' (the goal's fixed value)");
            }
            var repeat = g.Repeat?.Trim() switch
            {
                null or "" => kind == Conversions.GoalKind.Pageview ? RuleRepeat.OncePerSession : RuleRepeat.EveryTouch,
                "every_touch" => RuleRepeat.EveryTouch,
                "once_per_session" => RuleRepeat.OncePerSession,
                "once_per_journey" => RuleRepeat.OncePerJourney,
                _ => (RuleRepeat?)null,
            };
            if (repeat is null)
            {
                errors.Add($"{where}: 'repeat' must be every_touch, once_per_session or once_per_journey (got '{g.Repeat}')");
            }
            if (errors.Count == before)
            {
                goals.Add(new Conversions.ConversionGoal(g.Id!.Trim(), type!, kind, path, names, [.. props], g.Value, currency, repeat!.Value));
            }
        }
        return goals;
    }

    /// <summary>The line (1-based) of each item of the top-level <c>goals</c> list, or null when the text cannot be read so.</summary>
    private static List<int>? GoalLines(string text)
    {
        try
        {
            var stream = new YamlDotNet.RepresentationModel.YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode root)
            {
                return null;
            }
            foreach (var (key, value) in root.Children)
            {
                if (key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: "goals" } && value is YamlDotNet.RepresentationModel.YamlSequenceNode items)
                {
                    return [.. items.Children.Select(n => (int)n.Start.Line)];
                }
            }
        }
        catch (YamlException)
        {
        }
        return null;
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
            w.Offline is { Count: > 0 } || w.PathGroup is { Count: > 0 } || w.Path is { Count: > 0 } || w.Channel is { Count: > 0 } || w.Medium is { Count: > 0 } ||
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
        rule.OfflineTypes = ToSet(w.Offline, StringComparer.OrdinalIgnoreCase);
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
