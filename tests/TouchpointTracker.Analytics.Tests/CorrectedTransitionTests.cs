using TouchpointTracker.Journeys;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>A corrected stage transition (a late touch moved a stage back in time) counts in the funnel's times.</summary>
public sealed class CorrectedTransitionTests
{
    [Test]
    public async Task The_funnel_times_use_the_corrected_time_and_leave_out_superseded_stages()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("c.duckdb") });
        await using (var writer = new AnalyticsWriter(store))
        {
            await Dataset.WriteAsync(writer);
            // v-a reached decision at 03-02 09:00; a call placed at 03-01 10:02 moves it back (before consideration at 10:05)
            await writer.AddAsync(new StageTransition
            {
                SiteId = Dataset.Site, VisitorId = "v-a", JourneyId = "v-a:a1", FromStage = "awareness", ToStage = "decision",
                Reasons = ["decision.offline-conversation"], EventId = "call-1", Ts = Dataset.At(3, 1, 10, 2), TouchIndex = 4,
                SessionId = "call-1", Channel = "Offline", Kind = StageTransition.CorrectedKind, ReplacesTs = Dataset.At(3, 2, 9, 0),
            });
            await writer.FlushAsync();
        }
        var f = new AnalyticsQueries(store).Funnel(Dataset.Request());
        var co = f.Stages[1];
        var de = f.Stages[2];
        Assert.Multiple(() =>
        {
            Assert.That(f.Stages.Select(s => s.Visitors), Is.EqualTo(new long[] { 3, 2, 1, 0, 0 }), "the counts come from the sessions");
            // consideration: only v-c (2 min); v-a's consideration at 10:05 came after its corrected decision at 10:02
            Assert.That(co.TimedJourneys, Is.EqualTo(1));
            Assert.That(co.MedianSecondsFromPrevious, Is.EqualTo(120).Within(1e-6));
            // decision: v-a from awareness at 10:00 to the corrected 10:02, not 22 h 55 min
            Assert.That(de.TimedJourneys, Is.EqualTo(1));
            Assert.That(de.MedianSecondsFromPrevious, Is.EqualTo(120).Within(1e-6));
        });
    }
}
