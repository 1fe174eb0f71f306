using System.Text.Json.Serialization;

namespace TouchpointTracker.Journeys;

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(StageRuleSet))]
[JsonSerializable(typeof(JourneyState))]
public sealed partial class JourneysJsonContext : JsonSerializerContext;
