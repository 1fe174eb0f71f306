using System.Text;
using Confluent.Kafka;
using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Collector.Forwarding;

namespace TouchpointTracker.Collector.Tests.Forwarding;

public sealed class KafkaErrorClassifierTests
{
    [TestCase(ErrorCode.Local_MsgTimedOut)]
    [TestCase(ErrorCode.Local_Transport)]
    [TestCase(ErrorCode.Local_AllBrokersDown)]
    [TestCase(ErrorCode.Local_QueueFull)]
    [TestCase(ErrorCode.NotLeaderForPartition)]
    [TestCase(ErrorCode.LeaderNotAvailable)]
    [TestCase(ErrorCode.RequestTimedOut)]
    [TestCase(ErrorCode.NotEnoughReplicas)]
    [TestCase(ErrorCode.NotEnoughReplicasAfterAppend)]
    [TestCase(ErrorCode.UnknownTopicOrPart)]
    [TestCase(ErrorCode.Local_PurgeQueue)]
    [TestCase(ErrorCode.ThrottlingQuotaExceeded)]
    public void Transient_errors_are_retried(ErrorCode code) =>
        Assert.That(KafkaErrorClassifier.Classify(code, isFatal: false), Is.EqualTo(DeliveryErrorClass.Retriable));

    [TestCase(ErrorCode.MsgSizeTooLarge)]
    [TestCase(ErrorCode.InvalidMsg)]
    [TestCase(ErrorCode.InvalidMsgSize)]
    [TestCase(ErrorCode.RecordListTooLarge)]
    [TestCase(ErrorCode.InvalidRecord)]
    [TestCase(ErrorCode.Local_BadMsg)]
    public void Errors_of_one_message_dead_letter_it(ErrorCode code) =>
        Assert.That(KafkaErrorClassifier.Classify(code, isFatal: false), Is.EqualTo(DeliveryErrorClass.PermanentForMessage));

    [TestCase(ErrorCode.TopicAuthorizationFailed)]
    [TestCase(ErrorCode.ClusterAuthorizationFailed)]
    [TestCase(ErrorCode.SaslAuthenticationFailed)]
    [TestCase(ErrorCode.Local_Fatal)]
    [TestCase(ErrorCode.ProducerFenced)]
    [TestCase(ErrorCode.OutOfOrderSequenceNumber)]
    [TestCase(ErrorCode.Local_UnknownTopic)]
    public void Errors_needing_an_operator_are_fatal(ErrorCode code) =>
        Assert.That(KafkaErrorClassifier.Classify(code, isFatal: false), Is.EqualTo(DeliveryErrorClass.Fatal));

    [Test]
    public void An_error_librdkafka_flags_fatal_is_fatal_whatever_its_code() =>
        Assert.That(KafkaErrorClassifier.Classify(ErrorCode.Local_MsgTimedOut, isFatal: true), Is.EqualTo(DeliveryErrorClass.Fatal));
}

public sealed class TouchpointKeyTests
{
    private static string? Key(string json, out string? reason)
    {
        var key = TouchpointKey.TryRead(Encoding.UTF8.GetBytes(json), out reason, out _);
        return key is null ? null : Encoding.UTF8.GetString(key);
    }

    [Test]
    public void Reads_site_and_visitor_wherever_they_are_in_the_object()
    {
        Assert.That(Key("""{"schema":"touchpoint/1","event_id":"e","props":{"site_id":"inner"},"visitor_id":"v-1","site_id":"shop"}""", out _), Is.EqualTo("shop:v-1"));
    }

    [Test]
    public void Unescapes_json_strings() =>
        Assert.That(Key("""{"site_id":"a\u00e9","visitor_id":"v\"1"}""", out _), Is.EqualTo("aé:v\"1"));

    [Test]
    public void The_last_of_repeated_members_counts_escaped_or_not()
    {
        Assert.That(Key("""{"site_id":"first","visitor_id":"v\u0031","site_id":"s\u00e9cond","visitor_id":"plain"}""", out _), Is.EqualTo("sécond:plain"));
        Assert.That(Key("""{"site_id":"fir\u0073t","site_id":"plain","visitor_id":"v"}""", out _), Is.EqualTo("plain:v"));
    }

    /// <summary>
    /// Whatever the site and visitor strings and however the writer escapes them, the key is exactly
    /// <c>site:visitor</c> in UTF-8, as a JSON parser reads the two members.
    /// </summary>
    [Test]
    public void The_key_is_what_a_json_parser_reads_property()
    {
        var text = Gen.Elements("s", "shop", "v-1", "\"", "\\", "é", "\u0000", "\n", "<&>", "\ud83d\ude00", "+", "/", "a b");
        var strings = Gen.ListOf(text).Select(parts => string.Concat(parts)).Where(v => v.Length > 0);
        var cases = Gen.Zip(Gen.Zip(strings, strings), Gen.Zip(Gen.Elements(true, false), Gen.Elements(true, false)));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var ((site, visitor), (relaxed, visitorFirst)) = c;
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions
            {
                Encoder = relaxed ? System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping : System.Text.Encodings.Web.JavaScriptEncoder.Default,
            }))
            {
                w.WriteStartObject();
                w.WriteString("event_id", "e");
                if (visitorFirst)
                {
                    w.WriteString("visitor_id", visitor);
                }
                w.WriteString("site_id", site);
                w.WriteStartObject("props");
                w.WriteString("site_id", "inner");
                w.WriteEndObject();
                if (!visitorFirst)
                {
                    w.WriteString("visitor_id", visitor);
                }
                w.WriteEndObject();
            }
            var key = TouchpointKey.TryRead(buffer.WrittenSpan, out var reason, out _);
            return key is not null && reason is null && key.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(site + ":" + visitor));
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    [TestCase("{not json")]
    [TestCase("[1,2]")]
    [TestCase("\"text\"")]
    [TestCase("""{"site_id":"s","visitor_id":"v"} trailing""")]
    [TestCase("""{"site_id":"s","visitor_id":"v",""")]
    [TestCase("")]
    public void Malformed_entries_are_unparsable(string json)
    {
        Assert.That(Key(json, out var reason), Is.Null);
        Assert.That(reason, Is.EqualTo(TouchpointKey.Unparsable));
    }

    [TestCase("""{"site_id":"s"}""")]
    [TestCase("""{"visitor_id":"v"}""")]
    [TestCase("""{"site_id":"","visitor_id":"v"}""")]
    [TestCase("""{"site_id":1,"visitor_id":"v"}""")]
    public void Entries_without_site_or_visitor_have_no_key(string json)
    {
        Assert.That(Key(json, out var reason), Is.Null);
        Assert.That(reason, Is.EqualTo(TouchpointKey.MissingKey));
    }
}

public sealed class RetryPlanTests
{
    private static (List<int> Ack, List<int> Dead, List<int> Retry) Split(string keys, string outcomes)
    {
        var o = outcomes.Select(c => c switch
        {
            'D' => EntryOutcome.Delivered,
            'R' => EntryOutcome.Retriable,
            'F' => EntryOutcome.Fatal,
            _ => EntryOutcome.Rejected,
        }).ToArray();
        List<int> ack = [], dead = [], retry = [];
        RetryPlan.Split(Enumerable.Range(0, keys.Length).ToList(), i => o[i], i => keys[i].ToString(), ack, dead, retry);
        return (ack, dead, retry);
    }

    [Test]
    public void All_delivered_all_acknowledged()
    {
        var (ack, dead, retry) = Split("abab", "DDDD");
        Assert.That(ack, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(dead, Is.Empty);
        Assert.That(retry, Is.Empty);
    }

    [Test]
    public void After_a_failure_the_later_entries_of_that_key_are_produced_again_even_if_delivered()
    {
        // keys a b a b a; entry 2 (a) failed, entry 4 (a) was delivered: 4 goes again, behind 2.
        var (ack, dead, retry) = Split("ababa", "DDRDD");
        Assert.That(ack, Is.EqualTo(new[] { 0, 1, 3 }));
        Assert.That(retry, Is.EqualTo(new[] { 2, 4 }));
        Assert.That(dead, Is.Empty);
    }

    [Test]
    public void Rejected_entries_are_dead_lettered_and_never_retried()
    {
        var (ack, dead, retry) = Split("aab", "XFX");
        Assert.That(dead, Is.EqualTo(new[] { 0, 2 }));
        Assert.That(retry, Is.EqualTo(new[] { 1 }));
        Assert.That(ack, Is.Empty);
    }
}

public sealed class KafkaDeliveryStateTests
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks);
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Test]
    public void Healthy_until_an_error_then_healthy_again_after_a_delivery()
    {
        var clock = new ManualClock();
        var state = new KafkaDeliveryState(clock);
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Is.Null);
        state.Failed("Local_AllBrokersDown: 3/3 brokers are down", fatal: false);
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Does.Contain("Local_AllBrokersDown"));
        state.Delivered();
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Is.Null);
    }

    [Test]
    public void A_batch_waiting_longer_than_the_stall_time_turns_it_red()
    {
        var clock = new ManualClock();
        var state = new KafkaDeliveryState(clock);
        state.BatchStarted(shard: 2);
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Is.Null);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Does.Contain("waited 6.0s"));
        state.BatchFinished(shard: 2);
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Is.Null);
    }

    [Test]
    public void A_fatal_error_is_not_cleared_by_a_metadata_probe()
    {
        var state = new KafkaDeliveryState(new ManualClock());
        state.Failed("TopicAuthorizationFailed", fatal: true);
        state.Reachable();
        Assert.That(state.Problem(TimeSpan.FromSeconds(5)), Does.Contain("FATAL"));
        state.Failed("Local_Transport", fatal: false);
        var retriable = new KafkaDeliveryState(new ManualClock());
        retriable.Failed("Local_Transport", fatal: false);
        retriable.Reachable();
        Assert.That(retriable.Problem(TimeSpan.FromSeconds(5)), Is.Null);
    }
}

public sealed class LogThrottleTests
{
    [Test]
    public void Lets_one_through_per_interval_and_counts_the_rest()
    {
        var throttle = new LogThrottle(TimeSpan.FromHours(1), TimeProvider.System);
        Assert.That(throttle.ShouldLog(out _), Is.True);
        Assert.That(throttle.ShouldLog(out _), Is.False);
        Assert.That(throttle.ShouldLog(out _), Is.False);
    }
}
