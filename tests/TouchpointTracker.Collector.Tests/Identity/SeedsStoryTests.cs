using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TouchpointTracker.Journeys.Identity;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests.Identity;

/// <summary>
/// The whole journey of the product's founding example, on a real embedded collector over HTTP: a blog post found
/// by search on a laptop (awareness); a paid ad on a phone, a comparison page (consideration); a form on the phone
/// that identifies the visitor and is a lead (decision, a conversion); the laptop logged in later (its anonymous
/// touches join the person); a call three days after the lead, sent by the call platform with the caller's phone
/// only (matched by the phone learnt at identify; a decision touch); the deal won in the CRM twenty days after the
/// lead with 12,000 EUR, sent with the e-mail only (a conversion with revenue). The person's journey lists every
/// touch in time order across both visitor ids; the conversion records carry first, lead and last touch; the
/// conversions API sums the revenue; no e-mail, phone or user id in clear anywhere the test can see.
/// </summary>
[NonParallelizable]
public sealed class SeedsStoryTests
{
    private const string Site = "demo";
    private const string Email = "Jane.Doe@Example.fr";
    private const string Phone = "+33 6 12 34 56 78";

    private static async Task SendAsync(HttpClient http, string visitor, string session, DateTimeOffset at, JsonObject? land, params JsonObject[] events)
    {
        var list = new JsonArray();
        var i = 0;
        foreach (var e in events)
        {
            e["id"] = Guid.NewGuid().ToString();
            e["ts"] = at.ToUnixTimeMilliseconds() + i++;
            list.Add(e);
        }
        var beacon = new JsonObject
        {
            ["v"] = 1, ["site"] = Site, ["vid"] = visitor, ["sid"] = session, ["sent"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ["events"] = list,
        };
        if (land is not null)
        {
            beacon["land"] = land;
        }
        using var response = await http.PostAsync("/collect", new StringContent(beacon.ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.That((int)response.StatusCode, Is.LessThan(300), await response.Content.ReadAsStringAsync());
    }

    private static JsonObject Page(string url, string referrer = "") => new() { ["type"] = "pageview", ["url"] = url, ["ref"] = referrer, ["title"] = "page" };

    private static JsonObject Land(string url, string referrer = "") => new() { ["url"] = url, ["ref"] = referrer };

    private static async Task<JsonObject> OfflineAsync(HttpClient http, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "demo-server-key");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!.AsObject();
    }

    private static async Task<JsonNode> PollAsync(HttpClient http, string path, Func<JsonNode, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync(path);
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && JsonNode.Parse(last) is { } node && done(node))
            {
                return node;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"within 30 s {path} did not show {what}; last answer: {last}");
        return null!;
    }

    [Test]
    public async Task Search_blog_ad_on_a_second_device_lead_call_and_won_deal_make_one_journey_with_its_conversions()
    {
        await using var collector = await CollectorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Analytics:FlushIntervalMs"] = "100",
            ["Collector:MaxEventAgeDays"] = "30",
        });
        using var http = collector.CreateClient();
        var run = Guid.NewGuid().ToString("N")[..8];
        var (laptop, phone) = ("laptop-" + run, "phone-" + run);
        var t0 = DateTimeOffset.UtcNow.AddDays(-24);
        const string host = "https://demo.example";

        // Day 0, laptop: a blog post found by searching the web.
        var blog = host + "/blog/what-is-a-customer-journey";
        await SendAsync(http, laptop, "ls1-" + run, t0, Land(blog, "https://www.google.fr/"), Page(blog, "https://www.google.fr/"));
        // Day 2, phone: a paid search ad to the comparison page, then the contact form: identify (e-mail, phone) and lead.
        var ad = host + "/compare/acme-vs-others?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=Cj0-" + run;
        await SendAsync(http, phone, "ps1-" + run, t0.AddDays(2), Land(ad, "https://www.google.fr/"), Page(ad, "https://www.google.fr/"));
        var contact = host + "/contact";
        await SendAsync(http, phone, "ps1-" + run, t0.AddDays(2).AddMinutes(5), Land(ad, "https://www.google.fr/"),
            Page(contact, ad),
            new JsonObject
            {
                ["type"] = "identify", ["url"] = contact,
                ["props"] = new JsonObject { ["user_id"] = "crm-jane-" + run, ["traits"] = new JsonObject { ["email"] = Email, ["phone"] = Phone } },
            },
            new JsonObject { ["type"] = "event", ["name"] = "lead", ["url"] = contact, ["props"] = new JsonObject { ["lead_id"] = "L-" + run } });
        // Day 3, laptop: back directly, logs in (its anonymous blog visit joins the person).
        var pricing = host + "/pricing";
        await SendAsync(http, laptop, "ls2-" + run, t0.AddDays(3), Land(pricing), Page(pricing),
            new JsonObject { ["type"] = "identify", ["url"] = pricing, ["props"] = new JsonObject { ["user_id"] = "crm-jane-" + run } });

        var person = IdentityResolver.PersonIdFor(Site, IdentityHashing.UserId("crm-jane-" + run));
        await PollAsync(http, $"/api/v1/persons/{person}?site={Site}", n => n["touches"]!.AsArray().Count >= 6, "the six browser touches");

        // Day 5 (three days after the lead): the call platform sends the call with the caller's number only.
        var call = await OfflineAsync(http, $$"""
            {"events":[{"event_id":"call-{{run}}","type":"call","occurred_at":"{{t0.AddDays(5):O}}","phone":"{{Phone}}",
              "duration_s":420,"answered":true,"source":"Call"}]}
            """);
        // Day 22 (twenty days after the lead): the deal is won in the CRM, sent with the e-mail only.
        var won = await OfflineAsync(http, $$"""
            {"events":[{"event_id":"deal-{{run}}-won","type":"crm_stage","occurred_at":"{{t0.AddDays(22):O}}","email":"{{Email.ToUpperInvariant()}}",
              "stage":"won","value":12000,"currency":"EUR","deal_id":"D-{{run}}"}]}
            """);
        Assert.That(((int)call["accepted"]!, (int)won["accepted"]!), Is.EqualTo((1, 1)), call.ToJsonString() + won.ToJsonString());

        var view = await PollAsync(http, $"/api/v1/persons/{person}?site={Site}", n => n["touches"]!.AsArray().Count >= 8, "the call and the won deal");
        var touches = view["touches"]!.AsArray().Select(t => t!).ToList();
        var records = (await PollAsync(http, $"/api/conversion-records?site={Site}&limit=100",
            n => n.AsArray().Count(r => ((string?)r!["visitor_id"])?.EndsWith(run, StringComparison.Ordinal) == true) >= 2, "the lead and the won records"))
            .AsArray().Where(r => ((string?)r!["visitor_id"])?.EndsWith(run, StringComparison.Ordinal) == true).Select(r => r!).ToList();
        var lead = records.Single(r => (string?)r["type"] == "lead");
        var deal = records.Single(r => (string?)r["type"] == "won");
        var conversions = await PollAsync(http, $"/api/v1/conversions?site={Site}&from={t0:yyyy-MM-dd}&to={DateTimeOffset.UtcNow.AddDays(1):yyyy-MM-dd}",
            n => n.ToJsonString().Contains("\"won\"", StringComparison.Ordinal), "the won conversion");

        Assert.Multiple(() =>
        {
            // One journey, in time order, across both devices, with the offline touches placed at their times.
            Assert.That(touches.Select(t => (DateTime)t["touch"]!["ts"]!), Is.Ordered);
            Assert.That(touches.Select(t => (string?)t["visitor_id"]).Distinct(), Is.EquivalentTo(new[] { laptop, phone }));
            Assert.That(touches.Select(t => (string?)t["touch"]!["type"]), Has.Exactly(2).EqualTo("offline"));
            Assert.That(view["visitors"]!.AsArray().Select(v => (string?)v!["visitor_id"]), Is.EquivalentTo(new[] { laptop, phone }));
            var first = touches[0]["touch"]!;
            Assert.That(((string?)first["page_path"] ?? (string?)first["path"] ?? first.ToJsonString()), Does.Contain("/blog/what-is-a-customer-journey"));

            // The lead: a decision conversion on the phone, its lead touch the paid ad's session.
            Assert.That((string?)lead["stage"], Is.EqualTo("decision"));
            Assert.That((string?)lead["lead_touch"]!["channel"], Is.EqualTo("Paid Search"));
            Assert.That((string?)lead["lead_touch"]!["campaign"], Is.EqualTo("spring"));
            // The won deal: 12,000 EUR, twenty days after the lead; its first touch the laptop's search, its path
            // across both devices.
            Assert.That((double?)deal["value"], Is.EqualTo(12000));
            Assert.That((string?)deal["currency"], Is.EqualTo("EUR"));
            Assert.That((string?)deal["first_touch"]!["channel"], Is.EqualTo("Organic Search"));
            Assert.That((string?)deal["first_touch"]!["landing_page"], Does.Contain("/blog/what-is-a-customer-journey"));
            Assert.That((double)deal["days_from_first_touch"]!, Is.EqualTo(22).Within(0.1));
            Assert.That(deal["attribution"]!["touches"]!.AsArray().Select(t => (string?)t!["channel"]), Does.Contain("Organic Search").And.Contain("Paid Search"));
            Assert.That(deal["identifiers"]!["email_sha256"]?.GetValue<string>(), Is.EqualTo(IdentityHashing.Email(Email)));

            // The conversions API: the lead and the deal, the revenue in the reporting currency.
            Assert.That(conversions.ToJsonString(), Does.Contain("12000"));
        });

        // The call is a decision touch placed at its time.
        var staged = JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={phone}&limit=1000"))!.AsArray()
            .Concat(JsonNode.Parse(await http.GetStringAsync($"/api/events?visitor={laptop}&limit=1000"))!.AsArray()).Select(e => e!).ToList();
        var callTouch = staged.Single(e => (string?)e["event_id"] == "call-" + run);
        Assert.Multiple(() =>
        {
            Assert.That((string?)callTouch["journey"]!["stage"], Is.EqualTo("decision"));
            Assert.That(callTouch["journey"]!["reasons"]!.AsArray().Select(r => (string?)r), Does.Contain("decision.offline-conversation"));
            Assert.That((string?)callTouch["journey"]!["person_id"], Is.EqualTo(person));
            // Nothing in clear: not the e-mail, not the phone, not the user id.
            var everything = string.Join("\n", staged.Select(e => e.ToJsonString())) + view.ToJsonString() + string.Join("\n", records.Select(r => r.ToJsonString()));
            Assert.That(everything, Does.Not.Contain("jane.doe").IgnoreCase.And.Not.Contain("612345678").And.Not.Contain("crm-jane"));
        });
    }
}
