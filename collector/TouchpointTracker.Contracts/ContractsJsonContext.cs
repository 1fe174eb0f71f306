using System.Text.Json.Serialization;

namespace TouchpointTracker.Contracts;

/// <summary>Source-generated JSON for every message the product reads or writes.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(Beacon))]
[JsonSerializable(typeof(Touchpoint))]
[JsonSerializable(typeof(List<Touchpoint>))]
[JsonSerializable(typeof(JourneyInfo))]
[JsonSerializable(typeof(ConversionInfo))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
