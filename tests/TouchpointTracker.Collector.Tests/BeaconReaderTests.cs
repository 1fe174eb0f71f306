using System.Text;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Tests;

public class BeaconReaderTests
{
    /// <summary>The collector's clock in these tests: half a second after the example batches were sent.</summary>
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1764115201000);
    private static readonly BeaconReader Reader = new(new CollectorOptions(), new FixedClock(Now));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static BeaconReadResult Read(string json) => Reader.Read(Encoding.UTF8.GetBytes(json));

    private const string GoodEvent = """{"id":"e1","type":"pageview","ts":1764115200000,"url":"https://shop.example/?utm_source=a","ref":"https://www.bing.com/search?q=x","title":"Home"}""";

    private static string Batch(string events, string extra = "") =>
        $$"""{"v":1,"site":"demo","vid":"v-1","sid":"s-1"{{extra}},"events":[{{events}}],"sent":1764115200500}""";

    [Test]
    public void Accepts_the_contract_example()
    {
        var result = Read(Batch(GoodEvent, ""","sn":2,"ctx":{"sw":1440,"sh":900,"lang":"fr-FR","tz":"Europe/Paris"},"land":{"url":"https://shop.example/","ref":""}"""));

        Assert.Multiple(() =>
        {
            Assert.That(result.BatchRejection, Is.Null);
            Assert.That(result.Accepted, Has.Count.EqualTo(1));
            Assert.That(result.Rejected, Is.Empty);
            Assert.That(result.Beacon!.SessionIndex, Is.EqualTo(2));
            Assert.That(result.Beacon.Context!.Language, Is.EqualTo("fr-FR"));
        });
    }

    [TestCase("", RejectReasons.EmptyBody)]
    [TestCase("not json", RejectReasons.InvalidJson)]
    [TestCase("null", RejectReasons.InvalidJson)]
    [TestCase("[1,2]", RejectReasons.InvalidJson)]
    [TestCase("""{"v":"one","site":"demo"}""", RejectReasons.InvalidJson)]
    [TestCase("""{"v":3,"site":"demo","vid":"a","sid":"b","events":[]}""", RejectReasons.UnsupportedVersion)]
    [TestCase("""{"v":0,"site":"demo","vid":"a","sid":"b","events":[]}""", RejectReasons.UnsupportedVersion)]
    [TestCase("""{"v":1,"vid":"a","sid":"b","events":[]}""", RejectReasons.MissingSite)]
    [TestCase("""{"v":1,"site":"demo","sid":"b","events":[]}""", RejectReasons.InvalidVisitor)]
    [TestCase("""{"v":1,"site":"demo","vid":"has space","sid":"b","events":[]}""", RejectReasons.InvalidVisitor)]
    [TestCase("""{"v":1,"site":"demo","vid":"a","events":[]}""", RejectReasons.InvalidSession)]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":[]}""", RejectReasons.NoEvents)]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b"}""", RejectReasons.NoEvents)]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":"x"}""", RejectReasons.InvalidJson)]
    [TestCase("""{"v":1,"site":"demo","vid":"a","sid":"b","events":[{"id":"e","type":"pageview","ts":"yesterday"}]}""", RejectReasons.InvalidJson)]
    public void Refuses_a_bad_batch_with_a_reason(string body, string reason)
    {
        var result = Read(body);

        Assert.That(result.BatchRejection, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(result.BatchRejection!.Reason, Is.EqualTo(reason));
            Assert.That(result.BatchRejection.Detail, Is.Not.Empty);
        });
    }

    [Test]
    public void Refuses_a_body_over_the_limit()
    {
        var big = Batch(GoodEvent).Replace("\"Home\"", "\"" + new string('x', 70_000) + "\"", StringComparison.Ordinal);

        Assert.That(Read(big).BatchRejection?.Reason, Is.EqualTo(RejectReasons.BodyTooLarge));
    }

    [Test]
    public void Refuses_more_events_than_a_batch_may_hold()
    {
        var events = string.Join(",", Enumerable.Range(0, 101).Select(i => GoodEvent.Replace("\"e1\"", $"\"e{i}\"", StringComparison.Ordinal)));

        Assert.That(Read(Batch(events)).BatchRejection?.Reason, Is.EqualTo(RejectReasons.TooManyEvents));
    }

    [TestCase("""{"id":"x","type":"teleport","ts":1764115200000,"url":"https://a.example/"}""", RejectReasons.InvalidEventType)]
    [TestCase("""{"type":"pageview","ts":1764115200000,"url":"https://a.example/"}""", RejectReasons.InvalidEventId)]
    [TestCase("""{"id":"x","type":"event","ts":1764115200000,"url":"https://a.example/"}""", RejectReasons.MissingEventName)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000,"url":"javascript:alert(1)"}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000,"url":"https://a.example/","ref":"not a url"}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000,"url":"https://a.example/","ref":"javascript:alert(7)"}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000,"url":"https://a.example/","ref":"data:text/html,<b>x</b>"}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1764115200000,"url":"ftp://a.example/"}""", RejectReasons.InvalidUrl)]
    [TestCase("""{"id":"x","type":"pageview","ts":1864115200000,"url":"https://a.example/"}""", RejectReasons.InvalidTimestamp)]
    [TestCase("""{"id":"x","type":"pageview","ts":1564115200000,"url":"https://a.example/"}""", RejectReasons.InvalidTimestamp)]
    [TestCase("""{"id":"x","type":"event","name":"n","ts":1764115200000,"props":{"deep":{"deeper":{"x":1}}}}""", RejectReasons.InvalidProps)]
    public void Refuses_a_bad_event_alone_and_keeps_the_good_one(string badEvent, string reason)
    {
        var result = Read(Batch(GoodEvent + "," + badEvent));

        Assert.Multiple(() =>
        {
            Assert.That(result.BatchRejection, Is.Null);
            Assert.That(result.Accepted.Select(e => e.Id), Is.EqualTo(new[] { "e1" }));
            Assert.That(result.Rejected, Has.Count.EqualTo(1));
            Assert.That(result.Rejected[0].Reason, Is.EqualTo(reason));
            Assert.That(result.Rejected[0].EventIndex, Is.EqualTo(1));
        });
    }

    [Test]
    public void Refuses_the_second_copy_of_an_event_id_in_one_batch()
    {
        var result = Read(Batch(GoodEvent + "," + GoodEvent));

        Assert.Multiple(() =>
        {
            Assert.That(result.Accepted, Has.Count.EqualTo(1));
            Assert.That(result.Rejected.Single().Reason, Is.EqualTo(RejectReasons.DuplicateEventId));
        });
    }

    [Test]
    public void Accepts_custom_events_with_flat_props_and_identify_traits()
    {
        var result = Read(Batch("""
            {"id":"a","type":"event","name":"purchase","ts":1764115200000,"url":"https://a.example/thanks","props":{"value":49.5,"currency":"EUR","order_id":"o-1","first":true}},
            {"id":"b","type":"identify","ts":1764115200000,"props":{"user_id":"u-1","traits":{"plan":"pro","seats":3}}}
            """));

        Assert.That(result.Accepted, Has.Count.EqualTo(2), string.Join("; ", result.Rejected.Select(r => r.Detail)));
    }

    [TestCase("https://www.google.com/")]
    [TestCase("http://news.example/a?b=c")]
    [TestCase("android-app://com.google.android.gm/")]
    [TestCase("")]
    public void Accepts_a_referrer_a_browser_sends(string referrer) =>
        Assert.That(Read(Batch(GoodEvent.Replace("https://www.bing.com/search?q=x", referrer, StringComparison.Ordinal))).Accepted, Has.Count.EqualTo(1));

    [TestCase(7258118400000L)] // 2200-01-01
    [TestCase(1L)]
    [TestCase(-1L)]
    public void Refuses_a_send_time_far_from_the_collectors_clock(long sent) =>
        Assert.That(Read(Batch(GoodEvent).Replace("1764115200500", sent.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)).BatchRejection?.Reason,
            Is.EqualTo(RejectReasons.InvalidTimestamp));

    [Test]
    public void A_send_time_within_the_configured_skew_is_accepted()
    {
        var twoDaysBehind = 1764115200500 - 2 * 86_400_000L;
        var body = Encoding.UTF8.GetBytes(Batch(GoodEvent.Replace("1764115200000", (twoDaysBehind - 500).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
            .Replace("1764115200500", twoDaysBehind.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(Reader.Read(body).BatchRejection?.Reason, Is.EqualTo(RejectReasons.InvalidTimestamp), "default: a day");
            Assert.That(new BeaconReader(new CollectorOptions { MaxClockSkewHours = 72 }, new FixedClock(Now)).Read(body).Accepted, Has.Count.EqualTo(1));
        });
    }

    [TestCase(1L)]
    [TestCase(7258118400000L)]
    public void Without_a_send_time_event_times_are_checked_against_the_collectors_clock(long ts)
    {
        var body = $$"""{"v":1,"site":"demo","vid":"v-1","sid":"s-1","events":[{"id":"e1","type":"pageview","ts":{{ts}},"url":"https://a.example/"}]}""";

        Assert.That(Read(body).Rejected.Single().Reason, Is.EqualTo(RejectReasons.InvalidTimestamp));
    }
}
