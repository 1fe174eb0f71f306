namespace TouchpointTracker.Attribution.Tests;

/// <summary>One path: Email at −10 days, Paid Search at −3 days, Direct at 0, value 100.</summary>
public class WorkedExampleTests
{
    private static AttributionResult Run()
    {
        var b = new AttributionBuilder(AttributionModels.All);
        b.AddConversionPath(Paths.Build(b, ("Email", 10), ("Paid Search", 3), ("Direct", 0)), Paths.One(100));
        return b.Compute();
    }

    [TestCase(AttributionModel.FirstTouch, 100, 0, 0)]
    [TestCase(AttributionModel.LastTouch, 0, 0, 100)]
    [TestCase(AttributionModel.LastNonDirect, 0, 100, 0)]
    [TestCase(AttributionModel.Linear, 33.33, 33.33, 33.33)]
    [TestCase(AttributionModel.PositionBased, 40, 20, 40)]
    [TestCase(AttributionModel.TimeDecay, 17.57, 35.14, 47.29)]
    [TestCase(AttributionModel.Shapley, 33.33, 33.33, 33.33)]
    public void Revenue_credit_matches_the_worked_example(AttributionModel model, double email, double paid, double direct)
    {
        var r = Run();
        Assert.Multiple(() =>
        {
            Assert.That(r.RevenueCredit(model, "Email"), Is.EqualTo(email).Within(0.005));
            Assert.That(r.RevenueCredit(model, "Paid Search"), Is.EqualTo(paid).Within(0.005));
            Assert.That(r.RevenueCredit(model, "Direct"), Is.EqualTo(direct).Within(0.005));
            Assert.That(r.Credit(model, "Email") + r.Credit(model, "Paid Search") + r.Credit(model, "Direct"), Is.EqualTo(1).Within(1e-12));
            Assert.That(r.Conversions, Is.EqualTo(1));
            Assert.That(r.Revenue, Is.EqualTo(100));
        });
    }

    [Test]
    public void A_single_path_with_every_touch_needed_splits_markov_credit_evenly()
    {
        // With one converting path and nothing else, removing any touch loses the conversion: RE = 1 for each.
        var r = Run();
        Assert.Multiple(() =>
        {
            foreach (var k in new[] { "Email", "Paid Search", "Direct" })
            {
                Assert.That(r.RevenueCredit(AttributionModel.Markov, k), Is.EqualTo(33.333).Within(0.001), k);
            }
            Assert.That(r.MarkovConversionProbability, Is.EqualTo(1).Within(1e-12));
            Assert.That(r.AveragePathLength, Is.EqualTo(3));
            Assert.That(r.AverageDaysToConvert, Is.EqualTo(10).Within(1e-9));
            Assert.That(r.TopPaths.Single().Keys, Is.EqualTo(new[] { "Email", "Paid Search", "Direct" }));
        });
    }

    [Test]
    public void Per_touch_shares_of_one_path_are_published_per_model()
    {
        var t = Paths.Conversion;
        var shares = PathCredits.Compute(
            [new PathTouch("Email", t.AddDays(-10), false), new PathTouch("Paid Search", t.AddDays(-3), false), new PathTouch("Direct", t, true)], t);
        Assert.Multiple(() =>
        {
            Assert.That(shares.Keys, Is.EquivalentTo(new[] { "first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "shapley" }));
            Assert.That(shares["first_touch"], Is.EqualTo(new[] { 1.0, 0, 0 }));
            Assert.That(shares["last_touch"], Is.EqualTo(new[] { 0, 0, 1.0 }));
            Assert.That(shares["last_non_direct"], Is.EqualTo(new[] { 0, 1.0, 0 }));
            Assert.That(shares["position_based"], Is.EqualTo(new[] { 0.4, 0.2, 0.4 }).Within(1e-12));
            Assert.That(shares["time_decay"], Is.EqualTo(new[] { 0.1757, 0.3514, 0.4729 }).Within(0.00005));
        });
    }

    [Test]
    public void Position_based_gives_one_touch_everything_and_two_touches_half_each()
    {
        var one = new double[1];
        var two = new double[2];
        var five = new double[5];
        PathCredits.Shares(AttributionModel.PositionBased, [new Touch(0, 0, false)], 0, TimeSpan.FromDays(7), one);
        PathCredits.Shares(AttributionModel.PositionBased, [new Touch(0, 0, false), new Touch(1, 0, false)], 0, TimeSpan.FromDays(7), two);
        PathCredits.Shares(AttributionModel.PositionBased, [.. Enumerable.Range(0, 5).Select(i => new Touch(i, 0, false))], 0, TimeSpan.FromDays(7), five);
        Assert.Multiple(() =>
        {
            Assert.That(one, Is.EqualTo(new[] { 1.0 }));
            Assert.That(two, Is.EqualTo(new[] { 0.5, 0.5 }));
            Assert.That(five, Is.EqualTo(new[] { 0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4 }).Within(1e-12));
        });
    }

    [Test]
    public void Last_non_direct_takes_the_last_touch_when_the_path_is_all_direct()
    {
        var b = new AttributionBuilder([AttributionModel.LastNonDirect]);
        b.AddConversionPath(Paths.Keys(b, "Direct", "Direct"), Paths.One());
        b.AddConversionPath(Paths.Keys(b, "Organic Search", "Direct", "Direct"), Paths.One());
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.Credit(AttributionModel.LastNonDirect, "Direct"), Is.EqualTo(1));
            Assert.That(r.Credit(AttributionModel.LastNonDirect, "Organic Search"), Is.EqualTo(1));
        });
    }

    [Test]
    public void Time_decay_half_life_is_configurable()
    {
        // Touches 1 and 0 days before: with a 1-day half-life the weights are 1/2 and 1, so 1/3 and 2/3.
        var b = new AttributionBuilder([AttributionModel.TimeDecay], new AttributionSettings(TimeSpan.FromDays(30), TimeSpan.FromDays(1)));
        b.AddConversionPath(Paths.Build(b, ("A", 1), ("B", 0)), Paths.One(90));
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.RevenueCredit(AttributionModel.TimeDecay, "A"), Is.EqualTo(30).Within(1e-9));
            Assert.That(r.RevenueCredit(AttributionModel.TimeDecay, "B"), Is.EqualTo(60).Within(1e-9));
        });
    }

    [Test]
    public void Shapley_splits_each_path_evenly_over_its_distinct_keys()
    {
        var b = new AttributionBuilder([AttributionModel.Shapley]);
        b.AddConversionPath(Paths.Keys(b, "A", "B", "A", "A"), Paths.One(10));
        var r = b.Compute();
        Assert.Multiple(() =>
        {
            Assert.That(r.RevenueCredit(AttributionModel.Shapley, "A"), Is.EqualTo(5).Within(1e-12));
            Assert.That(r.RevenueCredit(AttributionModel.Shapley, "B"), Is.EqualTo(5).Within(1e-12));
        });
    }
}
