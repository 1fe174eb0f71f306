namespace TouchpointTracker.Attribution;

/// <summary>The attribution models, all computed over the same paths so they can be compared side by side.</summary>
public enum AttributionModel
{
    FirstTouch,
    LastTouch,
    LastNonDirect,
    Linear,
    PositionBased,
    TimeDecay,
    Markov,
    Shapley,
}

/// <summary>Model names as the API spells them (snake_case) and parsing from them.</summary>
public static class AttributionModels
{
    private static readonly string[] Names =
        ["first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "markov", "shapley"];

    /// <summary>Every model, in display order.</summary>
    public static IReadOnlyList<AttributionModel> All { get; } = Enum.GetValues<AttributionModel>();

    /// <summary>The models whose credit for one conversion depends on that conversion's path alone (every model but Markov).</summary>
    public static IReadOnlyList<AttributionModel> PerPath { get; } = [.. All.Where(m => m != AttributionModel.Markov)];

    public static string Name(this AttributionModel model) => Names[(int)model];

    public static bool TryParse(string? name, out AttributionModel model)
    {
        var i = Array.IndexOf(Names, name);
        model = i < 0 ? default : (AttributionModel)i;
        return i >= 0;
    }
}
