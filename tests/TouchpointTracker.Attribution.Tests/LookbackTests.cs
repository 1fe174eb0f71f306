namespace TouchpointTracker.Attribution.Tests;

public class LookbackTests
{
    private static readonly long Period = Paths.Conversion.AddDays(-60).Ticks;

    private static AttributionResult Run(int lookbackDays, params (string Key, double DaysBefore)[] touches)
    {
        var b = new AttributionBuilder(AttributionModels.All, new AttributionSettings(TimeSpan.FromDays(lookbackDays), TimeSpan.FromDays(7)));
        b.AddPerson(Paths.Build(b, touches), [Paths.One(50)], Period);
        return b.Compute();
    }

    [Test]
    public void A_touch_31_days_before_is_outside_a_30_day_window_and_inside_a_40_day_one()
    {
        var outside = Run(30, ("Email", 31));
        var inside = Run(40, ("Email", 31));
        Assert.Multiple(() =>
        {
            foreach (var m in AttributionModels.All)
            {
                Assert.That(outside.Credit(m, "Email"), Is.Zero, m.Name());
                Assert.That(outside.Credit(m, AttributionBuilder.NoTouchKey), Is.EqualTo(1), m.Name());
                Assert.That(inside.Credit(m, "Email"), Is.EqualTo(1), m.Name());
                Assert.That(inside.RevenueCredit(m, "Email"), Is.EqualTo(50), m.Name());
            }
        });
    }

    [Test]
    public void The_window_includes_its_edges_and_excludes_later_touches()
    {
        var b = new AttributionBuilder([AttributionModel.Linear]);
        var c = Paths.Conversion;
        Touch[] touches =
        [
            new(b.Key("Edge"), c.AddDays(-30).Ticks, false),
            new(b.Key("Same instant"), c.Ticks, false),
            new(b.Key("After"), c.AddSeconds(1).Ticks, false),
        ];
        b.AddPerson(touches, [Paths.One()], Period);
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.Credit(AttributionModel.Linear, "Edge"), Is.EqualTo(0.5));
            Assert.That(r.Credit(AttributionModel.Linear, "Same instant"), Is.EqualTo(0.5));
            Assert.That(r.Credit(AttributionModel.Linear, "After"), Is.Zero);
            Assert.That(r.Keys, Does.Contain("After")); // on the non-converting path after the conversion
        });
    }

    [Test]
    public void Each_conversion_looks_back_over_its_own_window_and_later_touches_form_a_non_converting_path()
    {
        var b = new AttributionBuilder([AttributionModel.FirstTouch, AttributionModel.LastTouch, AttributionModel.Markov]);
        var c = Paths.Conversion;
        Touch[] touches =
        [
            new(b.Key("Old"), c.AddDays(-80).Ticks, false), // before the period: only in windows
            new(b.Key("A"), c.AddDays(-20).Ticks, false),
            new(b.Key("B"), c.AddDays(-5).Ticks, false),
            new(b.Key("C"), c.AddDays(2).Ticks, false),
        ];
        Conversion[] conversions = [new(c.AddDays(-10).Ticks, 1, 10), new(c.Ticks, 1, 20)];
        b.AddPerson(touches, conversions, Period);
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.Credit(AttributionModel.FirstTouch, "A"), Is.EqualTo(2)); // A opens both windows
            Assert.That(r.Credit(AttributionModel.LastTouch, "A"), Is.EqualTo(1));
            Assert.That(r.Credit(AttributionModel.LastTouch, "B"), Is.EqualTo(1));
            Assert.That(r.Credit(AttributionModel.FirstTouch, "Old"), Is.Zero);
            Assert.That(r.NonConvertingPaths, Is.EqualTo(1));
            Assert.That(r.Credit(AttributionModel.Markov, "C"), Is.Zero);
            Assert.That(r.TopPaths.Select(p => string.Join(" > ", p.Keys)), Is.EquivalentTo(new[] { "A", "A > B" }));
        });
    }

    [Test]
    public void A_person_without_conversions_gives_one_non_converting_path_of_the_period_s_touches()
    {
        var b = new AttributionBuilder([AttributionModel.Markov]);
        var c = Paths.Conversion;
        b.AddPerson([new Touch(b.Key("Old"), c.AddDays(-90).Ticks, false), new Touch(b.Key("A"), c.Ticks, false)], [], Period);
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.NonConvertingPaths, Is.EqualTo(1));
            Assert.That(r.Conversions, Is.Zero);
            Assert.That(r.MarkovConversionProbability, Is.Zero);
            Assert.That(r.TopPaths, Is.Empty);
        });
    }
}
