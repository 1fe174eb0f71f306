using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>The API over Kestrel on a free port, as a host would map it.</summary>
public sealed class ApiTests
{
    private const string AcmeKey = "acme-read-key-0123456789";
    private const string OtherKey = "other-read-key-0123456789";
    private ApiHost _host = null!;
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _host = await ApiHost.StartAsync("api.duckdb", Dataset.At(3, 2, 15, 4), new Dictionary<string, string?>
        {
            ["Analytics:ApiKeys:acme:0"] = AcmeKey,
            ["Analytics:ApiKeys:other:0"] = OtherKey,
            ["Analytics:OpenSites:0"] = "demo",
        });
        (_app, _http) = (_host.App, _host.Http);
        var writer = _app.Services.GetRequiredService<AnalyticsWriter>();
        await Dataset.WriteAsync(writer);
        await Dataset.WriteAsync(writer, "demo");
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _host.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string url, string? bearer = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null)
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        using var res = await _http.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private const string Range = "from=2026-03-01&to=2026-03-03";

    [Test]
    public async Task Keys_guard_each_site()
    {
        var none = await Get($"/api/v1/overview?site=acme&{Range}");
        var other = await Get($"/api/v1/overview?site=acme&{Range}", OtherKey);
        var unknown = await Get($"/api/v1/overview?site=acme&{Range}", "not-a-key-at-all-xxxxxxx");
        var bearer = await Get($"/api/v1/overview?site=acme&{Range}", AcmeKey);
        var query = await Get($"/api/v1/overview?site=acme&{Range}&key={AcmeKey}");
        var open = await Get($"/api/v1/overview?site=demo&{Range}");
        Assert.Multiple(() =>
        {
            Assert.That(none.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(none.Body.GetProperty("detail").GetString(), Does.Contain("Bearer"));
            Assert.That(other.Status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(unknown.Status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(bearer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(bearer.Body.GetProperty("visitors").GetInt64(), Is.EqualTo(3));
            Assert.That(bearer.Body.GetProperty("days")[0].GetProperty("reached").GetProperty("consideration").GetInt64(), Is.EqualTo(1));
            Assert.That(query.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(open.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(open.Body.GetProperty("touchpoints").GetInt64(), Is.EqualTo(8));
        });
    }

    [TestCase("/api/v1/overview?site=demo&from=2026-13-01", "from")]
    [TestCase("/api/v1/overview?site=demo&to=yesterday", "to")]
    [TestCase("/api/v1/overview?site=demo&from=2026-03-05&to=2026-03-01", "from")]
    [TestCase("/api/v1/overview?site=demo&from=2025-01-01&to=2026-03-01", "from")]
    [TestCase("/api/v1/overview?from=2026-03-01", "site")]
    [TestCase("/api/v1/overview?site=demo&stage=purchase", "stage")]
    [TestCase("/api/v1/breakdown?site=demo", "by")]
    [TestCase("/api/v1/breakdown?site=demo&by=visitor_id", "by")]
    [TestCase("/api/v1/breakdown?site=demo&by=channel&limit=0", "limit")]
    [TestCase("/api/v1/funnel?site=demo&by=nope", "by")]
    [TestCase("/api/v1/journeys?site=demo", "search")]
    [TestCase("/api/v1/export?site=demo&view=everything", "view")]
    [TestCase("/api/v1/export?site=demo&view=overview&format=xlsx", "format")]
    public async Task Bad_parameters_get_a_400_problem_naming_the_parameter(string url, string parameter)
    {
        var (status, body) = await Get(url);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body.GetProperty("errors").TryGetProperty(parameter, out _), Is.True, body.ToString());
            Assert.That(body.GetProperty("title").GetString(), Does.Contain(parameter));
        });
    }

    [Test]
    public async Task Each_view_answers()
    {
        var breakdown = await Get($"/api/v1/breakdown?site=demo&{Range}&by=channel");
        var funnel = await Get($"/api/v1/funnel?site=demo&{Range}&by=channel");
        var journey = await Get($"/api/v1/journeys/v-a?site=demo&{Range}");
        var missing = await Get($"/api/v1/journeys/v-zz?site=demo&{Range}");
        var search = await Get($"/api/v1/journeys?site=demo&{Range}&search=v-");
        var realtime = await Get("/api/v1/realtime?site=demo");
        Assert.Multiple(() =>
        {
            Assert.That(breakdown.Body.GetProperty("rows")[0].GetProperty("value").GetString(), Is.EqualTo("Direct"));
            Assert.That(breakdown.Body.GetProperty("rows")[0].GetProperty("conversion").GetProperty("consideration").GetDouble(), Is.EqualTo(0.5));
            Assert.That(funnel.Body.GetProperty("stages")[1].GetProperty("median_seconds_from_previous").GetDouble(), Is.EqualTo(210));
            Assert.That(funnel.Body.GetProperty("groups").GetArrayLength(), Is.EqualTo(4));
            Assert.That(journey.Body.GetProperty("sessions").GetArrayLength(), Is.EqualTo(2));
            Assert.That(missing.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(search.Body.GetProperty("visitors").GetArrayLength(), Is.EqualTo(3));
            Assert.That(realtime.Body.GetProperty("visitors").GetInt64(), Is.EqualTo(1), "now is 03-02 15:04 (the test clock)");
        });
    }

    [Test]
    public async Task Export_gives_csv()
    {
        using var res = await _http.GetAsync($"/api/v1/export?site=acme&{Range}&view=breakdown&by=channel&format=csv&key={AcmeKey}");
        var csv = await res.Content.ReadAsStringAsync();
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(res.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(res.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/csv"));
            Assert.That(res.Content.Headers.ContentDisposition!.FileName, Is.EqualTo("acme-breakdown-2026-03-01-2026-03-03.csv"));
            Assert.That(lines[0], Does.StartWith("channel,visitors,sessions,touchpoints,reached_awareness"));
            Assert.That(lines[1], Does.StartWith("Direct,2,2,3,2,1,0,0,0,0.5,0,"));
            Assert.That(lines, Has.Length.EqualTo(5));
        });
        foreach (var view in new[] { "overview", "funnel", "realtime", "journey&id=v-a", "journeys&search=v" })
        {
            using var r = await _http.GetAsync($"/api/v1/export?site=demo&{Range}&view={view}");
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), view);
        }
        var unauthorized = await _http.GetAsync($"/api/v1/export?site=acme&{Range}&view=overview");
        Assert.That(unauthorized.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task OpenApi_document_and_docs_page_are_served()
    {
        using var doc = await _http.GetAsync("/api/openapi/analytics.json");
        var text = await doc.Content.ReadAsStringAsync();
        using var ui = await _http.GetAsync("/api/docs");
        Assert.Multiple(() =>
        {
            Assert.That(doc.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(text, Does.Contain("/api/v1/overview").And.Contain("/api/v1/journeys/{id}"));
            Assert.That(ui.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }
}
