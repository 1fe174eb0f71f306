using System.Text.Json.Serialization;

namespace TouchpointTracker.Analytics;

/// <summary>Source-generated JSON for the API responses: snake_case like the message contracts.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OverviewResult))]
[JsonSerializable(typeof(BreakdownResult))]
[JsonSerializable(typeof(FunnelResult))]
[JsonSerializable(typeof(JourneyResult))]
[JsonSerializable(typeof(PersonResult))]
[JsonSerializable(typeof(UnmatchedResult))]
[JsonSerializable(typeof(JourneySearchResult))]
[JsonSerializable(typeof(RealtimeResult))]
[JsonSerializable(typeof(AttributionReport))]
[JsonSerializable(typeof(ConversionsResult))]
public sealed partial class AnalyticsJsonContext : JsonSerializerContext;
