using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>Conversions in the store and <c>/api/v1/conversions</c> over Kestrel and a real DuckDB file.</summary>
public sealed class ConversionsApiTests
{
    private ApiHost _host = null!;
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    private static Touchpoint Staged(string ev, string visitor, DateTimeOffset ts, ConversionInfo? conversion, string channel = "Paid Search") => new()
    {
        Schema = Touchpoint.StagedSchema,
        EventId = ev,
        SiteId = "shop",
        VisitorId = visitor,
        SessionId = "client-" + visitor,
        Type = "event",
        Name = conversion?.Type,
        DerivedTs = ts,
        ReceivedTs = ts,
        Page = new PageInfo { Host = "shop.example", Path = "/checkout/done" },
        Campaign = new CampaignInfo { Source = "google", Medium = "cpc", Name = "brand" },
        Channel = channel,
        Journey = new JourneyInfo { Id = visitor + ":first", Stage = "decision", PreviousStage = "decision", TouchIndex = 3, SessionId = "s-" + visitor, SessionIndex = 1, Conversion = conversion },
    };

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _host = await ApiHost.StartAsync("conversions.duckdb", Dataset.At(3, 3, 12, 0), new Dictionary<string, string?>
        {
            ["Analytics:OpenSites:0"] = "shop",
            ["Conversions:ReportingCurrency"] = "EUR",
            ["Conversions:Rates:USD"] = "0.9",
        }, withDocs: false);
        (_app, _http) = (_host.App, _host.Http);

        var writer = _app.Services.GetRequiredService<AnalyticsWriter>();
        var purchase = new ConversionInfo { ConversionId = "aaaaaaaaaaaaaaaaaaaaaaa1", Type = "purchase", Value = 100, Currency = "EUR", ReportingValue = 100, OrderId = "A-1" };
        var purchase2 = new ConversionInfo { ConversionId = "aaaaaaaaaaaaaaaaaaaaaaa2", Type = "purchase", Value = 50, Currency = "USD", ReportingValue = 45, OrderId = "A-2" };
        var lead = new ConversionInfo { ConversionId = "aaaaaaaaaaaaaaaaaaaaaaa3", Type = "lead", Goal = "contact" };
        var yen = new ConversionInfo { ConversionId = "aaaaaaaaaaaaaaaaaaaaaaa4", Type = "purchase", Value = 900, Currency = "JPY", OrderId = "J-1" };
        var refund = new ConversionInfo { ConversionId = "aaaaaaaaaaaaaaaaaaaaaaa5", Type = "refund", Value = -100, Currency = "EUR", ReportingValue = -100, OrderId = "A-1", Retracts = purchase.ConversionId };
        await writer.AddAsync(Staged("e1", "v1", Dataset.At(3, 1, 10, 0), purchase));
        await writer.AddAsync(Staged("e2", "v2", Dataset.At(3, 1, 11, 0), purchase2, "Email"));
        await writer.AddAsync(Staged("e3", "v3", Dataset.At(3, 2, 9, 0), lead));
        await writer.AddAsync(Staged("e4", "v4", Dataset.At(3, 2, 9, 30), yen));
        await writer.AddAsync(Staged("e0", "v1", Dataset.At(3, 1, 9, 0), null));
        await writer.FlushAsync();
        // a replay of a staged touchpoint (redelivered from Kafka) and, in a later flush, the refund
        await writer.AddAsync(Staged("e1", "v1", Dataset.At(3, 1, 10, 0), purchase));
        await writer.FlushAsync();
        await writer.AddAsync(Staged("e5", "v1", Dataset.At(3, 2, 16, 0), refund));
        await writer.FlushAsync();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _host.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string url)
    {
        using var res = await _http.GetAsync(url);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Test]
    public async Task Totals_by_type_count_revenue_in_the_reporting_currency_and_the_latest_rows()
    {
        var (status, body) = await Get("/api/v1/conversions?site=shop&from=2026-03-01&to=2026-03-03");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        var byType = body.GetProperty("by_type").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!);
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("reporting_currency").GetString(), Is.EqualTo("EUR"));
            Assert.That(body.GetProperty("conversions").GetInt64(), Is.EqualTo(3), "purchase A-1 retracted, refund not a conversion: A-2, the lead, the yen purchase");
            Assert.That(body.GetProperty("revenue").GetDouble(), Is.EqualTo(45), "100 + 45 - 100; the yen purchase has no rate");
            Assert.That(body.GetProperty("refunds").GetInt64(), Is.EqualTo(1));
            Assert.That(body.GetProperty("refunded").GetDouble(), Is.EqualTo(100));
            Assert.That(body.GetProperty("unknown_currency").GetInt64(), Is.EqualTo(1));
            Assert.That(byType["purchase"].GetProperty("conversions").GetInt64(), Is.EqualTo(2));
            Assert.That(byType["purchase"].GetProperty("retracted").GetInt64(), Is.EqualTo(1));
            Assert.That(byType["purchase"].GetProperty("value").GetDouble(), Is.EqualTo(145));
            Assert.That(byType["lead"].GetProperty("conversions").GetInt64(), Is.EqualTo(1));
            Assert.That(items, Has.Count.EqualTo(5), "the replayed touchpoint added no row");
            Assert.That(items[0].GetProperty("type").GetString(), Is.EqualTo("refund"), "latest first");
            var a1 = items.Single(i => i.GetProperty("conversion_id").GetString() == "aaaaaaaaaaaaaaaaaaaaaaa1");
            Assert.That(a1.GetProperty("retracted").GetBoolean(), Is.True);
            Assert.That(a1.GetProperty("visitor_id").GetString(), Is.EqualTo("v1"));
            Assert.That(a1.GetProperty("channel").GetString(), Is.EqualTo("Paid Search"));
            Assert.That(a1.GetProperty("order_id").GetString(), Is.EqualTo("A-1"));
        });
    }

    [Test]
    public async Task A_type_filter_and_the_overview_totals()
    {
        var leads = await Get("/api/v1/conversions?site=shop&from=2026-03-01&to=2026-03-03&type=lead");
        var firstDay = await Get("/api/v1/conversions?site=shop&from=2026-03-01&to=2026-03-01");
        var overview = await Get("/api/v1/overview?site=shop&from=2026-03-01&to=2026-03-03");
        var bad = await Get("/api/v1/conversions?site=shop&type=Robert');DROP");
        Assert.Multiple(() =>
        {
            Assert.That(leads.Body.GetProperty("items").GetArrayLength(), Is.EqualTo(1));
            Assert.That(leads.Body.GetProperty("items")[0].GetProperty("goal").GetString(), Is.EqualTo("contact"));
            Assert.That(firstDay.Body.GetProperty("revenue").GetDouble(), Is.EqualTo(145), "the refund fell on the 2nd");
            Assert.That(overview.Body.GetProperty("conversions").GetInt64(), Is.EqualTo(3));
            Assert.That(overview.Body.GetProperty("revenue").GetDouble(), Is.EqualTo(45));
            Assert.That(overview.Body.GetProperty("reporting_currency").GetString(), Is.EqualTo("EUR"));
            Assert.That(bad.Status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(bad.Body.GetProperty("errors").TryGetProperty("type", out _), Is.True);
        });
    }

    [Test]
    public void Each_conversion_is_stored_once_whatever_the_replays()
    {
        using var c = _app.Services.GetRequiredService<AnalyticsStore>().OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM conversions WHERE site = 'shop'";
        Assert.That(Convert.ToInt64(cmd.ExecuteScalar()), Is.EqualTo(5));
    }
}
