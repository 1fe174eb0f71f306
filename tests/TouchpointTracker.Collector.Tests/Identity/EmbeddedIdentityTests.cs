using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Identity;

/// <summary>
/// Identity on a real embedded collector over HTTP: two devices identified as one user make one journey, listed in
/// time order by the person endpoint (and found by user id); junk ids merge nobody; the visitor cap holds; an
/// offline event that matches nobody is listed as unmatched, then placed when its e-mail appears; links survive a
/// restart.
/// </summary>
[NonParallelizable]
public sealed class EmbeddedIdentityTests
{
    private const string Site = "demo";

    private static async Task SendAsync(HttpClient http, string visitor, DateTimeOffset at, params JsonObject[] events)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var list = new JsonArray();
        var i = 0;
        foreach (var e in events)
        {
            e["id"] = Guid.NewGuid().ToString();
            e["ts"] = at.ToUnixTimeMilliseconds() + i++;
            list.Add(e);
        }
        var beacon = new JsonObject { ["v"] = 1, ["site"] = Site, ["vid"] = visitor, ["sid"] = "s-" + visitor, ["sent"] = now, ["events"] = list };
        using var response = await http.PostAsync("/collect", new StringContent(beacon.ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.That((int)response.StatusCode, Is.LessThan(300));
    }

    private static JsonObject Page(string path) => new() { ["type"] = "pageview", ["url"] = "https://demo.example" + path, ["ref"] = "", ["title"] = "t" };

    private static JsonObject Identify(string userId, JsonObject? traits = null) => new()
    {
        ["type"] = "identify", ["url"] = "https://demo.example/contact",
        ["props"] = traits is null ? new JsonObject { ["user_id"] = userId } : new JsonObject { ["user_id"] = userId, ["traits"] = traits },
    };

    private static async Task<JsonArray> StagedAsync(HttpClient http, string visitor, int atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonArray events;
        do
        {
            events = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={visitor}&limit=1000"))!.AsArray();
            if (events.Count >= atLeast)
            {
                return events;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return events;
    }

    private static async Task<JsonNode?> PollAsync(HttpClient http, string path, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonNode? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync(path);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                if (done(last))
                {
                    return last;
                }
            }
            await Task.Delay(100);
        }
        return last;
    }

    private static string PersonOf(string userId) => IdentityResolver.PersonIdFor(Site, IdentityHashing.UserId(userId));

    [Test]
    public async Task Two_devices_identified_as_one_user_make_one_journey_in_time_order()
    {
        await using var collector = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Analytics:FlushIntervalMs"] = "100" });
        using var http = collector.CreateClient();
        var (laptop, phone) = ("lap-" + Guid.NewGuid().ToString("N")[..8], "pho-" + Guid.NewGuid().ToString("N")[..8]);
        var t0 = DateTimeOffset.UtcNow.AddHours(-3);
        await SendAsync(http, laptop, t0, Page("/blog/what-is-a-crm"));
        await SendAsync(http, phone, t0.AddMinutes(40), Page("/compare/a-vs-b"));
        await SendAsync(http, laptop, t0.AddMinutes(80), Identify("u-embedded", new JsonObject { ["email"] = "Ann@Example.org" }));
        await SendAsync(http, phone, t0.AddMinutes(120), Identify("u-embedded"), Page("/pricing"));

        var phoneStaged = await StagedAsync(http, phone, 3);
        var person = PersonOf("u-embedded");
        Assert.That(phoneStaged.Select(e => (string?)e!["journey"]!["person_id"]), Has.Exactly(2).EqualTo(person), phoneStaged.ToJsonString());
        Assert.That(phoneStaged.Max(e => (int)e!["journey"]!["touch_index"]!), Is.EqualTo(5), "laptop 2 + phone 3 touches: one journey");
        Assert.That(phoneStaged.ToJsonString() + (await StagedAsync(http, laptop, 2)).ToJsonString(), Does.Not.Contain("Example.org").IgnoreCase.And.Not.Contain("u-embedded"));

        var view = await PollAsync(http, $"/api/v1/persons/{person}?site={Site}", n => n["touches"]!.AsArray().Count >= 5);
        Assert.That(view, Is.Not.Null);
        var touches = view!["touches"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(touches.Select(t => (string?)t!["visitor_id"]), Is.EqualTo(new[] { laptop, phone, laptop, phone, phone }));
            Assert.That(touches.Select(t => (DateTime)t!["touch"]!["ts"]!), Is.Ordered);
            Assert.That(view["visitors"]!.AsArray().Select(v => (string?)v!["visitor_id"]), Is.EquivalentTo(new[] { laptop, phone }));
            Assert.That((string?)view["user_id_sha256"], Is.EqualTo(IdentityHashing.UserId("u-embedded")));
        });
        var journey = await PollAsync(http, $"/api/v1/journeys/{laptop}?site={Site}", n => n["person_id"] is not null);
        Assert.That((string?)journey!["person_id"], Is.EqualTo(person), "the visitor's journey names its person and their visitor ids (the dashboard shows them)");
        Assert.That(journey["person_visitors"]!.AsArray().Select(v => (string?)v), Is.EquivalentTo(new[] { laptop, phone }));
        var found = await PollAsync(http, $"/api/v1/persons?site={Site}&user_id=u-embedded", _ => true);
        Assert.That((string?)found!["person_id"], Is.EqualTo(person));
        using var unknown = await http.GetAsync($"/api/v1/persons?site={Site}&user_id=someone-else");
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Junk_ids_merge_nobody_and_the_visitor_cap_holds()
    {
        await using var collector = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Identity:MaxVisitorsPerPerson"] = "2" });
        using var http = collector.CreateClient();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
        var junk = new[] { "undefined", "null", " Anonymous ", "0", "[object Object]" }.Select((id, i) => (Visitor: $"junk-{i}-{Guid.NewGuid():N}", Id: id)).ToList();
        foreach (var (visitor, id) in junk)
        {
            await SendAsync(http, visitor, t0, Page("/"), Identify(id));
        }
        var capped = Enumerable.Range(0, 3).Select(i => $"cap-{i}-{Guid.NewGuid():N}").ToList();
        foreach (var visitor in capped)
        {
            await SendAsync(http, visitor, t0.AddMinutes(1), Identify("u-capped"));
        }
        foreach (var (visitor, _) in junk)
        {
            var staged = await StagedAsync(http, visitor, 2);
            Assert.That(staged.Select(e => e!["journey"]!["person_id"]), Has.All.Null, staged.ToJsonString());
            Assert.That((string?)staged[1]!["props"]!["identify_refused"], Is.EqualTo("blocklisted"));
        }
        var persons = new List<string?>();
        foreach (var visitor in capped)
        {
            persons.Add((string?)(await StagedAsync(http, visitor, 1))[0]!["journey"]!["person_id"]);
        }
        Assert.That(persons, Is.EqualTo(new[] { PersonOf("u-capped"), PersonOf("u-capped"), null }));
        var metrics = await http.GetStringAsync("/metrics");
        Assert.That(metrics, Does.Contain("tt_identity_events_total{event=\"cap_refused\"} 1"));
        Assert.That(metrics, Does.Contain("tt_identity_events_total{event=\"junk\"} 5"));
    }

    [Test]
    public async Task An_unmatched_offline_event_is_listed_then_placed_when_its_email_appears_and_links_survive_a_restart()
    {
        var folder = CollectorHost.NewDataFolder();
        var settings = new Dictionary<string, string?> { ["Analytics:Path"] = Path.Combine(folder, "analytics.duckdb") };
        var visitor = "v-" + Guid.NewGuid().ToString("N");
        await using (var collector = await CollectorHost.StartAsync(settings))
        {
            using var http = collector.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events")
            {
                Content = new StringContent($$"""{"events":[{"event_id":"meet-1","type":"meeting","occurred_at":"{{DateTimeOffset.UtcNow.AddMinutes(-20):O}}","email":"late.comer@example.net"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "demo-server-key");
            using var answer = await http.SendAsync(request);
            Assert.That(await answer.Content.ReadAsStringAsync(), Does.Contain("\"accepted\":1"));

            var unmatched = await PollAsync(http, $"/api/v1/unmatched?site={Site}", n => (long)n["total"]! >= 1);
            Assert.That((long)unmatched!["total"]!, Is.EqualTo(1));
            Assert.That((string?)unmatched["events"]![0]!["event_id"], Is.EqualTo("meet-1"));
            Assert.That(unmatched["events"]![0]!["identifiers"]!.AsArray().Select(i => (string?)i), Is.EqualTo(new[] { "email" }));
            Assert.That(unmatched.ToJsonString(), Does.Not.Contain("late.comer"));

            await SendAsync(http, visitor, DateTimeOffset.UtcNow.AddMinutes(-10), Page("/contact"), Identify("u-late", new JsonObject { ["email"] = " Late.Comer@Example.net" }));
            var staged = await StagedAsync(http, visitor, 3);
            var meeting = staged.Single(e => (string?)e!["event_id"] == "meet-1")!;
            Assert.That((string?)meeting["journey"]!["person_id"], Is.EqualTo(PersonOf("u-late")));
            Assert.That((string?)meeting["props"]!["matched_by"], Is.EqualTo("email"));
            var after = await PollAsync(http, $"/api/v1/unmatched?site={Site}", n => (long)n["total"]! == 0);
            Assert.That((long)after!["total"]!, Is.Zero);
        }
        Assert.That(File.Exists(Path.Combine(folder, "identity.json")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(folder, "identity.json")), Does.Not.Contain("late.comer").IgnoreCase);

        await using (var restarted = await CollectorHost.StartAsync(settings))
        {
            using var http = restarted.CreateClient();
            await SendAsync(http, visitor, DateTimeOffset.UtcNow.AddMinutes(-5), Page("/pricing"));
            var staged = await StagedAsync(http, visitor, 1);
            Assert.That((string?)staged.Last()!["journey"]!["person_id"], Is.EqualTo(PersonOf("u-late")), "the link and the person came back from identity.json");
            Assert.That((int)staged.Last()!["journey"]!["touch_index"]!, Is.EqualTo(4));
        }
    }
}
