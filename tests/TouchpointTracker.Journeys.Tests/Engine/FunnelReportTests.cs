using System.Globalization;
using System.Text;
using TouchpointTracker.Contracts;
using TouchpointTracker.Infra.Tests.Support;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>
/// The funnel report of docs/stages.md: the seeds' example journeys (search → blog; a paid ad on a second
/// visit → comparison; a form → lead; a later purchase) through the default rules, every person counted in
/// every stage they passed (<c>journey.stages_passed</c>). The doc's tables are these tables.
/// </summary>
public sealed class FunnelReportTests
{
    private const string Begin = "<!-- funnel-report:begin (FunnelReportTests writes this) -->";
    private const string End = "<!-- funnel-report:end -->";

    private static Touch PaidAd(Touch t) => t.Campaign("google", "cpc", "crm-comparison", term: "crm comparison", channel: "Paid Search");

    /// <summary>The people of the report and their touches, in time order.</summary>
    public static IEnumerable<(string Person, string Story, Touch[] Touches)> People()
    {
        Touch[] SearchThenBlog(int day = 0) =>
        [
            Page("/blog/how-to-map-a-customer-journey").At(T0.AddDays(day)).FromSearch("Google", "how to map a customer journey"),
            Page("/blog/journey-stages").At(T0.AddDays(day).AddMinutes(3)).Internal("/blog/how-to-map-a-customer-journey"),
        ];
        Touch[] AdThenComparison(int day) =>
        [
            PaidAd(Page("/compare/acme-vs-globex").At(T0.AddDays(day))).Session("s2"),
        ];
        Touch[] FormLead(int day) =>
        [
            Page("/contact").At(T0.AddDays(day)).Session("s3"),
            Event("form_submit", "/contact").At(T0.AddDays(day).AddMinutes(2)).Session("s3").Props(("form", "\"contact\"")),
        ];

        yield return ("Ana", "search → blog", SearchThenBlog());
        yield return ("Ben", "search → blog; paid ad on a second visit → comparison", [.. SearchThenBlog(), .. AdThenComparison(3)]);
        yield return ("Chloé", "search → blog; paid ad → comparison; form → lead", [.. SearchThenBlog(), .. AdThenComparison(3), .. FormLead(10)]);
        yield return ("David", "search → blog; paid ad → comparison; form → lead; purchase; a later visit",
        [
            .. SearchThenBlog(), .. AdThenComparison(3), .. FormLead(10),
            Event("purchase", "/checkout/thanks").At(T0.AddDays(20)).Session("s4"),
            Page("/account").At(T0.AddDays(27)).Session("s5"),
        ]);
        yield return ("Emma", "first visit from a search for \"crm pricing\" → pricing", [Page("/pricing").At(T0).FromSearch("Google", "crm pricing")]);
    }

    /// <summary>Runs every person through the default rules and writes the report's two tables.</summary>
    public static string Report()
    {
        var runner = new JourneyRunner();
        var stages = runner.Journeys.Engine.Stages;
        var passed = stages.ToDictionary(s => s, _ => 0);
        var endedIn = stages.ToDictionary(s => s, _ => 0);
        var transitionsInto = stages.ToDictionary(s => s, _ => 0);
        var people = new StringBuilder();
        people.AppendLine("| person | touches | stage at the end | `stages_passed` of the last touch |");
        people.AppendLine("|---|---|---|---|");
        var count = 0;
        foreach (var (person, story, touches) in People())
        {
            count++;
            JourneyInfo? last = null;
            foreach (var touch in touches)
            {
                var step = runner.Apply(touch.Build(person));
                last = step.Staged!.Journey!;
                if (step.Transition is { } t)
                {
                    transitionsInto[t.ToStage]++;
                }
            }
            foreach (var stage in last!.StagesPassed!)
            {
                passed[stage]++;
            }
            endedIn[last.Stage]++;
            people.AppendLine(CultureInfo.InvariantCulture, $"| {person} | {story} | {last.Stage} | {string.Join(", ", last.StagesPassed!)} |");
        }
        var funnel = new StringBuilder();
        funnel.AppendLine("| stage | people who passed it (`stages_passed`) | share | people in it at the end (`stage`) | transitions into it |");
        funnel.AppendLine("|---|---|---|---|---|");
        foreach (var stage in stages)
        {
            funnel.AppendLine(CultureInfo.InvariantCulture,
                $"| {stage} | {passed[stage]} | {100.0 * passed[stage] / count:0}% | {endedIn[stage]} | {transitionsInto[stage]} |");
        }
        return people + "\n" + funnel;
    }

    [Test]
    public void Every_person_is_counted_in_every_stage_they_passed_and_the_counts_never_grow()
    {
        var report = Report();
        TestContext.Out.WriteLine(report);
        var passed = report.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| stage", StringComparison.Ordinal) && !l.StartsWith("| person", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries)).Where(c => c.Length == 7).Select(c => int.Parse(c[2], CultureInfo.InvariantCulture)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(passed, Is.EqualTo(new[] { 5, 4, 3, 1, 0 }), "awareness, consideration, decision, retention, advocacy");
            Assert.That(passed, Is.Ordered.Descending, "monotonic");
        });
    }

    [Test]
    public void The_report_in_docs_stages_md_is_the_one_the_engine_produces()
    {
        var doc = Repo.Read("docs/stages.md").ReplaceLineEndings("\n");
        var begin = doc.IndexOf(Begin, StringComparison.Ordinal);
        var end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.That(begin >= 0 && end > begin, Is.True, $"docs/stages.md has no block between '{Begin}' and '{End}'");
        var inDoc = doc[(begin + Begin.Length)..end].Trim();
        Assert.That(inDoc, Is.EqualTo(Report().ReplaceLineEndings("\n").Trim()),
            "docs/stages.md's funnel report is out of date: paste the output of this test (or FunnelReportTests.Report()) between the markers");
    }
}
