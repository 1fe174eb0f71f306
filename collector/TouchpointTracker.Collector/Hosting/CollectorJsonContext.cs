using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Source-generated JSON for the collector's HTTP answers.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CollectResponse))]
[JsonSerializable(typeof(List<RejectedEvent>))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(List<Touchpoint>))]
internal sealed partial class CollectorJsonContext : JsonSerializerContext;
