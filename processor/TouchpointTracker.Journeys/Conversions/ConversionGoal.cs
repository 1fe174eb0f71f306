using System.Text.RegularExpressions;

namespace TouchpointTracker.Journeys.Conversions;

/// <summary>What a goal of the rules file listens to.</summary>
public enum GoalKind
{
    /// <summary>A page view whose path matches.</summary>
    Pageview,
    /// <summary>A custom event with one of the names.</summary>
    Event,
    /// <summary>A form submission (the tag's <c>form_submit</c>) on a page whose path matches.</summary>
    FormSubmit,
    /// <summary>An offline event (from the offline events API) of one of the types.</summary>
    Offline,
}

/// <summary>
/// A compiled goal (<c>goals:</c> of the rules file): when its condition holds the touch produces a conversion of
/// <see cref="Type"/>, with the goal's fixed value when it has one, else the touch's <c>value</c> property.
/// Immutable, shared between threads.
/// </summary>
public sealed class ConversionGoal
{
    internal ConversionGoal(string id, string type, GoalKind kind, Regex? path, HashSet<string>? names,
        (string Name, Regex Pattern)[] props, double? value, string? currency, RuleRepeat repeat)
    {
        Id = id;
        Type = type;
        Kind = kind;
        Path = path;
        Names = names;
        Props = props;
        Value = value;
        Currency = currency;
        Repeat = repeat;
    }

    public string Id { get; }
    public string Type { get; }
    public GoalKind Kind { get; }
    public double? Value { get; }
    public string? Currency { get; }
    /// <summary>How often the goal may convert: a page view goal once per session by default (a thank-you page reloaded).</summary>
    public RuleRepeat Repeat { get; }
    internal Regex? Path { get; }
    internal HashSet<string>? Names { get; }
    internal (string Name, Regex Pattern)[] Props { get; }

    /// <summary>The key under which the repeat limit is remembered (beside the rules' ids, which cannot start so).</summary>
    internal string FiredKey => "goal:" + Id;

    internal bool Matches(Contracts.Touchpoint tp)
    {
        switch (Kind)
        {
            case GoalKind.Pageview:
                if (tp.Type != "pageview" || !PathMatches(tp))
                {
                    return false;
                }
                break;
            case GoalKind.Event:
                if (tp.Type != "event" || tp.Name is null || !Names!.Contains(tp.Name))
                {
                    return false;
                }
                break;
            case GoalKind.FormSubmit:
                if (tp.Type != "event" || tp.Name != "form_submit" || !PathMatches(tp))
                {
                    return false;
                }
                break;
            case GoalKind.Offline:
                if (tp.Type != "offline" || tp.Name is null || !Names!.Contains(tp.Name))
                {
                    return false;
                }
                break;
        }
        foreach (var (name, pattern) in Props)
        {
            if (JsonProps.Text(tp.Props, name) is not { } text || !Signals.PathGroups.SafeIsMatch(pattern, text))
            {
                return false;
            }
        }
        return true;
    }

    private bool PathMatches(Contracts.Touchpoint tp) =>
        !string.IsNullOrEmpty(tp.Page.Path) && Signals.PathGroups.SafeIsMatch(Path!, tp.Page.Path);
}

/// <summary>The conversion types the product knows; a goal may name its own (lower-case letters, digits, underscores).</summary>
public static class ConversionTypes
{
    public const string Lead = "lead";
    public const string Signup = "signup";
    public const string Purchase = "purchase";
    public const string Call = "call";
    public const string Meeting = "meeting";
    public const string Opportunity = "opportunity";
    public const string Won = "won";
    public const string Refund = "refund";

    public static IReadOnlyList<string> Known { get; } = [Lead, Signup, Purchase, Call, Meeting, Opportunity, Won, Refund];
}
