using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Identity;

/// <summary>
/// Identity through the whole distributed pipeline: a collector process (distributed mode) in front of a real
/// redis-server and librdkafka's mock cluster, and a processor process. Two devices identified as one user make
/// one journey in time order; junk user ids merge nobody; an offline call sent with a phone number and no visitor
/// id lands in the person's journey; an offline meeting that matched nobody waits in Redis and is placed when its
/// e-mail appears in a later identify; and no clear e-mail, phone or user id is anywhere: Redis keys and values,
/// every Kafka message of the three topics, the logs of both processes.
/// </summary>
[NonParallelizable]
public sealed class IdentityPipelineTests
{
    private const string Site = "acme";
    private const string ServerKey = "acme-server-key-for-tests-0123";
    private const string Email = "Jane.Doe@Example.com";
    private const string Phone = "+33 6 12 34 56 78";
    private const string UserId = "crm-user-4242";

    [Test]
    [CancelAfter(240_000)]
    public async Task Two_devices_and_an_offline_call_make_one_journey_and_nothing_is_kept_in_clear()
    {
        await using var env = await KafkaEnvironment.StartAsync(partitions: 4);
        await using var collector = await CollectorProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Redis__Configuration"] = env.Redis.Configuration,
            ["Kafka__BootstrapServers"] = env.BootstrapServers,
            ["Kafka__TouchpointsPartitions"] = env.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Kafka__CreateTopics"] = "false",
            [$"Collector__Sites__{Site}__Domains__0"] = "www.acme.example",
            [$"Collector__Sites__{Site}__ServerKeys__0"] = ServerKey,
            ["Edge__RateLimitPerSecond"] = "0",
            ["Logging__LogLevel__Default"] = "Debug",
        });
        var settings = env.ProcessorSettings("identity");
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:Microsoft"] = "Warning";
        await using var processor = await ProcessorProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };

        var t0 = DateTimeOffset.UtcNow.AddHours(-2);
        await SendAsync(http, "laptop", "s-l1", t0, Page("https://www.acme.example/blog/what-is-a-crm", "https://www.google.com/"));
        await SendAsync(http, "phone", "s-p1", t0.AddMinutes(30), Page("https://www.acme.example/compare/acme-vs-other?gclid=Cj0-test-click", ""));
        await SendAsync(http, "laptop", "s-l2", t0.AddMinutes(60), Identify(UserId, new JsonObject { ["email"] = Email, ["phone"] = Phone, ["plan"] = "pro" }));
        await SendAsync(http, "junk-1", "s-j1", t0.AddMinutes(61), Page("https://www.acme.example/", ""), Identify("undefined", null));
        await SendAsync(http, "junk-2", "s-j2", t0.AddMinutes(62), Page("https://www.acme.example/", ""), Identify(" NULL ", null));
        // The second device identifies ten minutes after the first, as people do: wait until the first identify is
        // staged. Two devices of one person identifying at the same instant on two partitions is the documented
        // last-writer-wins case (docs/identity.md), not what this test is about.
        Assert.That(env.ReadAll(KafkaEnvironment.Staged, 7, TimeSpan.FromSeconds(120)), Has.Count.EqualTo(7), "the first seven touches staged");
        await SendAsync(http, "phone", "s-p2", t0.AddMinutes(70), Identify(UserId, new JsonObject { ["contact_email"] = Email }));
        await SendAsync(http, "phone", "s-p2", t0.AddMinutes(71), Page("https://www.acme.example/pricing", ""));

        // A call the CRM sends later, with the phone number and no visitor id (so it is matched by the hash).
        var offline = new JsonObject
        {
            ["site"] = Site,
            ["events"] = new JsonArray(new JsonObject
            {
                ["event_id"] = "call-1", ["type"] = "call", ["occurred_at"] = t0.AddMinutes(90).ToString("O", CultureInfo.InvariantCulture),
                ["phone"] = Phone, ["duration_s"] = 185, ["answered"] = true,
            }, new JsonObject
            {
                ["event_id"] = "meeting-nobody", ["type"] = "meeting", ["occurred_at"] = t0.AddMinutes(91).ToString("O", CultureInfo.InvariantCulture),
                ["email"] = "someone.else@example.org",
            }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events") { Content = new StringContent(offline.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerKey);
        using var answer = await http.SendAsync(request);
        var answerText = await answer.Content.ReadAsStringAsync();
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK), answerText);
        Assert.That(JsonNode.Parse(answerText)!["accepted"]!.GetValue<int>(), Is.EqualTo(2), answerText);

        // 9 beacons' events and the matched call are staged; the meeting waits, unmatched.
        var staged = env.ReadAll(KafkaEnvironment.Staged, 10, TimeSpan.FromSeconds(120))
            .Select(m => JsonSerializer.Deserialize(m.Message.Value, ContractsJsonContext.Default.Touchpoint)!).ToList();
        var log = Describe(staged) + "\n--- processor ---\n" + processor.Output;
        Assert.That(staged, Has.Count.EqualTo(10), log);

        var personId = IdentityResolver.PersonIdFor(Site, IdentityHashing.UserId(UserId));
        var person = staged.Where(s => s.VisitorId is "laptop" or "phone" || s.EventId == "call-1").OrderBy(s => s.DerivedTs).ToList();
        var call = staged.Single(s => s.EventId == "call-1");
        var last = person.Where(s => s.Journey!.PersonId is not null).MaxBy(s => s.Journey!.TouchIndex)!;
        Assert.Multiple(() =>
        {
            Assert.That(staged.Where(s => s.Type == "identify" && s.VisitorId is "laptop" or "phone").Select(s => s.Journey!.PersonId), Has.All.EqualTo(personId), log);
            Assert.That(call.Journey!.PersonId, Is.EqualTo(personId), log);
            Assert.That(call.VisitorId, Is.AnyOf("laptop", "phone"));
            Assert.That(call.Props!["matched_by"].GetString(), Is.EqualTo("phone"));
            Assert.That(last.Journey!.TouchIndex, Is.EqualTo(6), "laptop 2 + phone 3 + the call: one journey of 6 touches\n" + log);
            Assert.That(person.Where(s => s.Journey!.PersonId is not null).Select(s => s.Journey!.Id).Distinct().Count(), Is.EqualTo(1), "one journey id once identified\n" + log);
            Assert.That(staged.Where(s => s.VisitorId.StartsWith("junk", StringComparison.Ordinal)).Select(s => s.Journey!.PersonId), Has.All.Null, "junk ids merge nobody");
            Assert.That(staged.Where(s => s.VisitorId.StartsWith("junk", StringComparison.Ordinal)).Select(s => s.Journey!.Id).Distinct().Count(), Is.EqualTo(2));
        });

        // The unmatched meeting is placed once its e-mail appears (an identify on another visitor).
        using (var redisBefore = await ConnectionMultiplexer.ConnectAsync(env.Redis.Configuration))
        {
            Assert.That(await redisBefore.GetDatabase().SortedSetLengthAsync($"tt:identity:{{{Site}}}:u:at"), Is.EqualTo(1), "one unmatched event waits in Redis");
        }
        await SendAsync(http, "late", "s-x1", t0.AddMinutes(100), Identify("crm-user-77", new JsonObject { ["email"] = "Someone.Else@example.org" }));
        var after = env.ReadAll(KafkaEnvironment.Staged, 12, TimeSpan.FromSeconds(60))
            .Select(m => JsonSerializer.Deserialize(m.Message.Value, ContractsJsonContext.Default.Touchpoint)!).ToList();
        var meeting = after.SingleOrDefault(s => s.EventId == "meeting-nobody");
        Assert.That(meeting, Is.Not.Null, Describe(after) + "\n--- processor ---\n" + processor.Output);
        Assert.Multiple(() =>
        {
            Assert.That(meeting!.VisitorId, Is.EqualTo("late"));
            Assert.That(meeting.Journey!.PersonId, Is.EqualTo(IdentityResolver.PersonIdFor(Site, IdentityHashing.UserId("crm-user-77"))));
            Assert.That(meeting.Props!["matched_by"].GetString(), Is.EqualTo("email"));
        });

        // Nothing in clear: Redis keys and values, every Kafka message, the logs.
        var forbidden = new[] { "jane.doe", "example.com", "612345678", "6 12 34", UserId, "someone.else", "crm-user-77" };
        using var redis = await ConnectionMultiplexer.ConnectAsync(env.Redis.Configuration);
        var dump = await DumpRedisAsync(redis);
        Assert.That(dump, Does.Contain(":p:" + personId), "the person is in Redis");
        var kafka = string.Join('\n', new[] { KafkaEnvironment.Input, KafkaEnvironment.Staged, KafkaEnvironment.Transitions }
            .SelectMany(t => env.ReadAll(t, 1, TimeSpan.FromSeconds(30)))
            .Select(m => m.Message.Key + " " + Encoding.UTF8.GetString(m.Message.Value)));
        foreach (var (what, text) in new[] { ("redis", dump), ("kafka", kafka), ("collector log", collector.Output), ("processor log", processor.Output) })
        {
            foreach (var clear in forbidden)
            {
                Assert.That(text.Contains(clear, StringComparison.OrdinalIgnoreCase), Is.False, $"'{clear}' in clear in the {what}");
            }
        }
        Assert.That(kafka, Does.Contain(IdentityHashing.Email(Email)), "the e-mail travels as its hash");
        Assert.That(collector.Output.Length + processor.Output.Length, Is.GreaterThan(1000), "the logs were captured (debug level)");

        using var metrics = new HttpClient { BaseAddress = processor.BaseAddress };
        var text2 = await metrics.GetStringAsync("/metrics");
        Assert.That(text2, Does.Contain("tt_identity_events_total{event=\"linked\"} 3"), text2);
        Assert.That(text2, Does.Contain("tt_identity_events_total{event=\"rematched\"} 1"));
        Assert.That(text2, Does.Contain("tt_identity_events_total{event=\"matched\"} 1"));
        Assert.That(text2, Does.Contain("tt_identity_events_total{event=\"unmatched\"} 1"));
        Assert.That(text2, Does.Contain("tt_identity_events_total{event=\"junk\"} 2"));
    }

    private static string Describe(IEnumerable<Touchpoint> staged) => string.Join('\n', staged.OrderBy(s => s.DerivedTs)
        .Select(s => $"{s.DerivedTs:HH:mm} {s.VisitorId,-8} {s.Type,-9} {s.EventId,-16} journey={s.Journey?.Id} person={s.Journey?.PersonId} #{s.Journey?.TouchIndex} {s.Journey?.Stage}"));

    private static JsonObject Page(string url, string referrer) => new() { ["type"] = "pageview", ["url"] = url, ["ref"] = referrer, ["title"] = "Page" };

    private static JsonObject Identify(string userId, JsonObject? traits)
    {
        var props = new JsonObject { ["user_id"] = userId };
        if (traits is not null)
        {
            props["traits"] = traits;
        }
        return new JsonObject { ["type"] = "identify", ["url"] = "https://www.acme.example/contact", ["props"] = props };
    }

    /// <summary>Sends the events as one beacon of the tag, at <paramref name="at"/> (the collector derives the time from ts and sent).</summary>
    private static async Task SendAsync(HttpClient http, string visitor, string session, DateTimeOffset at, params JsonObject[] events)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var created = at.ToUnixTimeMilliseconds();
        var list = new JsonArray();
        var i = 0;
        foreach (var e in events)
        {
            e["id"] = $"{visitor}-{created}-{i}";
            e["ts"] = created + i++;
            list.Add(e);
        }
        var beacon = new JsonObject { ["v"] = 1, ["site"] = Site, ["vid"] = visitor, ["sid"] = session, ["sent"] = now, ["events"] = list };
        using var response = await http.PostAsync("/collect", new StringContent(beacon.ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.That((int)response.StatusCode, Is.LessThan(300), await response.Content.ReadAsStringAsync());
        await Task.Delay(300); // one visitor's beacons in order through the buffer's shards
    }

    /// <summary>Every key of the Redis server with its value, whatever its type.</summary>
    private static async Task<string> DumpRedisAsync(ConnectionMultiplexer redis)
    {
        var server = redis.GetServers()[0];
        var db = redis.GetDatabase();
        var text = new StringBuilder();
        await foreach (var key in server.KeysAsync(pattern: "*"))
        {
            text.Append(key).Append(" = ");
            switch (await db.KeyTypeAsync(key))
            {
                case RedisType.String:
                    text.Append(await db.StringGetAsync(key));
                    break;
                case RedisType.Hash:
                    foreach (var e in await db.HashGetAllAsync(key))
                    {
                        text.Append(e.Name).Append(':').Append(e.Value).Append(' ');
                    }
                    break;
                case RedisType.Set:
                    text.AppendJoin(' ', await db.SetMembersAsync(key));
                    break;
                case RedisType.SortedSet:
                    text.AppendJoin(' ', await db.SortedSetRangeByRankAsync(key));
                    break;
                case RedisType.List:
                    text.AppendJoin(' ', await db.ListRangeAsync(key));
                    break;
                case RedisType.Stream:
                    foreach (var entry in await db.StreamRangeAsync(key))
                    {
                        text.AppendJoin(' ', entry.Values.Select(v => v.Name + "=" + v.Value)).Append(' ');
                    }
                    break;
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
