namespace TouchpointTracker.Attribution;

/// <summary>
/// One touch of a path: the key of the dimension being attributed (an index given by <see cref="AttributionBuilder.Key"/>),
/// its instant in UTC ticks, and whether its channel is <c>Direct</c> (for <see cref="AttributionModel.LastNonDirect"/>,
/// whatever the dimension).
/// </summary>
public readonly record struct Touch(int Key, long Ticks, bool Direct);

/// <summary>One conversion: its instant in UTC ticks, how many conversions it counts for (1 for one order or lead) and its value.</summary>
public readonly record struct Conversion(long Ticks, double Count, double Value);

/// <summary>
/// The window and the time-decay half-life. <see cref="Lookback"/>: a touch belongs to a conversion's path when
/// <c>conversion − lookback ≤ touch ≤ conversion</c>.
/// </summary>
public sealed record AttributionSettings(TimeSpan Lookback, TimeSpan HalfLife)
{
    public static AttributionSettings Default { get; } = new(TimeSpan.FromDays(30), TimeSpan.FromDays(7));
}
