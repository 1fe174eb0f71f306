using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Conversions;

/// <summary>The compact session landings of the journey state, and the conversion record built from them.</summary>
public sealed class LandingAndRecordTests
{
    private static Touch PaidAd(string path) =>
        Page(path).FromSearch("Google", null, paid: true).Campaign("google", "cpc", "spring-sale", channel: "Paid Search");

    [Test]
    public void A_conversion_record_carries_each_touchs_share_under_the_per_path_models()
    {
        // The worked example of docs/attribution.md: Email at -10 days > Paid Search at -3 days > Direct at 0.
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/guide").At(T0).Campaign("newsletter", "email", "guide", channel: "Email").Build("v"));
        runner.Apply(PaidAd("/pricing").At(T0.AddDays(7)).Build("v"));
        runner.Apply(Page("/checkout").At(T0.AddDays(10)).Channel("Direct").Build("v"));
        var step = runner.Apply(Event("purchase", "/checkout").At(T0.AddDays(10).AddMinutes(1))
            .Props(("order_id", "\"A-1\""), ("value", "100"), ("currency", "\"EUR\"")).Build("v"));

        var record = ConversionRecord.Build(step.Staged!, runner.StateOf("v"), runner.Journeys.Settings.Currencies)!;
        Schemas.AssertValid(record);
        var a = record.Attribution!;
        double[] Shares(string model) => [.. a.Credits[model].Select(s => Math.Round(s * 100, 2))];
        Assert.Multiple(() =>
        {
            Assert.That(a.LookbackDays, Is.EqualTo(30));
            Assert.That(a.Touches.Select(t => t.Channel), Is.EqualTo(new[] { "Email", "Paid Search", "Direct" }));
            Assert.That(Shares("first_touch"), Is.EqualTo(new[] { 100.0, 0, 0 }));
            Assert.That(Shares("last_touch"), Is.EqualTo(new[] { 0, 0, 100.0 }));
            Assert.That(Shares("last_non_direct"), Is.EqualTo(new[] { 0, 100.0, 0 }));
            Assert.That(Shares("linear"), Is.EqualTo(new[] { 33.33, 33.33, 33.33 }));
            Assert.That(Shares("position_based"), Is.EqualTo(new[] { 40.0, 20, 40 }));
            // 2^(-10/7), 2^(-3/7), 1 normalised; the conversion is a minute after the last landing.
            Assert.That(Shares("time_decay"), Is.EqualTo(new[] { 17.57, 35.14, 47.29 }).Within(0.02));
            Assert.That(a.Credits.Keys, Does.Not.Contain("markov"), "Markov needs every path: the API computes it");
        });
    }

    [Test]
    public void A_conversion_record_carries_first_lead_and_last_touch_and_the_journey_so_far()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/what-is-a-crm").At(T0).FromSearch("Google", "what is a crm").Build("v"));
        var ad = PaidAd("/compare/acme-vs-others").At(T0.AddDays(2)).Build("v");
        ad.Campaign.ClickId = "gclid-123";
        ad.Campaign.ClickPlatform = "google_ads";
        runner.Apply(ad);
        runner.Apply(Page("/pricing").At(T0.AddDays(2).AddMinutes(3)).Internal("/compare/acme-vs-others").Build("v"));
        runner.Apply(Page("/contact").At(T0.AddDays(5)).Campaign("newsletter", "email", "nurture-3").Build("v"));
        var step = runner.Apply(Event("lead", "/contact").At(T0.AddDays(5).AddMinutes(2))
            .Props(("lead_id", "\"L-1\""), ("email_sha256", JsonSerializer.Serialize(new string('a', 64)))).Build("v"));

        var record = ConversionRecord.Build(step.Staged!, runner.StateOf("v"), runner.Journeys.Settings.Currencies)!;
        Schemas.AssertValid(record);
        Assert.Multiple(() =>
        {
            Assert.That(record.Type, Is.EqualTo("lead"));
            Assert.That(record.ConversionId, Is.EqualTo(step.Conversion!.ConversionId));
            Assert.That((record.FirstTouch!.At, record.FirstTouch.Channel, record.FirstTouch.Source, record.FirstTouch.Medium, record.FirstTouch.Term, record.FirstTouch.LandingPage, record.FirstTouch.ReferrerHost),
                Is.EqualTo((T0, "Organic Search", "Google", "search", "what is a crm", "/blog/what-is-a-crm", "www.google.com")));
            Assert.That((record.LastTouch!.Channel, record.LastTouch.Source, record.LastTouch.Medium, record.LastTouch.Campaign, record.LastTouch.ClickId, record.LastTouch.ClickPlatform, record.LastTouch.LandingPage),
                Is.EqualTo(("Paid Search", "google", "cpc", "spring-sale", "gclid-123", "google_ads", "/compare/acme-vs-others")), "the session before the converting one");
            Assert.That((record.LeadTouch.At, record.LeadTouch.Channel, record.LeadTouch.Source, record.LeadTouch.Medium, record.LeadTouch.Campaign, record.LeadTouch.Page),
                Is.EqualTo((T0.AddDays(5).AddMinutes(2), "Email", "newsletter", "email", "nurture-3", "/contact")));
            Assert.That(record.Sessions, Is.EqualTo(3));
            Assert.That(record.TouchesBefore, Is.EqualTo(4));
            Assert.That(record.DaysFromFirstTouch, Is.EqualTo(5.0));
            Assert.That(record.Stage, Is.EqualTo("decision"));
            Assert.That(record.StageHistory.Select(h => h.Stage), Is.EqualTo(new[] { "awareness", "consideration", "decision" }));
            Assert.That(record.StageHistory[1].At, Is.EqualTo(T0.AddDays(2)));
            Assert.That(record.Identifiers["visitor_id"], Is.EqualTo("v"));
            Assert.That(record.Identifiers["email_sha256"], Is.EqualTo(new string('a', 64)));
            Assert.That(record.OrderId, Has.Length.EqualTo(64), "the lead id, hashed");
            Assert.That(record.ReportingCurrency, Is.EqualTo("EUR"));
        });
        Assert.That(ConversionRecord.Build(runner.Apply(Page("/").At(T0.AddDays(5).AddMinutes(3)).Build("v")).Staged!, runner.StateOf("v"), ReportingCurrencies.Default), Is.Null,
            "a touch without a conversion has no record");
    }

    [Test]
    public void A_typical_visitors_landings_take_well_under_a_kilobyte_and_survive_a_round_trip()
    {
        var runner = new JourneyRunner();
        runner.Apply(Page("/blog/what-is-a-crm").At(T0).FromSearch("Google", "what is a crm").Build("v"));
        runner.Apply(PaidAd("/compare/acme-vs-others").At(T0.AddDays(2)).Build("v"));
        runner.Apply(Page("/contact").At(T0.AddDays(5)).Campaign("newsletter", "email", "nurture-3").Build("v"));
        var state = runner.StateOf("v");
        var json = JsonSerializer.SerializeToUtf8Bytes(state.Landings!, JourneysJsonContext.Default.LandingLog);
        var back = JsonSerializer.Deserialize(json, JourneysJsonContext.Default.LandingLog)!;
        var whole = JsonSerializer.SerializeToUtf8Bytes(state, JourneysJsonContext.Default.JourneyState).Length;
        TestContext.Out.WriteLine($"landings of 3 sessions: {json.Length} bytes; the whole state: {whole} bytes");
        Assert.Multiple(() =>
        {
            Assert.That(json.Length, Is.LessThan(1024));
            Assert.That(back.All().Select(l => (l.At, l.Channel, l.Source, l.Campaign)), Is.EqualTo(state.Landings!.All().Select(l => (l.At, l.Channel, l.Source, l.Campaign))));
            Assert.That(back.Count, Is.EqualTo(3));
            Assert.That(state.Landings!.EncodedBytes(), Is.EqualTo(json.Length).Within(48), "the size estimate the cap uses");
        });
    }

    [Test]
    public void Past_the_landing_count_the_oldest_go_but_the_first_stays()
    {
        var log = new LandingLog();
        for (var i = 0; i < 120; i++)
        {
            log.Add(new LandingSummary { At = T0.AddHours(i), Channel = "Email", Source = "newsletter", Campaign = "c" + i });
        }
        var all = log.All().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all, Has.Count.EqualTo(LandingLog.DefaultMaxLandings));
            Assert.That(all[0].Campaign, Is.EqualTo("c0"), "the first touch is kept");
            Assert.That(all[1].Campaign, Is.EqualTo("c71"));
            Assert.That(all[^1].Campaign, Is.EqualTo("c119"));
            Assert.That(log.Strings, Has.Count.EqualTo(2 + LandingLog.DefaultMaxLandings), "unused campaign names left the table");
        });
    }

    [Test]
    public void Past_the_byte_cap_the_oldest_go_first_and_the_state_stays_under_it()
    {
        var log = new LandingLog();
        var random = new Random(7);
        string Long(int i) => i + "-" + new string((char)('a' + random.Next(26)), 90);
        for (var i = 0; i < 300; i++)
        {
            log.Add(new LandingSummary
            {
                At = T0.AddHours(i), Channel = "Paid Search", Source = Long(i), Medium = "cpc", Campaign = Long(i), Term = Long(i), Content = Long(i),
                LandingPage = "/" + new string('p', 300) + i, ReferrerHost = Long(i), ClickId = Long(i), ClickPlatform = "google_ads",
            });
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(log, JourneysJsonContext.Default.LandingLog);
        var all = log.All().ToList();
        TestContext.Out.WriteLine($"worst case: {all.Count} landings kept in {json.Length} bytes");
        Assert.Multiple(() =>
        {
            Assert.That(json.Length, Is.LessThanOrEqualTo(LandingLog.DefaultMaxBytes));
            Assert.That(all[0].Source, Does.StartWith("0-"), "the first touch is kept");
            Assert.That(all[^1].Source, Does.StartWith("299-"), "the newest is kept");
            Assert.That(all[0].LandingPage, Has.Length.EqualTo(LandingLog.MaxPageLength));
            Assert.That(all.Select(l => l.Source!.Length), Has.All.LessThanOrEqualTo(LandingLog.MaxValueLength));
            Assert.That(all.Count, Is.GreaterThan(2));
        });
    }

    [Test]
    public void A_late_session_takes_its_place_in_time_order()
    {
        var log = new LandingLog();
        log.Add(new LandingSummary { At = T0, Channel = "Direct" });
        log.Add(new LandingSummary { At = T0.AddHours(3), Channel = "Email" });
        log.Add(new LandingSummary { At = T0.AddHours(1), Channel = "Referral" });
        Assert.That(log.All().Select(l => l.Channel), Is.EqualTo(new[] { "Direct", "Referral", "Email" }));
    }
}
