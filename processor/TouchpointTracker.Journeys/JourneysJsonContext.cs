using System.Text.Json.Serialization;

namespace TouchpointTracker.Journeys;

/// <summary>Source-generated JSON for journey state (stored) and stage transitions (published).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JourneyState))]
[JsonSerializable(typeof(StageTransition))]
[JsonSerializable(typeof(Conversions.ConversionRecord))]
[JsonSerializable(typeof(List<Conversions.ConversionRecord>))]
[JsonSerializable(typeof(Identity.PersonState))]
[JsonSerializable(typeof(Identity.IdentitySnapshot))]
public sealed partial class JourneysJsonContext : JsonSerializerContext;
