using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Conversions;

/// <summary>
/// Conversion properties come from visitors' browsers and from servers: whatever they hold (strings, numbers, huge or
/// negative values, odd currencies, long ids), staging never throws, every staged touchpoint and conversion record
/// matches its schema, and one order converts at most once per visitor.
/// </summary>
public class ConversionPropertyTests
{
    private static readonly string[] Values =
    [
        "49.9", "0", "-5", "1e12", "1e13", "\"12.50\"", "\"abc\"", "\"\"", "true", "null", "\"1e400\"", "99999999999999999999999",
    ];
    private static readonly string[] Currencies = ["\"EUR\"", "\"usd\"", "\"JPY\"", "\"euro\"", "\"\"", "\" gbp \"", "12", "null", "\"€\""];
    private static readonly string[] Ids = ["\"A-1\"", "\"A-2\"", "\"a-1\"", "\" A-1 \"", "\"\"", "42", "null", JsonSerializer.Serialize(new string('x', 400)), "\"😀\""];
    private static readonly string[] Kinds = ["purchase", "lead", "refund", "won", "revenue", "signup", "form_submit", "page"];

    private static Gen<(string Kind, string? Value, string? Currency, string? Order, string? Deal, string? Lead)> Touches =>
        from kind in Gen.Elements(Kinds)
        from value in Gen.Elements(Values).OrNull()
        from currency in Gen.Elements(Currencies).OrNull()
        from order in Gen.Elements(Ids).OrNull()
        from deal in Gen.Elements(Ids).OrNull()
        from lead in Gen.Elements(Ids).OrNull()
        select (kind, value, currency, order, deal, lead);

    private static bool StagesCleanly((string Kind, string? Value, string? Currency, string? Order, string? Deal, string? Lead)[] touches)
    {
        var runner = new JourneyRunner(new JourneyProcessor(StageEngine.CreateDefault(), JourneySettings.Default with
        {
            Currencies = new ReportingCurrencies("EUR", new Dictionary<string, double> { ["USD"] = 0.9, ["JPY"] = 0.006 }),
        }));
        var converted = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < touches.Length; i++)
        {
            var (kind, value, currency, order, deal, lead) = touches[i];
            var props = new List<(string, string)>();
            void Add(string name, string? json)
            {
                if (json is not null)
                {
                    props.Add((name, json));
                }
            }
            Add("value", value);
            Add("currency", currency);
            Add("order_id", order);
            Add("deal_id", deal);
            Add("lead_id", lead);
            var touch = kind switch
            {
                "won" => Offline("crm_stage").Props([.. props, ("stage", "\"won\"")]),
                "revenue" or "refund" => Offline(kind).Props([.. props]),
                "page" => Page("/merci").Props([.. props]),
                "form_submit" => Event("form_submit", "/contact").Props([.. props, ("lead", "true")]),
                _ => Event(kind).Props([.. props]),
            };
            var step = runner.Apply(touch.At(T0.AddMinutes(i)).Build("v")); // schema-checked by the runner
            if (step.Conversion is { } c)
            {
                var record = ConversionRecord.Build(step.Staged!, runner.StateOf("v"), runner.Journeys.Settings.Currencies)!;
                Schemas.AssertValid(record);
                if (c.ReportingValue is { } rv && !double.IsFinite(rv))
                {
                    return false;
                }
                if (c.Type != "refund" && KeyOf(order, deal, lead) is { } key && (converted[key] = converted.GetValueOrDefault(key) + 1) > 1)
                {
                    return false; // the same order, deal or lead converted twice
                }
            }
        }
        return true;
    }

    /// <summary>The deduplicating key as docs/conversions.md states it: order_id, else deal_id, else lead_id (trimmed, non-empty).</summary>
    private static string? KeyOf(string? order, string? deal, string? lead)
    {
        static string? Text(string? json)
        {
            if (json is null)
            {
                return null;
            }
            var e = JsonDocument.Parse(json).RootElement;
            var text = e.ValueKind switch { JsonValueKind.String => e.GetString(), JsonValueKind.Number => e.GetRawText(), _ => null };
            return text?.Trim() is { Length: > 0 } t ? t : null;
        }
        return Text(order) is { } o ? "order:" + o : Text(deal) is { } d ? "deal:" + d : Text(lead) is { } l ? "lead:" + l : null;
    }

    [Test]
    public void Any_conversion_properties_stage_cleanly_and_an_order_converts_once() =>
        Prop.ForAll(Touches.ArrayOf().ToArbitrary(), StagesCleanly).Check(Config.QuickThrowOnFailure.WithMaxTest(200).WithEndSize(40));
}
