using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Collector.Offline;
using TouchpointTracker.Contracts;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Tests.Offline;

/// <summary>
/// Property tests of the offline events API in process: generated and randomly mutated JSON and CSV bodies go
/// through the handler itself (readers, validator, buffer), and whatever the bytes it answers below 500 and
/// nothing escapes it. A failure prints FsCheck's seed and the shrunk input.
/// </summary>
public class OfflineReaderPropertyTests
{
    private const int Runs = 2000;

    private static readonly OfflineOptions Limits = new();
    private static readonly OfflineEventsDependencies Deps = new(
        new ServerKeyRing(new SiteRegistry(Options.Create(new CollectorOptions()), new CollectorRuntime(CollectorMode.Embedded))),
        new OfflineEventValidator(Limits),
        new IdempotencyCache(Limits, TimeProvider.System),
        new DiscardingBuffer(),
        new IngestMetrics(new MetricsRegistry()),
        TimeProvider.System,
        Limits,
        new BufferOptions());

    private static readonly string[] Values =
    [
        "\"\\ud83d\"", "\"x\\udc00\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"a\\nb\"", "\"\\u202e\"", "\"ok\"", "\"\"", "\" \"",
        "null", "true", "false", "0", "-1", "1.5", "1e400", "-1e400", "99999999999999999999999", "{}", "[]", "[1,\"a\"]",
        "\"call\"", "\"revenue\"", "\"EUR\"", "\"eu\"", "\"2026-01-01T00:00:00Z\"", "\"2026-13-45T99:99:99+99:99\"", "\"9999-12-31T23:59:59Z\"",
        "\"0001-01-01T00:00:00-23:59\"", "\"a@b.example\"", "\"@\"", "\"+33 6 12 34 56 78\"", "\"++--()\"", "\"" + new string('t', 3000) + "\"",
    ];

    private static readonly string[] EventKeys =
    [
        "event_id", "type", "occurred_at", "visitor_id", "user_id", "email", "email_sha256", "phone", "gclid", "tracking_number",
        "duration_s", "answered", "source", "stage", "value", "currency", "order_id", "deal_id", "extra",
    ];

    private static readonly byte[][] Splices =
    [
        [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0xbd], [0xf4, 0x90, 0x80, 0x80], [0x80], [0x00], "\\ud83d"u8.ToArray(), "\\u"u8.ToArray(),
        "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), "\r\n"u8.ToArray(), "\"\""u8.ToArray(),
    ];

    private static Gen<string> Value => Gen.Elements(Values);

    /// <summary>Valid values of the optional fields, so that whole events are accepted too.</summary>
    private static readonly Dictionary<string, string> Valid = new()
    {
        ["user_id"] = "\"u-1\"", ["email"] = "\"A@B.example\"", ["phone"] = "\"+33 6 12 34 56 78\"", ["gclid"] = "\"g-1\"",
        ["tracking_number"] = "\"+1 555 0100\"", ["duration_s"] = "60", ["answered"] = "true", ["source"] = "\"Google Ads\"",
        ["stage"] = "\"won\"", ["value"] = "120.5", ["currency"] = "\"EUR\"", ["order_id"] = "\"o-1\"", ["deal_id"] = "\"d-1\"",
    };

    private static Gen<string> ValidEvent => Gen.SubListOf(Valid.Keys.ToArray()).Select(keys =>
        $"{{\"event_id\":\"{Guid.NewGuid()}\",\"type\":\"call\",\"occurred_at\":\"{DateTimeOffset.UtcNow.AddHours(-1):O}\",\"visitor_id\":\"v-1\"" +
        string.Concat(keys.Select(k => $",\"{k}\":{Valid[k]}")) + "}");

    private static Gen<string> Event => Gen.OneOf(ValidEvent, RandomEvent);

    private static Gen<string> RandomEvent => Gen.SubListOf(EventKeys).SelectMany(keys => Gen.CollectToList(keys.Select(k => (k switch
    {
        "event_id" => Gen.OneOf(Gen.Fresh(() => "\"" + Guid.NewGuid() + "\""), Value),
        "occurred_at" => Gen.OneOf(Gen.Choose(-200, 2).Select(d => "\"" + DateTimeOffset.UtcNow.AddDays(d).ToString("O", System.Globalization.CultureInfo.InvariantCulture) + "\""), Value),
        "visitor_id" => Gen.OneOf(Gen.Constant("\"v-1\""), Value),
        _ => Value,
    }).Select(v => $"\"{k}\":{v}")))).Select(members => "{" + string.Join(",", members) + "}");

    private static Gen<string> JsonBody => Gen.Zip(Gen.Elements("\"demo\"", "\"shop\"", "null", "1"), Gen.ListOf(Gen.OneOf(Event, Value)))
        .Select(t => $"{{\"site\":{t.Item1},\"events\":[{string.Join(",", t.Item2)}]}}");

    private static Gen<string> CsvBody => Gen.Zip(Gen.SubListOf(EventKeys), Gen.Choose(0, 20)).SelectMany(t =>
        Gen.ListOf(Gen.CollectToList(t.Item1.Select(_ => Gen.OneOf(Gen.Elements("", "call", "v-1", "x,y", "\"q\"\"x\"", "\"open", "2026-01-01T00:00:00Z", "true", "12", "EUR")))), t.Item2)
            .Select(rows => string.Join(",", t.Item1) + "\r\n" + string.Join("\r\n", rows.Select(r => string.Join(",", r)))));

    private static Gen<byte[]> Mutated(Gen<string> bodies) => Gen.Zip(bodies.Select(Encoding.UTF8.GetBytes), Gen.Choose(1, 4).SelectMany(n => Gen.ListOf(Gen.Zip(Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Elements(Splices)), Gen.Choose(0, 3)).Select(z => (z.Item1.Item1, z.Item1.Item2, z.Item2)), n)))
        .Select(t => t.Item2.Aggregate(t.Item1, (body, m) =>
        {
            var list = body.ToList();
            var at = list.Count == 0 ? 0 : m.Item1 % list.Count;
            switch (m.Item3)
            {
                case 0: list.InsertRange(at, m.Item2); break;
                case 1 when list.Count > 0: list.RemoveRange(at, Math.Min(8, list.Count - at)); break;
                case 2 when list.Count > 0: list.RemoveRange(at, list.Count - at); break;
                default: if (list.Count > 0) { list[at] = m.Item2[0]; } break;
            }
            return list.ToArray();
        }));

    /// <summary>The handler's answer to the body; true when it answered below 500 without throwing.</summary>
    private static bool AnswersBelow500(byte[] body, string contentType)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.Headers.Authorization = "Bearer " + SiteRegistry.DemoServerKey;
        http.Request.ContentType = contentType;
        http.Request.QueryString = new QueryString("?site=demo");
        http.Request.Body = new MemoryStream(body);
        var result = OfflineEventsApi.PostAsync(http, Deps).GetAwaiter().GetResult();
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        return status < 500;
    }

    private static void Check(Gen<byte[]> bodies, string contentType) =>
        Prop.ForAll(bodies.ToArbitrary(), b => AnswersBelow500(b, contentType)).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));

    [Test]
    public void No_generated_json_body_makes_the_handler_throw_or_answer_5xx() => Check(JsonBody.Select(Encoding.UTF8.GetBytes), "application/json");

    [Test]
    public void No_mutated_json_body_makes_the_handler_throw_or_answer_5xx() => Check(Mutated(JsonBody), "application/json");

    [Test]
    public void No_generated_csv_body_makes_the_handler_throw_or_answer_5xx() => Check(CsvBody.Select(Encoding.UTF8.GetBytes), "text/csv");

    [Test]
    public void No_mutated_csv_body_makes_the_handler_throw_or_answer_5xx() => Check(Mutated(CsvBody), "text/csv");

    [Test]
    public void The_generators_reach_both_accepted_events_and_refusals()
    {
        // Guards the generators: bodies that were always refused whole would test little of the validator.
        var rows = JsonBody.Sample(300, 10).Select(b => OfflineBodyReader.ReadJson(Encoding.UTF8.GetBytes(b), Limits.MaxEvents))
            .Where(b => b.Reason is null).SelectMany(b => b.Rows).ToList();
        var verdicts = rows.Select(r => Deps.Validator.Validate(r, "demo", DateTimeOffset.UtcNow)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(verdicts.Count(v => v.Touchpoint is not null), Is.GreaterThan(0));
            Assert.That(verdicts.Count(v => v.Reason is not null), Is.GreaterThan(10));
        });
    }

    private sealed class DiscardingBuffer : IEventBuffer
    {
        public ValueTask<AppendOutcome> AppendAsync(IReadOnlyList<Touchpoint> batch, CancellationToken cancellationToken) => ValueTask.FromResult(AppendOutcome.Stored);
    }
}
