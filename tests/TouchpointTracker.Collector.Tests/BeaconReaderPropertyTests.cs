using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Enrichment;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// Property tests of the beacon reader: thousands of generated and randomly mutated beacons, in process.
/// Whatever the bytes, the reader answers (a batch refusal, or events taken and refused) and nothing
/// escapes it or the touchpoint factory behind it: an exception there is a 500 on POST /collect.
/// A failure prints FsCheck's seed and the shrunk input; replay it with <c>Config.WithReplay</c>.
/// </summary>
public class BeaconReaderPropertyTests
{
    private const int Runs = 4000;

    private static readonly CollectorOptions Limits = new() { MaxBodyBytes = 64 * 1024 };
    private static readonly BeaconReader Reader = new(Limits);
    private static readonly TouchpointFactory Factory = new(new Enricher(new EnricherOptions()), Options.Create(new EnrichmentOptions { KeepTruncatedIp = true }));
    private static readonly RequestFacts Facts = new(DateTimeOffset.UtcNow, "Mozilla/5.0", System.Net.IPAddress.Loopback);

    /// <summary>JSON values chosen to hurt: unpaired surrogates, control characters, huge numbers, wrong types, long and odd URLs.</summary>
    private static readonly string[] Values =
    [
        "\"\\ud83d\"", "\"x\\udc00\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"a\\nb\"", "\"\\u202e\"", "\"ok\"", "\"\"", "\" \"",
        "null", "true", "false", "0", "-1", "1", "1.5", "1e400", "-1e400", "99999999999999999999999", "9223372036854775807",
        "-9223372036854775808", "{}", "[]", "[null]", "[1,\"a\",{}]", "{\"a\":\"\\ud800\"}", "{\"\\udfff\":1}", "{\"a\":{\"b\":{\"c\":1}}}",
        "\"pageview\"", "\"event\"", "\"identify\"", "\"engagement\"", "\"javascript:alert(1)\"", "\"data:text/html,x\"",
        "\"https://shop.example/?email=a%40b.example&token=t\"", "\"https://[::1]:99999/\"", "\"http://\"", "\"https://a.example/%\"",
        "\"https://xn--n3h.example/\\ud83d\"", "\"//no-scheme.example/\"", "\"https://a.example/" + new string('p', 3000) + "\"",
        "\"" + new string('t', 2000) + "\"", "\"" + string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 600)) + "\"",
    ];

    /// <summary>Raw byte runs spliced into a body: invalid UTF-8, encoded surrogates, overlong forms, structure.</summary>
    private static readonly byte[][] Splices =
    [
        [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0xbd], [0xed, 0xb8, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0x00],
        "\\ud83d"u8.ToArray(), "\\u"u8.ToArray(), "\\"u8.ToArray(), "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(),
        "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(), "null"u8.ToArray(), "1e999"u8.ToArray(), "/*"u8.ToArray(),
    ];

    private static readonly string[] EventKeys = ["id", "type", "name", "ts", "url", "ref", "title", "props", "extra"];
    private static readonly string[] BeaconKeys = ["v", "site", "vid", "sid", "sn", "sent", "land", "ctx", "events", "extra"];

    private static Gen<string> Value => Gen.Elements(Values);

    private static Gen<string> Member(string key, Gen<string> value) => value.Select(v => $"\"{key}\":{v}");

    private static Gen<string> ObjectOf(IReadOnlyList<string> keys, Func<string, Gen<string>> valueFor) =>
        Gen.SubListOf(keys.ToArray()).SelectMany(chosen => Gen.CollectToList(chosen.Select(k => Member(k, valueFor(k))))
            .Select(members => "{" + string.Join(",", members) + "}"));

    private static Gen<string> Props => Gen.ListOf(Gen.Zip(Gen.Elements("plan", "\\ud83d", "", "k", new string('k', 80)), Value))
        .Select(ps => "{" + string.Join(",", ps.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}");

    private static Gen<string> Event => ObjectOf(EventKeys, k => k switch
    {
        "id" => Gen.OneOf(Gen.Fresh(() => "\"" + Guid.NewGuid() + "\""), Value),
        "type" => Gen.OneOf(Gen.Elements("\"pageview\"", "\"event\"", "\"identify\"", "\"engagement\""), Value),
        "ts" => Gen.OneOf(Gen.Choose(-5, 5).Select(d => (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + d * 86_400_000L).ToString(System.Globalization.CultureInfo.InvariantCulture)), Value),
        "url" => Gen.OneOf(Gen.Constant("\"https://shop.example/p?utm_source=x&email=a%40b.example\""), Value),
        "props" => Gen.OneOf(Props, Value),
        _ => Value,
    });

    private static Gen<string> Beacon => ObjectOf(BeaconKeys, k => k switch
    {
        "v" => Gen.OneOf(Gen.Constant("1"), Value),
        "site" => Gen.OneOf(Gen.Constant("\"demo\""), Value),
        "vid" or "sid" => Gen.OneOf(Gen.Constant("\"v-1\""), Value),
        "land" => Gen.OneOf(ObjectOf(["url", "ref"], _ => Value), Value),
        "ctx" => Gen.OneOf(ObjectOf(["sw", "sh", "lang", "tz"], _ => Value), Value),
        "events" => Gen.OneOf(Gen.ListOf(Gen.OneOf(Event, Value)).Select(es => "[" + string.Join(",", es) + "]"), Value),
        _ => Value,
    });

    /// <summary>A valid beacon as the tag sends it: the starting point of the mutations.</summary>
    private static Gen<byte[]> ValidBeacon => Gen.Choose(1, 5).Select(n =>
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = string.Join(",", Enumerable.Range(0, n).Select(i =>
            $$$"""{"id":"{{{Guid.NewGuid()}}}","type":"{{{(i % 2 == 0 ? "pageview" : "event")}}}","name":"signup","ts":{{{now - 50}}},"url":"https://shop.example/p/{{{i}}}?utm_source=news&q=😀","ref":"https://www.bing.com/search?q=x","title":"Ünïcödé 😀 title","props":{"plan":"pro","n":3,"ok":true,"traits":{"email":"a@b.example"},"tags":["a","b"]}}"""));
        return Encoding.UTF8.GetBytes($$"""{"v":1,"site":"demo","vid":"v-1","sid":"s-1","sn":1,"land":{"url":"https://shop.example/","ref":"https://news.example/"},"ctx":{"sw":1440,"sh":900,"lang":"fr-FR","tz":"Europe/Paris"},"events":[{{events}}],"sent":{{now}}}""");
    });

    private abstract record Mutation;
    private sealed record SetByte(int At, byte Value) : Mutation;
    private sealed record Delete(int At, int Length) : Mutation;
    private sealed record Splice(int At, byte[] Bytes) : Mutation;
    private sealed record Truncate(int At) : Mutation;

    private static Gen<Mutation> AnyMutation => Gen.OneOf(
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, 255)).Select(t => (Mutation)new SetByte(t.Item1, (byte)t.Item2)),
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(1, 40)).Select(t => (Mutation)new Delete(t.Item1, t.Item2)),
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Elements(Splices)).Select(t => (Mutation)new Splice(t.Item1, t.Item2)),
        Gen.Zip(Gen.Choose(0, int.MaxValue), Value).Select(t => (Mutation)new Splice(t.Item1, Encoding.UTF8.GetBytes(t.Item2))),
        Gen.Choose(0, int.MaxValue).Select(at => (Mutation)new Truncate(at)));

    private static Gen<byte[]> Mutated => Gen.Zip(ValidBeacon, Gen.Choose(1, 4).SelectMany(n => Gen.ListOf(AnyMutation, n)))
        .Select(t => t.Item2.Aggregate(t.Item1, Apply));

    private static byte[] Apply(byte[] body, Mutation m)
    {
        if (body.Length == 0)
        {
            return body;
        }
        var list = body.ToList();
        switch (m)
        {
            case SetByte s:
                list[s.At % list.Count] = s.Value;
                break;
            case Delete d:
                var at = d.At % list.Count;
                list.RemoveRange(at, Math.Min(d.Length, list.Count - at));
                break;
            case Splice s:
                list.InsertRange(s.At % (list.Count + 1), s.Bytes);
                break;
            case Truncate t:
                list.RemoveRange(t.At % list.Count, list.Count - t.At % list.Count);
                break;
        }
        return [.. list];
    }

    /// <summary>Reads the body and builds a touchpoint of every accepted event; true when nothing threw.</summary>
    private static bool NothingEscapes(byte[] body)
    {
        var result = Reader.Read(body);
        if (result.BatchRejection is null)
        {
            foreach (var e in result.Accepted)
            {
                Factory.Create(result.Beacon!, e, Facts);
            }
        }
        return true;
    }

    private static void CheckAll(Gen<byte[]> bodies) =>
        Prop.ForAll(bodies.ToArbitrary(), NothingEscapes).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));

    [Test]
    public void No_generated_beacon_makes_the_reader_throw() =>
        CheckAll(Beacon.Select(Encoding.UTF8.GetBytes));

    [Test]
    public void No_mutated_beacon_makes_the_reader_throw() => CheckAll(Mutated);

    [Test]
    public void The_mutations_reach_both_acceptance_and_refusal()
    {
        // Guards the generators themselves: mutations that only ever broke the JSON would test little.
        var samples = Mutated.Sample(500, 10);
        var outcomes = samples.Select(b => Reader.Read(b)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Count(r => r.BatchRejection is null && r.Accepted.Count > 0), Is.GreaterThan(10));
            Assert.That(outcomes.Count(r => r.BatchRejection is not null), Is.GreaterThan(10));
        });
    }

    [TestCase("title", "\"\\ud83d\"")]
    [TestCase("vid", "\"\\udc00\"")]
    [TestCase("props", "{\"k\":\"a\\ud83d\"}")]
    [TestCase("props", "{\"\\ud83d\":1}")]
    [TestCase("props", "{\"traits\":{\"\\ud83d\":1}}")]
    [TestCase("props", "{\"tags\":[\"\\ud800\"]}")]
    public void An_unpaired_surrogate_is_refused_not_thrown(string field, string value)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var vid = field == "vid" ? value : "\"v-1\"";
        var extra = field == "vid" ? "" : $",\"{field}\":{value}";
        var body = $$"""{"v":1,"site":"demo","vid":{{vid}},"sid":"s","events":[{"id":"e","type":"pageview","ts":{{now}},"url":"https://a.example/"{{extra}}}],"sent":{{now}}}""";

        var result = Reader.Read(Encoding.UTF8.GetBytes(body));

        Assert.That(result.BatchRejection?.Reason ?? result.Rejected.SingleOrDefault()?.Reason, Is.AnyOf(RejectReasons.InvalidJson, RejectReasons.InvalidProps));
        Assert.That(result.Accepted, Is.Empty);
    }

    [Test]
    public void Invalid_utf8_in_a_string_is_refused_as_invalid_json()
    {
        var body = Encoding.UTF8.GetBytes("""{"v":1,"site":"demo","vid":"v","sid":"s","events":[{"id":"e","type":"pageview","url":"https://a.example/","title":"AB"}]}""");
        var at = Array.IndexOf(body, (byte)'A');
        body[at] = 0xff;
        body[at + 1] = 0xfe;

        Assert.That(Reader.Read(body).BatchRejection?.Reason, Is.EqualTo(RejectReasons.InvalidJson));
    }

    [Test]
    public void A_long_title_is_cut_between_characters_not_inside_an_emoji()
    {
        var title = new string('x', 1023) + "😀";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var body = $$"""{"v":1,"site":"demo","vid":"v","sid":"s","events":[{"id":"e","type":"pageview","ts":{{now}},"url":"https://a.example/","title":"{{title}}"}],"sent":{{now}}}""";

        var cut = Reader.Read(Encoding.UTF8.GetBytes(body)).Accepted.Single().Title!;

        Assert.That(cut, Is.EqualTo(new string('x', 1023)));
    }
}
