using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// <c>GET /api/v1/attribution</c> over Kestrel and a real DuckDB file holding these rows (site acme, UTC, March 2026):
/// <code>
/// person 1001 (visitors 1 and 2, linked in person_visitors)
///   v1 03-10 12:00 Email (newsletter / email, campaign nurture)   (+ a later writer-batch row of that session, ignored)
///   v2 03-17 12:00 Paid Search (google / cpc, campaign brand)
///   v1 03-20 12:00 Direct
///   conversion c1 (purchase, 100) on v2 at 03-20 12:00             -> the worked example: −10 d, −3 d, 0
/// v3 03-02 Referral; conversion c2 (purchase, 70) at 03-03, refunded 03-08 (a retracting row): does not count
/// v4 02-02 12:00 Organic Search; conversion c3 (purchase, 40) at 03-05 12:00: 31 days later
/// v5 03-12 12:00 Email; conversion c5 (lead, no value) at 03-12 13:00
/// v6 03-15 Display, no conversion
/// </code>
/// </summary>
public sealed class AttributionApiTests
{
    private const string Key = "acme-read-key-0123456789";
    private ApiHost _host = null!;
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _host = await ApiHost.StartAsync("attribution.duckdb", Dataset.At(4, 2, 9, 0), new Dictionary<string, string?>
        {
            ["Analytics:ApiKeys:acme:0"] = Key,
        });
        (_app, _http) = (_host.App, _host.Http);
        Insert(_app.Services.GetRequiredService<AnalyticsStore>());
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _host.DisposeAsync();
    }

    private static void Insert(AnalyticsStore store)
    {
        using var c = store.OpenReadConnection();
        void Exec(string sql)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        void Session(int skey, int vkey, string start, int starts, string channel, string? source = null, string? medium = null, string? campaign = null)
        {
            string Q(string? v) => v is null ? "NULL" : $"'{v}'";
            Exec($"""
                INSERT INTO sessions VALUES ('acme', {skey}, {vkey}, DATE '{start[..10]}', TIMESTAMP '{start}', TIMESTAMP '{start}' + INTERVAL 5 MINUTE,
                    1, {starts}, 1, 2, '{channel}', {Q(source)}, {Q(medium)}, {Q(campaign)}, NULL, NULL, NULL, '/landing', NULL, 'Desktop', 'Firefox', 'Linux', 'FR')
                """);
        }
        void Conversion(string id, string type, string ts, int vkey, string value, bool retracted = false) =>
            Exec($"""
                INSERT INTO conversions VALUES ('acme', '{id}', '{type}', NULL, TIMESTAMP '{ts}', {vkey}, {vkey}, NULL, 'ev-{id}-{retracted}', NULL,
                    {value}, 'EUR', {value}, {(retracted ? "true" : "false")})
                """);
        Exec("INSERT INTO person_visitors VALUES ('acme', 1, 1001, TIMESTAMP '2026-03-01 00:00:00'), ('acme', 2, 1001, TIMESTAMP '2026-03-01 00:00:00')");
        Session(11, 1, "2026-03-10 12:00:00", 1, "Email", "newsletter", "email", "nurture");
        Session(11, 1, "2026-03-10 12:20:00", 0, "Organic Search"); // the same session's row from a later writer batch
        Session(12, 2, "2026-03-17 12:00:00", 1, "Paid Search", "google", "cpc", "brand");
        Session(13, 1, "2026-03-20 12:00:00", 1, "Direct");
        Conversion("c1", "purchase", "2026-03-20 12:00:00", 2, "100");
        Session(31, 3, "2026-03-02 10:00:00", 1, "Referral", "g2.com", "referral");
        Conversion("c2", "purchase", "2026-03-03 10:00:00", 3, "70");
        Conversion("c2", "purchase", "2026-03-08 10:00:00", 3, "-70", retracted: true);
        Session(41, 4, "2026-02-02 12:00:00", 1, "Organic Search", "google", "organic");
        Conversion("c3", "purchase", "2026-03-05 12:00:00", 4, "40");
        Session(51, 5, "2026-03-12 12:00:00", 1, "Email", "newsletter", "email", "nurture");
        Conversion("c5", "lead", "2026-03-12 13:00:00", 5, "NULL");
        Session(61, 6, "2026-03-15 09:00:00", 1, "Display", "dv360", "display", "retargeting");
        Session(99, 9, "2026-03-15 09:00:00", 1, "Email"); // another site's visitor id space is separate
        Exec("UPDATE sessions SET site = 'other' WHERE skey = 99");
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string url, bool auth = true)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (auth)
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        }
        using var res = await _http.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private const string March = "site=acme&from=2026-03-01&to=2026-03-31";

    private static JsonElement Row(JsonElement body, string key) =>
        body.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == key);

    private static double Revenue(JsonElement body, string key, string model) => Row(body, key).GetProperty("revenue").GetProperty(model).GetDouble();
    private static double Conversions(JsonElement body, string key, string model) => Row(body, key).GetProperty("conversions").GetProperty(model).GetDouble();

    [Test]
    public async Task The_worked_example_comes_out_of_the_store_with_persons_resolved()
    {
        var (status, body) = await Get($"/api/v1/attribution?{March}&conversion_type=purchase");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("by").GetString(), Is.EqualTo("channel"));
            Assert.That(body.GetProperty("lookback_days").GetInt32(), Is.EqualTo(30));
            Assert.That(body.GetProperty("conversions").GetDouble(), Is.EqualTo(2)); // c1 and c3; c2 refunded; c5 a lead
            Assert.That(body.GetProperty("revenue").GetDouble(), Is.EqualTo(140));
            Assert.That(body.GetProperty("models").GetArrayLength(), Is.EqualTo(8));
            Assert.That(Revenue(body, "Email", "first_touch"), Is.EqualTo(100));
            Assert.That(Revenue(body, "Direct", "last_touch"), Is.EqualTo(100));
            Assert.That(Revenue(body, "Paid Search", "last_non_direct"), Is.EqualTo(100));
            Assert.That(Revenue(body, "Email", "linear"), Is.EqualTo(33.33).Within(0.005));
            Assert.That(Revenue(body, "Paid Search", "position_based"), Is.EqualTo(20).Within(1e-6));
            Assert.That(Revenue(body, "Email", "time_decay"), Is.EqualTo(17.57).Within(0.005));
            Assert.That(Revenue(body, "Paid Search", "time_decay"), Is.EqualTo(35.14).Within(0.005));
            Assert.That(Revenue(body, "Direct", "time_decay"), Is.EqualTo(47.29).Within(0.005));
            // c3's only touch is 31 days before it: outside the default 30-day window
            Assert.That(Revenue(body, "(no touch)", "first_touch"), Is.EqualTo(40));
            Assert.That(body.GetProperty("rows").EnumerateArray().Any(r => r.GetProperty("key").GetString() == "Organic Search"
                && r.GetProperty("conversions").EnumerateObject().Any(m => m.Value.GetDouble() != 0)), Is.False);
            // the refunded conversion's touch earns nothing; its person's path is non-converting
            Assert.That(Conversions(body, "Referral", "markov"), Is.Zero);
            foreach (var model in body.GetProperty("models").EnumerateArray().Select(m => m.GetString()!))
            {
                Assert.That(body.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("conversions").GetProperty(model).GetDouble()), Is.EqualTo(2).Within(1e-5), model);
                Assert.That(body.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("revenue").GetProperty(model).GetDouble()), Is.EqualTo(140).Within(1e-4), model);
            }
            var top = body.GetProperty("top_paths")[0];
            Assert.That(top.GetProperty("path").EnumerateArray().Select(p => p.GetString()), Is.EqualTo(new[] { "Email", "Paid Search", "Direct" }));
            Assert.That(top.GetProperty("revenue").GetDouble(), Is.EqualTo(100));
            Assert.That(body.GetProperty("average_path_length").GetDouble(), Is.EqualTo(2)); // (3 + 1) / 2
            Assert.That(body.GetProperty("non_converting_paths").GetInt64(), Is.EqualTo(3)); // v3, v5 (a lead is filtered out), v6
        });
    }

    [Test]
    public async Task A_40_day_lookback_reaches_the_touch_31_days_before()
    {
        var (status, body) = await Get($"/api/v1/attribution?{March}&conversion_type=purchase&lookback_days=40&models=first_touch,markov");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("models").EnumerateArray().Select(m => m.GetString()), Is.EqualTo(new[] { "first_touch", "markov" }));
            Assert.That(Revenue(body, "Organic Search", "first_touch"), Is.EqualTo(40));
            Assert.That(body.GetProperty("rows").EnumerateArray().Any(r => r.GetProperty("key").GetString() == "(no touch)"), Is.False);
            Assert.That(body.GetProperty("rows")[0].GetProperty("key").GetString(), Is.EqualTo("Email").Or.EqualTo("Organic Search"));
        });
    }

    [Test]
    public async Task Every_conversion_type_by_source_medium_and_by_campaign()
    {
        var (_, all) = await Get($"/api/v1/attribution?{March}&by=source_medium&models=last_touch,linear");
        var (_, campaigns) = await Get($"/api/v1/attribution?{March}&by=campaign&models=first_touch&half_life_days=3.5");
        Assert.Multiple(() =>
        {
            Assert.That(all.GetProperty("conversions").GetDouble(), Is.EqualTo(3)); // c1, c3, and the lead c5
            Assert.That(all.GetProperty("revenue").GetDouble(), Is.EqualTo(140));
            Assert.That(Conversions(all, "(direct) / (none)", "last_touch"), Is.EqualTo(1));
            Assert.That(Conversions(all, "google / cpc", "linear"), Is.EqualTo(1.0 / 3).Within(1e-5));
            Assert.That(Conversions(all, "newsletter / email", "last_touch"), Is.EqualTo(1)); // the lead
            Assert.That(Conversions(campaigns, "nurture", "first_touch"), Is.EqualTo(2));
            Assert.That(campaigns.GetProperty("half_life_days").GetDouble(), Is.EqualTo(3.5));
        });
    }

    [Test]
    public async Task Without_markov_the_non_converting_persons_are_not_read()
    {
        var (_, heuristic) = await Get($"/api/v1/attribution?{March}&conversion_type=purchase&models=first_touch,linear");
        var (_, markov) = await Get($"/api/v1/attribution?{March}&conversion_type=purchase&models=first_touch,markov");
        Assert.Multiple(() =>
        {
            Assert.That(heuristic.GetProperty("non_converting_paths").GetInt64(), Is.Zero);
            Assert.That(markov.GetProperty("non_converting_paths").GetInt64(), Is.EqualTo(3));
            Assert.That(Revenue(heuristic, "Email", "first_touch"), Is.EqualTo(Revenue(markov, "Email", "first_touch")));
        });
    }

    [Test]
    public async Task The_rows_export_as_csv()
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/export?view=attribution&{March}&conversion_type=purchase&models=first_touch,last_touch&format=csv");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var res = await _http.SendAsync(req);
        var csv = await res.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(res.StatusCode, Is.EqualTo(HttpStatusCode.OK), csv);
            Assert.That(csv, Does.StartWith("channel,conversions_first_touch,conversions_last_touch,revenue_first_touch,revenue_last_touch\r\n"));
            Assert.That(csv, Does.Contain("\r\nEmail,1,0,100,0\r\n"));
        });
    }

    [Test]
    public async Task It_needs_the_site_s_key()
    {
        var (status, _) = await Get($"/api/v1/attribution?{March}", auth: false);
        Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [TestCase("by=device", "by")]
    [TestCase("models=first_touch,u_shaped", "models")]
    [TestCase("models=,", "models")]
    [TestCase("lookback_days=0", "lookback_days")]
    [TestCase("lookback_days=366", "lookback_days")]
    [TestCase("half_life_days=abc", "half_life_days")]
    [TestCase("half_life_days=0", "half_life_days")]
    [TestCase("paths=101", "paths")]
    [TestCase("limit=0", "limit")]
    public async Task Bad_parameters_get_a_400_naming_the_parameter(string query, string parameter)
    {
        var (status, body) = await Get($"/api/v1/attribution?{March}&{query}");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body.GetProperty("errors").TryGetProperty(parameter, out _), Is.True, body.ToString());
        });
    }

    [Test]
    public async Task The_endpoint_is_in_the_openapi_document()
    {
        using var res = await _http.GetAsync("/api/openapi/analytics.json");
        var text = await res.Content.ReadAsStringAsync();
        Assert.That(text, Does.Contain("/api/v1/attribution").And.Contain("lookback_days"));
    }
}
