using System.Text;
using System.Text.Json;
using TouchpointTracker.Collector.Ingest;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// The collector's one-pass beacon reader must read exactly what the contract's serializer reads: every body
/// here goes through both, and the two beacons (or the two refusals) must agree.
/// </summary>
public class BeaconJsonTests
{
    private const string Full = """
        {"v":1,"site":"demo","vid":"v-1","sid":"s-1","sn":3,
         "land":{"url":"https://shop.example/?utm_source=news","ref":"https://www.google.com/"},
         "ctx":{"sw":1440,"sh":900,"lang":"fr-FR","tz":"Europe/Paris"},
         "events":[
           {"id":"e1","type":"pageview","ts":1764115200000,"url":"https://shop.example/","ref":"","title":"Home"},
           {"id":"e2","type":"event","name":"signup","ts":1764115200100,"url":"https://shop.example/","props":{"plan":"pro","seats":3,"trial":true,"note":null,"traits":{"a":1},"tags":["x","y"]}},
           {"id":"e3","type":"engagement","ts":1764115200200,"props":{"ms":1200}},
           {"id":"e4","type":"identify","props":{}}
         ],
         "sent":1764115200500}
        """;

    public static IEnumerable<TestCaseData> SameAsTheSerializer()
    {
        yield return new TestCaseData(Full).SetName("The full contract example");
        yield return new TestCaseData("""{"v":1}""").SetName("A beacon with only a version");
        yield return new TestCaseData("{}").SetName("An empty object");
        yield return new TestCaseData("""{"v":1,"site":"d","events":[null,{"id":"a"}]}""").SetName("A null event is kept for validation");
        yield return new TestCaseData("""{"v":1,"site":"d","land":null,"ctx":null,"events":null,"sn":null,"sent":null}""").SetName("Nulls for every optional object and number");
        yield return new TestCaseData("""{"v":1,"extra":{"deep":[1,{"x":[true,null]}]},"site":"d","more":"x"}""").SetName("Unknown properties of any shape are skipped");
        yield return new TestCaseData("""{"v":1,"site":"a","site":"b"}""").SetName("A repeated property keeps its last value");
        yield return new TestCaseData("""{"\u0076":1,"s\u0069te":"d\u00e9mo","vid":"\ud83d\ude00"}""").SetName("Escaped names and values");
        yield return new TestCaseData("""{"v":1,"events":[{"id":"e","type":"page\u0076iew"},{"id":"f","type":"PAGEVIEW"},{"id":"g","type":"teleport"}]}""").SetName("Event types, escaped, upper-case or unknown, are read as sent");
        yield return new TestCaseData("""{"v":1,"Site":"d","VID":"x"}""").SetName("Names are case-sensitive");
        yield return new TestCaseData("  \n{\"v\":1}\n  ").SetName("Whitespace around the object");
        yield return new TestCaseData("""{"v":1,"events":[{"id":"e","ts":-5,"props":{"k":"v","k":"w"}}]}""").SetName("Negative timestamps and repeated prop names");
        yield return new TestCaseData("null").SetName("The literal null");
    }

    public static IEnumerable<TestCaseData> RefusedByBoth()
    {
        yield return new TestCaseData("not json").SetName("Not JSON");
        yield return new TestCaseData("[1,2]").SetName("An array");
        yield return new TestCaseData("\"beacon\"").SetName("A string");
        yield return new TestCaseData("""{"v":"one"}""").SetName("A version that is a string");
        yield return new TestCaseData("""{"v":1.5}""").SetName("A version that is not an integer");
        yield return new TestCaseData("""{"v":null}""").SetName("A null version");
        yield return new TestCaseData("""{"v":1,"site":5}""").SetName("A site that is a number");
        yield return new TestCaseData("""{"v":1,"vid":["a"]}""").SetName("A visitor id that is an array");
        yield return new TestCaseData("""{"v":1,"sn":"2"}""").SetName("A session number in quotes");
        yield return new TestCaseData("""{"v":1,"sent":99999999999999999999999}""").SetName("A send time beyond 64 bits");
        yield return new TestCaseData("""{"v":1,"land":"https://a.example/"}""").SetName("A landing that is a string");
        yield return new TestCaseData("""{"v":1,"ctx":{"sw":"1440"}}""").SetName("A screen width in quotes");
        yield return new TestCaseData("""{"v":1,"events":"x"}""").SetName("Events that are a string");
        yield return new TestCaseData("""{"v":1,"events":[1]}""").SetName("An event that is a number");
        yield return new TestCaseData("""{"v":1,"events":[{"id":"e","ts":"yesterday"}]}""").SetName("A timestamp that is a word");
        yield return new TestCaseData("""{"v":1,"events":[{"id":7}]}""").SetName("An event id that is a number");
        yield return new TestCaseData("""{"v":1,"events":[{"id":"e","props":[1]}]}""").SetName("Props that are an array");
        yield return new TestCaseData("""{"v":1,}""").SetName("A trailing comma");
        yield return new TestCaseData("""{"v":1 /* note */}""").SetName("A comment");
        yield return new TestCaseData("""{"v":1} {"v":1}""").SetName("Two objects");
        yield return new TestCaseData("""{"v":1}x""").SetName("Text after the object");
        yield return new TestCaseData("""{"v":1,"site":"d""").SetName("A truncated body");
        yield return new TestCaseData("""{'v':1}""").SetName("Single quotes");
        yield return new TestCaseData("").SetName("An empty body");
        yield return new TestCaseData(new string('[', 100) + new string(']', 100)).SetName("Nesting deeper than 64");
        yield return new TestCaseData("""{"v":1,"x":""" + new string('[', 70) + new string(']', 70) + "}").SetName("An unknown property nested deeper than 64");
    }

    [TestCaseSource(nameof(SameAsTheSerializer))]
    public void Reads_what_the_serializer_reads(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var expected = JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.Beacon);

        var actual = BeaconJson.Parse(bytes);

        Assert.That(Canonical(actual), Is.EqualTo(Canonical(expected)));
    }

    [TestCaseSource(nameof(RefusedByBoth))]
    public void Refuses_what_the_serializer_refuses(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Throws(Is.InstanceOf<JsonException>(), () => JsonSerializer.Deserialize(bytes, ContractsJsonContext.Default.Beacon), "the serializer refuses it");

        Assert.Throws(Is.InstanceOf<JsonException>(), () => BeaconJson.Parse(bytes));
    }

    [Test]
    public void A_value_of_the_wrong_type_is_refused_with_its_path()
    {
        var ex = Assert.Throws<JsonException>(() => BeaconJson.Parse("""{"v":1,"events":[{"id":"a"},{"id":"b","ts":"now"}]}"""u8));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Path, Is.EqualTo("$.events[1].ts"));
            Assert.That(ex.Message, Does.Contain("integer"));
        });
    }

    [Test]
    public void Known_event_types_are_shared_strings()
    {
        var a = BeaconJson.Parse("""{"v":1,"events":[{"type":"pageview"}]}"""u8)!;
        var b = BeaconJson.Parse("""{"v":1,"events":[{"type":"pageview"}]}"""u8)!;

        Assert.That(a.Events![0].Type, Is.SameAs(b.Events![0].Type));
    }

    /// <summary>The same beacon written the same way, props included, so two readings compare as text.</summary>
    private static string Canonical(Beacon? beacon) =>
        beacon is null ? "null" : JsonSerializer.Serialize(beacon, ContractsJsonContext.Default.Beacon);
}
