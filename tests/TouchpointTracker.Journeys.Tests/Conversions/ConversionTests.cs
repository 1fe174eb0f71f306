using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Conversions;

/// <summary>Conversions in the journey engine: built-in ones, deduplication by order, refunds, currencies, goals.</summary>
public sealed class ConversionTests
{
    private static readonly ReportingCurrencies Rates = new("EUR",
        new Dictionary<string, double> { ["USD"] = 0.9, ["GBP"] = 1.2 },
        new Dictionary<string, string> { ["uk-shop"] = "GBP" });

    private static JourneyRunner Runner(string? rules = null) => new(new JourneyProcessor(
        rules is null ? StageEngine.CreateDefault() : StageRulesLoader.Parse(rules, "test.yaml"),
        JourneySettings.Default with { Currencies = Rates }));

    private static string Str(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private static Touch Purchase(double value, string currency, string orderId, string path = "/checkout/done") =>
        Event("purchase", path).Props(("value", value.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("currency", Str(currency)), ("order_id", Str(orderId)));

    [Test]
    public void A_purchase_is_a_conversion_with_its_value_currency_order_and_reporting_value()
    {
        var runner = Runner();
        runner.Apply(Page("/").At(T0).Build("v"));
        var step = runner.Apply(Purchase(49.9, "USD", "A-1001").At(T0.AddMinutes(5)).Build("v"));
        var c = step.Conversion!;
        Assert.Multiple(() =>
        {
            Assert.That(c.Type, Is.EqualTo("purchase"));
            Assert.That(c.Goal, Is.Null);
            Assert.That(c.Value, Is.EqualTo(49.9));
            Assert.That(c.Currency, Is.EqualTo("USD"));
            Assert.That(c.ReportingValue, Is.EqualTo(44.91).Within(1e-9), "0.9 EUR a dollar");
            Assert.That(c.OrderId, Is.EqualTo("A-1001"));
            Assert.That(c.ConversionId, Does.Match("^[0-9a-f]{24}$"));
            Assert.That(c.Retracts, Is.Null);
            Assert.That(step.Staged!.Journey!.Conversion, Is.SameAs(c));
        });
    }

    [Test]
    public void The_same_order_sent_twice_counts_once_even_with_other_event_ids_and_values()
    {
        var runner = Runner();
        var first = runner.Apply(Purchase(100, "EUR", "A-1").At(T0).Build("v"));
        var again = runner.Apply(Purchase(120, "EUR", "A-1").At(T0.AddMinutes(1)).Build("v"));
        var other = runner.Apply(Purchase(30, "EUR", "A-2").At(T0.AddMinutes(2)).Build("v"));
        var tally = new StagingTally();
        tally.Count(first);
        tally.Count(again);
        tally.Count(other);
        Assert.Multiple(() =>
        {
            Assert.That(first.Conversion, Is.Not.Null);
            Assert.That(again.Outcome, Is.EqualTo(TouchOutcome.Staged), "the touch is still staged");
            Assert.That(again.Conversion, Is.Null, "no second conversion for order A-1");
            Assert.That(again.DuplicateConversion, Is.True);
            Assert.That(other.Conversion!.OrderId, Is.EqualTo("A-2"));
            Assert.That(tally.ConversionTypes, Is.EqualTo(new[] { "purchase", "purchase" }));
            Assert.That(tally.DuplicateConversions, Is.EqualTo(1));
        });
    }

    [Test]
    public void An_order_is_remembered_across_journeys_but_the_memory_is_bounded()
    {
        var runner = Runner();
        runner.Apply(Purchase(10, "EUR", "old").At(T0).Build("v"));
        var afterExpiry = runner.Apply(Purchase(10, "EUR", "old").At(T0.AddDays(45)).Build("v"));
        Assert.That(afterExpiry.Conversion, Is.Null, "a new journey, the same order");
        for (var i = 0; i < JourneyState.OrderHistory; i++)
        {
            runner.Apply(Purchase(1, "EUR", "o" + i).At(T0.AddDays(45).AddMinutes(i + 1)).Build("v"));
        }
        Assert.That(runner.StateOf("v").Orders, Has.Count.EqualTo(JourneyState.OrderHistory));
        var forgotten = runner.Apply(Purchase(10, "EUR", "old").At(T0.AddDays(46)).Build("v"));
        Assert.That(forgotten.Conversion, Is.Not.Null, $"past {JourneyState.OrderHistory} newer orders the oldest is forgotten");
    }

    [Test]
    public void A_refund_of_the_same_order_retracts_the_purchase_and_a_second_full_refund_is_a_duplicate()
    {
        var runner = Runner();
        var purchase = runner.Apply(Purchase(80, "EUR", "R-7").At(T0).Build("v")).Conversion!;
        var refund = runner.Apply(Offline("refund").At(T0.AddDays(2)).Props(("order_id", Str("R-7"))).Build("v"));
        var again = runner.Apply(Offline("refund").At(T0.AddDays(3)).Props(("order_id", Str("R-7"))).Build("v"));
        var r = refund.Conversion!;
        Assert.Multiple(() =>
        {
            Assert.That(r.Type, Is.EqualTo("refund"));
            Assert.That(r.Retracts, Is.EqualTo(purchase.ConversionId));
            Assert.That(r.Value, Is.EqualTo(-80), "no amount: the whole order, negative");
            Assert.That(r.Currency, Is.EqualTo("EUR"));
            Assert.That(r.ReportingValue, Is.EqualTo(-80));
            Assert.That(r.ConversionId, Is.Not.EqualTo(purchase.ConversionId));
            Assert.That(runner.StateOf("v").Orders!.Single().Retracted, Is.True);
            Assert.That(again.Conversion, Is.Null);
            Assert.That(again.DuplicateConversion, Is.True);
        });
    }

    [Test]
    public void Partial_refunds_add_up_until_the_order_is_retracted()
    {
        var runner = Runner();
        runner.Apply(Purchase(100, "EUR", "P-1").At(T0).Build("v"));
        var part = runner.Apply(Offline("refund").At(T0.AddHours(1)).Props(("order_id", Str("P-1")), ("value", "30"), ("currency", Str("EUR"))).Build("v")).Conversion!;
        Assert.That(runner.StateOf("v").Orders!.Single().Retracted, Is.False);
        var rest = runner.Apply(Offline("refund").At(T0.AddHours(2)).Props(("order_id", Str("P-1")), ("value", "70"), ("currency", Str("EUR"))).Build("v")).Conversion!;
        Assert.Multiple(() =>
        {
            Assert.That(part.Value, Is.EqualTo(-30));
            Assert.That(rest.Value, Is.EqualTo(-70));
            Assert.That(runner.StateOf("v").Orders!.Single().Retracted, Is.True);
            Assert.That(runner.StateOf("v").Orders!.Single().Refunded, Is.EqualTo(100));
        });
    }

    [Test]
    public void A_refund_of_an_unknown_order_is_recorded_without_retracting_anything()
    {
        var c = Runner().Apply(Offline("refund").At(T0).Props(("order_id", Str("never")), ("value", "15"), ("currency", Str("USD"))).Build("v")).Conversion!;
        Assert.Multiple(() =>
        {
            Assert.That(c.Retracts, Is.Null);
            Assert.That(c.Value, Is.EqualTo(-15));
            Assert.That(c.ReportingValue, Is.EqualTo(-13.5).Within(1e-9));
        });
    }

    [Test]
    public void A_tag_lead_id_is_hashed_and_an_offline_lead_with_the_same_hashed_id_is_the_same_lead()
    {
        var runner = Runner();
        var lead = runner.Apply(Event("lead", "/contact").At(T0).Props(("lead_id", Str("L-55"))).Build("v")).Conversion!;
        var hashed = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("L-55"u8));
        var offline = runner.Apply(Offline("crm_stage").At(T0.AddHours(1)).Props(("stage", Str("lead")), ("lead_id_sha256", Str(hashed))).Build("v"));
        var goalLead = Runner("""
            rules: [ { id: r, points: 0, when: { first_touch: true } } ]
            goals: [ { id: crm-lead, type: lead, offline: [crm_stage], props: { stage: '^lead$' } } ]
            """);
        var first = goalLead.Apply(Event("lead").At(T0).Props(("lead_id", Str("L-55"))).Build("w"));
        var second = goalLead.Apply(Offline("crm_stage").At(T0.AddHours(1)).Props(("stage", Str("lead")), ("lead_id_sha256", Str(hashed))).Build("w"));
        Assert.Multiple(() =>
        {
            Assert.That(lead.Type, Is.EqualTo("lead"));
            Assert.That(lead.OrderId, Is.EqualTo(hashed), "never in clear");
            Assert.That(offline.Conversion, Is.Null, "a crm lead stage is no built-in conversion");
            Assert.That(first.Conversion, Is.Not.Null);
            Assert.That(second.Conversion, Is.Null, "the same lead, by its hashed id");
            Assert.That(second.DuplicateConversion, Is.True);
        });
    }

    [Test]
    public void Offline_won_revenue_and_refund_are_conversions_other_stages_are_not()
    {
        var runner = Runner();
        var won = runner.Apply(Offline("crm_stage").At(T0).Props(("stage", Str("Won")), ("value", "12000"), ("currency", Str("EUR")), ("deal_id", Str("42"))).Build("v")).Conversion!;
        var lost = runner.Apply(Offline("crm_stage").At(T0.AddHours(1)).Props(("stage", Str("lost")), ("deal_id", Str("43"))).Build("v")).Conversion;
        var revenue = runner.Apply(Offline("revenue").At(T0.AddHours(2)).Props(("value", "500"), ("currency", Str("GBP")), ("order_id", Str("inv-9"))).Build("v")).Conversion!;
        var call = runner.Apply(Offline("call").At(T0.AddHours(3)).Build("v")).Conversion;
        Assert.Multiple(() =>
        {
            Assert.That((won.Type, won.Value, won.Currency, won.OrderId, won.ReportingValue), Is.EqualTo(("won", (double?)12000, "EUR", "42", (double?)12000)));
            Assert.That(lost, Is.Null);
            Assert.That((revenue.Type, revenue.ReportingValue), Is.EqualTo(("purchase", (double?)600)));
            Assert.That(call, Is.Null, "calls convert through a goal (offline: [call])");
        });
    }

    [Test]
    public void Reporting_values_use_the_sites_currency_and_an_unknown_currency_leaves_it_empty_and_is_counted()
    {
        var runner = Runner();
        var uk = runner.Apply(Purchase(90, "EUR", "U-1").Site("uk-shop").At(T0).Build("v")).Conversion!;
        var ukPounds = runner.Apply(Purchase(10, "GBP", "U-2").Site("uk-shop").At(T0.AddMinutes(1)).Build("v")).Conversion!;
        var yen = runner.Apply(Purchase(1000, "JPY", "J-1").At(T0).Build("v"));
        var garbage = runner.Apply(Purchase(5, "euros", "G-1").At(T0.AddMinutes(1)).Build("v"));
        var noCurrency = runner.Apply(Event("purchase").At(T0.AddMinutes(2)).Props(("value", "\"19.90\"")).Build("v")).Conversion!;
        var tally = new StagingTally();
        tally.Count(yen);
        tally.Count(garbage);
        Assert.Multiple(() =>
        {
            Assert.That(uk.ReportingValue, Is.EqualTo(75).Within(1e-9), "90 EUR at 1.2 EUR a pound");
            Assert.That(ukPounds.ReportingValue, Is.EqualTo(10));
            Assert.That(yen.Conversion!.ReportingValue, Is.Null);
            Assert.That(yen.Conversion.Value, Is.EqualTo(1000));
            Assert.That(garbage.Conversion!.Currency, Is.Null, "not an ISO code");
            Assert.That(garbage.Conversion.ReportingValue, Is.Null);
            Assert.That(tally.UnknownCurrency, Is.EqualTo(2));
            Assert.That(noCurrency.Value, Is.EqualTo(19.9), "a number sent as a string");
            Assert.That(noCurrency.ReportingValue, Is.EqualTo(19.9), "no currency: the reporting currency");
        });
    }

    [Test]
    public void A_conversion_id_is_the_same_when_the_same_touches_are_replayed()
    {
        string Run(string id)
        {
            var runner = Runner();
            runner.Apply(Page("/").Id("p-1").At(T0).Build("v"));
            return runner.Apply(Event("lead").Id(id).At(T0.AddMinutes(1)).Build("v")).Conversion!.ConversionId;
        }
        var once = Run("lead-1");
        var twice = Run("lead-1");
        Assert.Multiple(() =>
        {
            Assert.That(twice, Is.EqualTo(once));
            Assert.That(Run("lead-2"), Is.Not.EqualTo(once));
        });
    }

    private const string GoalRules = """
        rules: [ { id: r, points: 0, when: { first_touch: true } } ]
        goals:
          - { id: thanks, type: lead, pageview: 'merci|thank-you' }
          - { id: demo, type: meeting, event: [demo_booked], value: 150, currency: USD }
          - { id: contact, type: lead, form_submit: '^/contact' }
          - { id: calls, type: call, offline: [call], props: { answered: '^true$' } }
          - { id: trial, type: trial_started, event: [trial], repeat: once_per_journey }
        """;

    [Test]
    public void Goals_convert_page_views_events_forms_and_offline_events()
    {
        var runner = Runner(GoalRules);
        JourneyStep S(Touch t, int minute) => runner.Apply(t.At(T0.AddMinutes(minute)).Build("v"));
        var thanks = S(Page("/fr/merci"), 0);
        var reload = S(Page("/fr/merci"), 1);
        var demo = S(Event("demo_booked", "/demo"), 2);
        var contact = S(Event("form_submit", "/contact").Props(("form", Str("c"))), 3);
        var elsewhere = S(Event("form_submit", "/blog"), 4);
        var answered = S(Offline("call").Props(("answered", "true")), 5);
        var missed = S(Offline("call").Props(("answered", "false")), 6);
        var trial = S(Event("trial"), 7);
        var trialAgain = S(Event("trial"), 8);
        var nextSession = S(Page("/thank-you"), 90);
        Assert.Multiple(() =>
        {
            Assert.That((thanks.Conversion!.Type, thanks.Conversion.Goal), Is.EqualTo(("lead", "thanks")));
            Assert.That(reload.Conversion, Is.Null, "a page view goal converts once per session");
            Assert.That((demo.Conversion!.Type, demo.Conversion.Value, demo.Conversion.Currency, demo.Conversion.ReportingValue),
                Is.EqualTo(("meeting", (double?)150, "USD", (double?)135)));
            Assert.That(contact.Conversion!.Goal, Is.EqualTo("contact"));
            Assert.That(elsewhere.Conversion, Is.Null);
            Assert.That(answered.Conversion!.Type, Is.EqualTo("call"));
            Assert.That(missed.Conversion, Is.Null);
            Assert.That(trial.Conversion!.Type, Is.EqualTo("trial_started"), "a type of the site's own");
            Assert.That(trialAgain.Conversion, Is.Null);
            Assert.That(nextSession.Conversion!.Goal, Is.EqualTo("thanks"));
        });
    }

    [Test]
    public void The_default_goals_convert_marked_lead_forms_and_sign_ups()
    {
        var runner = Runner();
        var marked = runner.Apply(Event("form_submit", "/blog/guide").At(T0).Props(("form", Str("gate")), ("lead", "true")).Build("v")).Conversion!;
        var plain = runner.Apply(Event("form_submit", "/blog/guide").At(T0.AddMinutes(1)).Props(("form", Str("search"))).Build("v")).Conversion;
        var signup = runner.Apply(Event("signup").At(T0.AddMinutes(2)).Build("v")).Conversion!;
        Assert.Multiple(() =>
        {
            Assert.That((marked.Type, marked.Goal), Is.EqualTo(("lead", "lead-form")));
            Assert.That(plain, Is.Null);
            Assert.That((signup.Type, signup.Goal), Is.EqualTo(("signup", "signup")));
        });
    }

    [Test]
    public void Bad_goals_are_reported_with_their_place_and_line()
    {
        var ex = Assert.Throws<StageRulesException>(() => StageRulesLoader.Parse("""
            rules: [ { id: r, points: 0, when: { first_touch: true } } ]
            goals:
              - { id: a, type: lead, pageview: '(' }
              - { id: b, type: Lead!, event: [x] }
              - id: c
                type: purchase
                event: [x]
                pageview: '/x'
              - { id: a, type: refund, offline: [refund] }
              - { id: e, type: won, offline: [crm_stage], value: -3, currency: euro }
              - { id: f, type: lead, event: [x], currency: EUR, repeat: sometimes }
              - { id: r, type: lead, event: [x] }
            """, "site.yaml"))!;
        Assert.Multiple(() =>
        {
            Assert.That(ex.Message, Does.Contain("goals[0] 'a' (line 3): pageview: '(' is not a valid regular expression"));
            Assert.That(ex.Message, Does.Contain("goals[1] 'b' (line 4): 'type' must be one of lead, signup, purchase, call, meeting, opportunity, won or a name of your own"));
            Assert.That(ex.Message, Does.Contain("goals[2] 'c' (line 5): give exactly one of"));
            Assert.That(ex.Message, Does.Contain("goals[3] 'a' (line 9): duplicate id"));
            Assert.That(ex.Message, Does.Contain("goals[3] 'a' (line 9): 'type' cannot be refund"));
            Assert.That(ex.Message, Does.Contain("goals[4] 'e' (line 10): 'value' must be a number from 0 to 1e12"));
            Assert.That(ex.Message, Does.Contain("goals[4] 'e' (line 10): 'currency' must be an ISO 4217 code"));
            Assert.That(ex.Message, Does.Contain("goals[5] 'f' (line 11): 'currency' needs a 'value'"));
            Assert.That(ex.Message, Does.Contain("goals[5] 'f' (line 11): 'repeat' must be"));
            Assert.That(ex.Message, Does.Contain("goals[6] 'r' (line 12): duplicate id (goal ids must be unique and differ from rule ids)"));
        });
    }

    [Test]
    public void An_unknown_goal_key_is_an_error_with_its_line() =>
        Assert.That(() => StageRulesLoader.Parse("""
            rules: [ { id: r, points: 0, when: { first_touch: true } } ]
            goals:
              - { id: a, type: lead, pagevew: '/merci' }
            """, "site.yaml"), Throws.TypeOf<StageRulesException>().With.Message.Contains("line 3"));

    [Test]
    public void The_journey_remembers_its_stage_history_with_times()
    {
        var runner = Runner();
        runner.Apply(Page("/blog/x").At(T0).Build("v"));
        runner.Apply(Page("/pricing").At(T0.AddMinutes(2)).Build("v"));
        runner.Apply(Purchase(10, "EUR", "H-1").At(T0.AddMinutes(3)).Build("v"));
        runner.Apply(Page("/").At(T0.AddMinutes(4)).Build("v"));
        var history = runner.StateOf("v").StageHistory!;
        Assert.That(history.Select(h => (h.Stage, h.At)), Is.EqualTo(new[]
        {
            ("awareness", T0), ("decision", T0.AddMinutes(2)), ("retention", T0.AddMinutes(4)),
        }));
    }

    [Test]
    public void Currency_settings_are_read_from_configuration_and_bad_ones_named()
    {
        var ok = ReportingCurrencies.FromConfiguration(new Dictionary<string, string?>
        {
            ["Conversions:ReportingCurrency"] = "USD",
            ["Conversions:Rates:EUR"] = "1.1",
            ["Conversions:Sites:fr:ReportingCurrency"] = "EUR",
        }, out var none);
        var bad = ReportingCurrencies.FromConfiguration(new Dictionary<string, string?>
        {
            ["Conversions:ReportingCurrency"] = "dollars",
            ["Conversions:Rates:EUR"] = "-1",
            ["Conversions:Rates:euro"] = "1",
            ["Conversions:Sites:uk:ReportingCurrency"] = "GBP",
            ["Conversions:Currency"] = "EUR",
        }, out var errors);
        Assert.Multiple(() =>
        {
            Assert.That(none, Is.Empty);
            Assert.That(ok.Currency, Is.EqualTo("USD"));
            Assert.That(ok.CurrencyOf("fr"), Is.EqualTo("EUR"));
            Assert.That(ok.ToReporting("fr", 11, "USD"), Is.EqualTo(10).Within(1e-9), "cross rate: 11 USD at 1.1 USD a euro");
            Assert.That(ok.ToReporting("us", 10, "EUR"), Is.EqualTo(11).Within(1e-9));
            Assert.That(errors, Has.Some.StartsWith("Conversions:ReportingCurrency must be an ISO 4217 code"));
            Assert.That(errors, Has.Some.StartsWith("Conversions:Rates:EUR must be a positive number"));
            Assert.That(errors, Has.Some.StartsWith("Conversions:Rates:euro: 'euro' is not an ISO 4217 code"));
            Assert.That(errors, Has.Some.StartsWith("Conversions:Sites:uk:ReportingCurrency is GBP, which has no rate"));
            Assert.That(errors, Has.Some.StartsWith("Conversions:Currency: unknown setting"));
        });
    }
}
