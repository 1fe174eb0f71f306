using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.Tests.Support;

namespace TouchpointTracker.Processor.Tests.Messages;

/// <summary>The schema files themselves: valid draft 2020-12, and strict enough to catch a wrong message.</summary>
public sealed class SchemaTests
{
    [TestCase(Schemas.Touchpoint)]
    [TestCase(Schemas.StagedTouchpoint)]
    [TestCase(Schemas.StageTransition)]
    public void Each_schema_is_a_valid_draft_2020_12_schema(string name)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", name + ".schema.json"));
        var node = JsonNode.Parse(text)!;
        Assert.That((string?)node["$schema"], Is.EqualTo("https://json-schema.org/draft/2020-12/schema"));
        var result = MetaSchemas.Draft202012.Evaluate(node, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.That(result.IsValid, Is.True, string.Join("; ", (result.Details ?? []).SelectMany(d => d.Errors?.Values ?? [])));
    }

    private static JsonObject Staged()
    {
        var runner = new JourneyRunner();
        var tp = runner.Apply(Touch.Page("/pricing").At(Touch.T0).FromSearch("Google", "acme pricing").Props(("plan", "\"pro\"")).Build("v")).Staged!;
        return JsonSerializer.SerializeToNode(tp, ContractsJsonContext.Default.Touchpoint)!.AsObject();
    }

    private static List<string> Problems(string schema, JsonNode node) => Schemas.Problems(schema, Encoding.UTF8.GetBytes(node.ToJsonString()));

    [Test]
    public void A_staged_touchpoint_from_the_engine_is_valid() => Assert.That(Problems(Schemas.StagedTouchpoint, Staged()), Is.Empty);

    [Test]
    public void A_staged_touchpoint_without_its_journey_is_not()
    {
        var node = Staged();
        node.Remove("journey");
        Assert.That(Problems(Schemas.StagedTouchpoint, node), Is.Not.Empty);
    }

    [Test]
    public void An_unknown_stage_an_unknown_field_or_a_bad_timestamp_is_caught()
    {
        var badStage = Staged();
        badStage["journey"]!["stage"] = "purchase";
        var extra = Staged();
        extra["journey"]!["mood"] = "happy";
        var badTime = Staged();
        badTime["derived_ts"] = "yesterday";
        var badSchema = Staged();
        badSchema["schema"] = "touchpoint/1";
        Assert.Multiple(() =>
        {
            Assert.That(Problems(Schemas.StagedTouchpoint, badStage), Is.Not.Empty, "stage");
            Assert.That(Problems(Schemas.StagedTouchpoint, extra), Is.Not.Empty, "unknown field");
            Assert.That(Problems(Schemas.StagedTouchpoint, badTime), Is.Not.Empty, "timestamp");
            Assert.That(Problems(Schemas.StagedTouchpoint, badSchema), Is.Not.Empty, "schema name");
        });
    }

    [Test]
    public void An_enriched_touchpoint_is_valid_and_is_not_a_staged_one()
    {
        var node = Staged();
        node.Remove("journey");
        node["schema"] = "touchpoint/1";
        Assert.Multiple(() =>
        {
            Assert.That(Problems(Schemas.Touchpoint, node), Is.Empty);
            Assert.That(Problems(Schemas.StagedTouchpoint, node), Is.Not.Empty);
        });
    }
}
