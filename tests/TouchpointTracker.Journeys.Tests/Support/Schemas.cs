using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Journeys.Tests.Support;

/// <summary>
/// The JSON Schemas of docs/schemas (copied next to the tests), with format validation on. Every message
/// the tests produce or read goes through <see cref="AssertValid(string, byte[])"/>.
/// </summary>
public static class Schemas
{
    public const string Touchpoint = "touchpoint";
    public const string StagedTouchpoint = "staged_touchpoint";
    public const string StageTransition = "stage_transition";
    public const string Conversion = "conversion";

    private static readonly Lazy<Dictionary<string, JsonSchema>> All = new(Load);
    private static long _validated;
    private static readonly EvaluationOptions FlagOptions = new() { OutputFormat = OutputFormat.Flag, RequireFormatValidation = true };

    /// <summary>How many messages were validated so far in this test run.</summary>
    public static long Validated => Interlocked.Read(ref _validated);

    private static Dictionary<string, JsonSchema> Load()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "schemas");
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (var name in new[] { Touchpoint, StagedTouchpoint, StageTransition, Conversion })
        {
            var schema = JsonSchema.FromFile(Path.Combine(dir, name + ".schema.json"));
            SchemaRegistry.Global.Register(schema);
            schemas[name] = schema;
        }
        return schemas;
    }

    public static JsonSchema Get(string name) => All.Value[name];

    /// <summary>The problems found, empty when <paramref name="json"/> is valid.</summary>
    public static List<string> Problems(string schemaName, byte[] json)
    {
        var node = JsonNode.Parse(json);
        Interlocked.Increment(ref _validated);
        // Flag output is quick; the detailed list is worked out only for a message that fails.
        if (Get(schemaName).Evaluate(node, FlagOptions).IsValid)
        {
            return [];
        }
        var result = Get(schemaName).Evaluate(node, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        return [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}"))];
    }

    public static void AssertValid(string schemaName, byte[] json)
    {
        var problems = Problems(schemaName, json);
        Assert.That(problems, Is.Empty, $"{schemaName} message does not match docs/schemas/{schemaName}.schema.json: {System.Text.Encoding.UTF8.GetString(json)}");
    }

    public static void AssertValid(Touchpoint tp) =>
        AssertValid(tp.Journey is null ? Touchpoint : StagedTouchpoint, JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint));

    public static void AssertValid(Journeys.Conversions.ConversionRecord record) =>
        AssertValid(Conversion, JsonSerializer.SerializeToUtf8Bytes(record, JourneysJsonContext.Default.ConversionRecord));

    public static void AssertValid(StageTransition transition) =>
        AssertValid(StageTransition, JsonSerializer.SerializeToUtf8Bytes(transition, JourneysJsonContext.Default.StageTransition));
}
