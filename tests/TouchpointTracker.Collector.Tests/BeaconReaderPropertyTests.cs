using System.Text.Json;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;
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
        "v" => Gen.OneOf(Gen.Constant("1"), Gen.Constant("2"), Value),
        "site" => Gen.OneOf(Gen.Constant("\"demo\""), Value),
        "vid" or "sid" => Gen.OneOf(Gen.Constant("\"v-1\""), Value),
        "land" => Gen.OneOf(ObjectOf(["url", "ref"], _ => Value), Value),
        "ctx" => Gen.OneOf(ObjectOf(["sw", "sh", "lang", "tz"], _ => Value), Value),
        "events" => Gen.OneOf(Gen.ListOf(Gen.OneOf(Event, Value)).Select(es => "[" + string.Join(",", es) + "]"), Value),
        _ => Value,
    });

    /// <summary>A valid beacon as the tag sends it: the starting point of the mutations.</summary>
    private static Gen<byte[]> ValidBeacon => ValidBeaconOf(1);

    private static Gen<byte[]> ValidBeaconOf(int version) => Gen.Choose(1, 5).Select(n =>
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = string.Join(",", Enumerable.Range(0, n).Select(i =>
            $$$"""{"id":"{{{Guid.NewGuid()}}}","type":"{{{(i % 2 == 0 ? "pageview" : "event")}}}","name":"signup","ts":{{{now - 50}}},"url":"https://shop.example/p/{{{i}}}?utm_source=news&q=😀","ref":"https://www.bing.com/search?q=x","title":"Ünïcödé 😀 title","props":{"plan":"pro","n":3,"ok":true,"traits":{"email":"a@b.example"},"tags":["a","b"]}}"""));
        return Encoding.UTF8.GetBytes($$"""{"v":{{version}},"site":"demo","vid":"v-1","sid":"s-1","sn":1,"land":{"url":"https://shop.example/","ref":"https://news.example/"},"ctx":{"sw":1440,"sh":900,"lang":"fr-FR","tz":"Europe/Paris"},"events":[{{events}}],"sent":{{now}}}""");
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

    private static Gen<byte[]> Mutated => MutatedOf(1);

    private static Gen<byte[]> MutatedOf(int version) => Gen.Zip(ValidBeaconOf(version), Gen.Choose(1, 4).SelectMany(n => Gen.ListOf(AnyMutation, n)))
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
    public void No_mutated_v2_beacon_makes_the_reader_throw() => CheckAll(MutatedOf(2));

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
    // Beacon v2: the collector cuts and cleans what the v1 tag bounded itself. A body limit large enough for the
    // generated beacons, so that what is checked is the cutting and cleaning, not the body size.

    private static readonly CollectorOptions Roomy = new() { MaxBodyBytes = 8 * 1024 * 1024 };
    private static readonly BeaconReader RoomyReader = new(Roomy);

    /// <summary>Prop values for v2: everything a page may hand to tt(), as JSON (JSON.stringify's output).</summary>
    private static Gen<string> PropValue => Gen.OneOf(
        Value,
        Gen.Choose(0, 1200).Select(n => "\"" + new string('s', n) + "\""),
        Gen.Choose(0, 40).Select(n => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"t{i}\":{(i % 3 == 0 ? "\"x\"" : i % 3 == 1 ? "[1]" : "{\"d\":1}")}")) + "}"));

    private static Gen<string> PropName => Gen.OneOf(Gen.Elements("plan", "", "k", new string('k', 80)), Gen.Choose(0, 200).Select(i => "p" + i));

    private static Gen<string> V2Props => Gen.OneOf(
        Gen.Choose(0, 40).SelectMany(n => Gen.ListOf(Gen.Zip(PropName, PropValue), n)).Select(ps => "{" + string.Join(",", ps.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}"),
        // Not a props object whose own name is not Unicode text: the parser refuses those bodies whole, v1 and v2 alike.
        Gen.Elements(Values.Where(v => !v.StartsWith("{\"\\u", StringComparison.Ordinal)).ToArray()));

    private static Gen<string> LongUrl => Gen.Choose(0, 5000).Select(n => "\"https://shop.example/" + new string('u', n) + "\"");

    /// <summary>A v2 beacon of well-formed envelope whose events carry anything a page may hand to the tag.</summary>
    private static Gen<string> V2Beacon =>
        Gen.Zip(Gen.Choose(1, 4).SelectMany(n => Gen.ListOf(Gen.Zip(Gen.Zip(LongUrl, LongUrl), Gen.Zip(V2Props, Gen.Choose(1, 300))), n)), Gen.Zip(LongUrl, LongUrl))
            .Select(t =>
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var events = t.Item1.Select((e, i) => $$$"""{"id":"e{{{i}}}","type":"{{{(i % 3 == 0 ? "pageview" : i % 3 == 1 ? "event" : "identify")}}}","name":"{{{new string('n', e.Item2.Item2)}}}","ts":{{{now}}},"url":{{{e.Item1.Item1}}},"ref":{{{e.Item1.Item2}}},"props":{{{e.Item2.Item1}}}}""");
                return $$"""{"v":2,"site":"demo","vid":"v","sid":"s","land":{"url":{{t.Item2.Item1}},"ref":{{t.Item2.Item2}}},"events":[{{string.Join(",", events)}}],"sent":{{now}}}""";
            });

    /// <summary>What v1 requires of an accepted event: bounded URLs and name, bounded props of flat values or one level of object.</summary>
    private static bool WithinV1Bounds(BeaconEvent e) =>
        e.Url!.Length <= Roomy.MaxUrlLength && (e.Referrer?.Length ?? 0) <= Roomy.MaxUrlLength && (e.Name?.Length ?? 0) <= 128 &&
        (e.Props is null || (e.Props.Count <= Roomy.MaxProps && e.Props.All(p => p.Key.Length is > 0 and <= 64 && Flat(p.Value, 0))));

    private static bool Flat(JsonElement v, int depth) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!.Length <= Roomy.MaxPropValueLength,
        JsonValueKind.Number => double.IsFinite(v.GetDouble()),
        JsonValueKind.True or JsonValueKind.False => true,
        JsonValueKind.Object when depth == 0 => v.EnumerateObject().Count() <= Roomy.MaxProps &&
            v.EnumerateObject().All(p => p.Name.Length is > 0 and <= 64 && Flat(p.Value, 1)),
        _ => false,
    };

    [Test]
    public void A_v2_beacon_is_cut_and_cleaned_to_what_v1_accepts_never_refused_for_length_or_props() =>
        Prop.ForAll(V2Beacon.ToArbitrary(), json =>
        {
            var result = RoomyReader.Read(Encoding.UTF8.GetBytes(json));
            // Nothing about lengths or props refuses a v2 event: every event is taken, within v1's bounds.
            return result.BatchRejection is null && result.Rejected.Count == 0 && result.Accepted.Count == result.Beacon!.Events!.Count &&
                result.Accepted.All(WithinV1Bounds) &&
                (result.Beacon.Landing!.Url?.Length ?? 0) <= Roomy.MaxUrlLength && (result.Beacon.Landing.Referrer?.Length ?? 0) <= Roomy.MaxUrlLength &&
                result.Accepted.All(e => Factory.Create(result.Beacon, e, Facts) is not null);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    [Test]
    public void A_v2_beacon_that_v1_takes_whole_is_taken_unchanged_and_without_cuts_unless_it_holds_null_or_arrays() =>
        Prop.ForAll(V2Beacon.ToArbitrary(), json =>
        {
            var v2 = RoomyReader.Read(Encoding.UTF8.GetBytes(json));
            var v1 = RoomyReader.Read(Encoding.UTF8.GetBytes(json.Replace("{\"v\":2,", "{\"v\":1,", StringComparison.Ordinal)));
            if (v1.BatchRejection is not null || v1.Rejected.Count > 0)
            {
                // v1 refused something for its length or props: v2 must have cut or dropped something instead.
                return v2.Cuts is not null;
            }
            // v1 took it all: so does v2, with the same URLs; it cuts nothing but what v1 tolerates and v2 drops (null, arrays).
            return v2.Accepted.Count == v1.Accepted.Count &&
                v2.Accepted.Zip(v1.Accepted).All(p => p.First.Url == p.Second.Url && p.First.Referrer == p.Second.Referrer && p.First.Name == p.Second.Name) &&
                (v2.Cuts is null || v2.Cuts.Keys.All(k => k == CutReasons.PropType));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    [Test]
    public void A_v2_beacon_within_bounds_passes_as_v1_reads_it() =>
        Prop.ForAll(ValidBeaconOf(2).ToArbitrary(), body =>
        {
            var v1 = RoomyReader.Read(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("{\"v\":2,", "{\"v\":1,", StringComparison.Ordinal)));
            var v2 = RoomyReader.Read(body);
            // The valid beacon's props hold an array ("tags") and an object outside identify ("traits" of page views
            // and events), which v2 drops (counted), as the v1 tag did: all else is as v1 reads it.
            return v2.BatchRejection is null && v2.Accepted.Count == v1.Accepted.Count &&
                v2.Accepted.Zip(v1.Accepted).All(p => p.First.Url == p.Second.Url && p.First.Title == p.Second.Title &&
                    p.First.Props!.Keys.SequenceEqual(p.Second.Props!.Keys.Where(k => k is not ("tags" or "traits")))) &&
                v2.Cuts!.Keys.SequenceEqual([CutReasons.PropType]);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));

    [TestCase("\"a string\"")]
    [TestCase("[1,2]")]
    [TestCase("42")]
    public void Props_that_are_not_an_object_fail_a_v1_beacon_and_are_dropped_from_a_v2_one(string props)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string Body(int v) => $$"""{"v":{{v}},"site":"demo","vid":"v","sid":"s","events":[{"id":"e","type":"event","name":"x","ts":{{now}},"url":"https://a.example/","props":{{props}}}],"sent":{{now}}}""";

        var v1 = RoomyReader.Read(Encoding.UTF8.GetBytes(Body(1)));
        var v2 = RoomyReader.Read(Encoding.UTF8.GetBytes(Body(2)));

        Assert.Multiple(() =>
        {
            Assert.That(v1.BatchRejection?.Reason, Is.EqualTo(RejectReasons.InvalidJson));
            Assert.That(v1.BatchRejection?.Detail, Does.Contain("$.events[0].props"));
            Assert.That(v2.BatchRejection, Is.Null);
            Assert.That(v2.Accepted.Single().Props, Is.Null);
            Assert.That(v2.Cuts, Is.EquivalentTo(new Dictionary<string, int> { [CutReasons.PropsNotObject] = 1 }));
        });
    }

    [Test]
    public void A_v2_beacon_cuts_long_values_between_characters_and_counts_each_cut()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var url = "https://a.example/" + new string('x', 2048 - 19) + "😀";
        var props = $$$"""{"s":"{{{new string('y', 1023)}}}😀","{{{new string('k', 70)}}}":1,"n":null,"o":{"a":"b","deep":{"x":1}},"bad":"\ud83d"}""";
        var body = $$$"""{"v":2,"site":"demo","vid":"v","sid":"s","land":{"url":"{{{url}}}","ref":""},"events":[{"id":"e","type":"identify","name":"{{{new string('n', 130)}}}","ts":{{{now}}},"url":"{{{url}}}","ref":"{{{url}}}","props":{{{props}}}},{"id":"f","type":"event","name":"x","ts":{{{now}}},"url":"https://a.example/","props":{"traits":{"a":"b"},"k":1}}],"sent":{{{now}}}}""";

        var result = RoomyReader.Read(Encoding.UTF8.GetBytes(body));
        var e = result.Accepted[0];

        Assert.Multiple(() =>
        {
            Assert.That(e.Url, Is.EqualTo(url[..2047]));
            Assert.That(e.Referrer, Is.EqualTo(url[..2047]));
            Assert.That(result.Beacon!.Landing!.Url, Is.EqualTo(url[..2047]));
            Assert.That(e.Name, Has.Length.EqualTo(128));
            Assert.That(e.Props!["s"].GetString(), Is.EqualTo(new string('y', 1023)));
            Assert.That(e.Props[new string('k', 64)].GetInt32(), Is.EqualTo(1));
            Assert.That(e.Props.ContainsKey("n") || e.Props.ContainsKey("bad"), Is.False);
            Assert.That(e.Props["o"].GetRawText(), Is.EqualTo("""{"a":"b"}"""), "an identify event's object (traits) cleaned one level down");
            Assert.That(result.Accepted[1].Props!.Keys, Is.EqualTo(new[] { "k" }), "an object in another event dropped, as the v1 tag dropped it");
            Assert.That(result.Cuts, Is.EquivalentTo(new Dictionary<string, int>
            {
                [CutReasons.Url] = 3, [CutReasons.Name] = 1, [CutReasons.PropValue] = 2, [CutReasons.PropName] = 1, [CutReasons.PropType] = 3,
            }));
        });
    }
}
