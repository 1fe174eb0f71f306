using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// The processor publishes a conversion record on <c>tt.conversions</c> for each conversion it stages (librdkafka's
/// mock cluster and a real Redis): one record for a purchase sent twice, with the journey's summary.
/// </summary>
[NonParallelizable]
public sealed class ConversionsTopicTests
{
    [Test]
    public async Task A_staged_purchase_gives_one_record_with_the_journey_summary()
    {
        await using var env = await KafkaEnvironment.StartAsync(partitions: 2);
        var ad = Page("/compare/acme-vs-others").At(T0.AddDays(3)).FromSearch("Google", null, paid: true)
            .Campaign("google", "cpc", "spring-sale", channel: "Paid Search").Build("buyer");
        ad.Campaign.ClickId = "gclid-77";
        ad.Campaign.ClickPlatform = "google_ads";
        string Str(string s) => JsonSerializer.Serialize(s);
        Touchpoint Purchase(int minute) => Event("purchase", "/checkout/done").At(T0.AddDays(3).AddMinutes(minute))
            .Props(("value", "1200"), ("currency", Str("EUR")), ("order_id", Str("A-1001"))).Build("buyer");
        var stream = new List<Touchpoint>
        {
            Page("/blog/what-is-a-crm").At(T0).FromSearch("Google", "what is a crm").Build("buyer"),
            ad,
            Page("/pricing").At(T0.AddDays(3).AddMinutes(2)).Internal("/compare/acme-vs-others").Build("buyer"),
            Purchase(5),
            Purchase(6), // the thank-you page reloaded: the same order again
            Page("/blog/other").At(T0).FromSearch("Bing", "crm").Build("browser"),
        };
        var expected = Workload.Expected(stream);
        env.Produce(stream);

        await using var processor = await ProcessorHost.StartAsync(env.ProcessorSettings("conversions"));
        env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(60));
        var records = env.ReadConversions(1, TimeSpan.FromSeconds(30));

        Assert.That(records, Has.Count.EqualTo(1), "one purchase, sent twice, is one conversion");
        var r = records[0];
        Assert.Multiple(() =>
        {
            Assert.That(r.ConversionId, Is.EqualTo(KafkaEnvironment.ExpectedConversions(expected).Single()), "the id the engine gives it");
            Assert.That((r.Type, r.Value, r.Currency, r.ReportingValue, r.ReportingCurrency, r.OrderId), Is.EqualTo(("purchase", (double?)1200, "EUR", (double?)1200, "EUR", "A-1001")));
            Assert.That((r.SiteId, r.VisitorId, r.OccurredAt), Is.EqualTo(("acme", "buyer", T0.AddDays(3).AddMinutes(5))));
            Assert.That((r.FirstTouch!.Channel, r.FirstTouch.Source, r.FirstTouch.Term, r.FirstTouch.LandingPage, r.FirstTouch.At),
                Is.EqualTo(("Organic Search", "Google", "what is a crm", "/blog/what-is-a-crm", T0)));
            Assert.That((r.LeadTouch.Channel, r.LeadTouch.Source, r.LeadTouch.Medium, r.LeadTouch.Campaign, r.LeadTouch.ClickId, r.LeadTouch.Page, r.LeadTouch.LandingPage),
                Is.EqualTo(("Paid Search", "google", "cpc", "spring-sale", "gclid-77", "/checkout/done", "/compare/acme-vs-others")));
            Assert.That((r.LastTouch!.Channel, r.LastTouch.At), Is.EqualTo(("Organic Search", T0)), "the last session before the converting one");
            Assert.That((r.Sessions, r.TouchesBefore, r.DaysFromFirstTouch), Is.EqualTo((2, 3, 3.0)));
            Assert.That(r.StageHistory.Select(h => h.Stage), Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
            Assert.That(r.Identifiers.Keys, Is.EquivalentTo(new[] { "visitor_id" }));
            Assert.That(processor.Total("tt_conversions_total"), Is.EqualTo(1));
            Assert.That(processor.Total("tt_conversion_duplicates_total"), Is.EqualTo(1));
        });
    }
}
