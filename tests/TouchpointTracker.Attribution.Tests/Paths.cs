namespace TouchpointTracker.Attribution.Tests;

/// <summary>Builds paths by name for the tests: "Email@-10" is an Email touch 10 days before the conversion.</summary>
internal static class Paths
{
    public static readonly DateTime Conversion = new(2026, 3, 31, 12, 0, 0, DateTimeKind.Utc);

    public static Touch[] Build(AttributionBuilder b, params (string Key, double DaysBefore)[] touches) =>
        [.. touches.Select(t => new Touch(b.Key(t.Key), Conversion.AddDays(-t.DaysBefore).Ticks, t.Key == "Direct"))];

    /// <summary>Touches one hour apart ending one hour before the conversion, for models that ignore time.</summary>
    public static Touch[] Keys(AttributionBuilder b, params string[] keys) =>
        [.. keys.Select((k, i) => new Touch(b.Key(k), Conversion.AddHours(-(keys.Length - i)).Ticks, k == "Direct"))];

    public static Conversion One(double value = 0) => new(Conversion.Ticks, 1, value);
}
