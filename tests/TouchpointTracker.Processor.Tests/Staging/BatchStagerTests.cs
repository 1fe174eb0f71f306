using System.Text;
using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.Staging;
using TouchpointTracker.Processor.State;
using TouchpointTracker.Processor.Tests.Support;

namespace TouchpointTracker.Processor.Tests.Staging;

/// <summary>
/// The processor's batch step without Kafka: what a replay after a crash publishes, and how invalid
/// messages and bots are counted. Uses the in-memory store, which has the same claim/save rules as Redis.
/// </summary>
public sealed class BatchStagerTests
{
    private static readonly JourneyProcessor Journeys = new(StageEngine.CreateDefault(), JourneySettings.Default);

    private static List<InputRecord> Records(IEnumerable<Touchpoint> touchpoints, int partition = 0) =>
        [.. touchpoints.Select((tp, i) => new InputRecord(partition, i, JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint)))];

    private static async Task<BatchOutcome> StageAsync(IJourneyStateStore store, PartitionClaim claim, List<InputRecord> records, long stagedTail = -1, long transitionsTail = -1, bool save = true, long conversionsTail = -1)
    {
        var parsed = BatchStager.Parse(records);
        var states = new Dictionary<string, JourneyState?>();
        await store.LoadAsync(claim, [.. parsed.Where(p => p.Key is not null).Select(p => p.Key!).Distinct()], states, CancellationToken.None);
        var outcome = BatchStager.Stage(Journeys, parsed, states, stagedTail, transitionsTail, conversionsTail);
        if (save)
        {
            Assert.That(await store.SaveAsync(claim, records[^1].Offset, outcome.Changed, CancellationToken.None), Is.True);
        }
        return outcome;
    }

    [Test]
    public async Task A_batch_replayed_after_a_crash_rebuilds_the_state_and_publishes_only_what_was_not_published()
    {
        var stream = Workload.Generate(visitors: 30, seed: 5);
        var records = Records(stream);
        var firstHalf = records[..(records.Count / 2)];
        var secondHalf = records[(records.Count / 2)..];

        // The run that crashed: the first half went through; the second half's outputs were published up to
        // some offset, and then the process died before its state was saved.
        var store = new InMemoryJourneyStateStore();
        var claim = await store.ClaimAsync(0, CancellationToken.None);
        var first = await StageAsync(store, claim, firstHalf);
        var crashed = await StageAsync(store, claim, secondHalf, save: false);
        var publishedUpTo = secondHalf[secondHalf.Count / 3].Offset;
        var published = crashed.Outputs.Where(o => o.SourceOffset <= publishedUpTo).ToList();

        // The restart: a new claim sees the state of the first half only; the replay skips what was published.
        var again = await store.ClaimAsync(0, CancellationToken.None);
        Assert.That(again.AppliedOffset, Is.EqualTo(firstHalf[^1].Offset));
        var replay = await StageAsync(store, again, secondHalf, stagedTail: publishedUpTo, transitionsTail: publishedUpTo, conversionsTail: publishedUpTo);

        var union = first.Outputs.Concat(published).Concat(replay.Outputs).ToList();
        foreach (var output in union)
        {
            Schemas.AssertValid(output.Kind switch
            {
                OutputKind.Staged => Schemas.StagedTouchpoint,
                OutputKind.Transition => Schemas.StageTransition,
                _ => Schemas.Conversion,
            }, output.Value);
        }
        var expected = Workload.Expected(stream);
        Assert.Multiple(() =>
        {
            Assert.That(replay.Outputs, Has.All.Matches<OutputMessage>(o => o.SourceOffset > publishedUpTo));
            Assert.That(replay.Suppressed, Is.EqualTo(published.Count));
            Assert.That(union.Where(o => o.Kind == OutputKind.Staged).Select(o => Workload.Describe(Parse(o))).Order(StringComparer.Ordinal),
                Is.EqualTo(expected.Staged.Select(Workload.Describe).Order(StringComparer.Ordinal)));
            Assert.That(union.Count(o => o.Kind == OutputKind.Transition), Is.EqualTo(expected.Transitions.Count));
            var conversions = union.Where(o => o.Kind == OutputKind.Conversion)
                .Select(o => System.Text.Json.JsonSerializer.Deserialize(o.Value, JourneysJsonContext.Default.ConversionRecord)!.ConversionId).ToList();
            Assert.That(conversions, Is.Not.Empty);
            Assert.That(conversions, Is.EquivalentTo(Support.KafkaEnvironment.ExpectedConversions(expected)), "each conversion record once, the replay's included");
        });
    }

    [Test]
    public async Task A_save_with_an_old_claim_is_refused()
    {
        var store = new InMemoryJourneyStateStore();
        var mine = await store.ClaimAsync(3, CancellationToken.None);
        var theirs = await store.ClaimAsync(3, CancellationToken.None);
        var records = Records([Touch.Page("/").At(Touch.T0).Build("v")], partition: 3);
        var outcome = await StageAsync(store, theirs, records);

        Assert.That(await store.SaveAsync(mine, 0, outcome.Changed, CancellationToken.None), Is.False, "the instance that lost the partition cannot write");
        Assert.That(theirs.Epoch, Is.GreaterThan(mine.Epoch));
    }

    [Test]
    public void Invalid_messages_and_bots_are_counted_and_do_not_stop_the_batch()
    {
        var good = Touch.Page("/").At(Touch.T0).Build("v");
        var bot = Touch.Page("/").At(Touch.T0).Bot().Build("crawler");
        List<InputRecord> records =
        [
            new(0, 0, Encoding.UTF8.GetBytes("not json")),
            new(0, 1, null),
            new(0, 2, Encoding.UTF8.GetBytes("""{"schema":"touchpoint/1","event_id":"","site_id":"a","visitor_id":"b"}""")),
            .. Records([bot, good]).Select((r, i) => r with { Offset = 3 + i }),
        ];
        var states = new Dictionary<string, JourneyState?>();
        var outcome = BatchStager.Stage(Journeys, BatchStager.Parse(records), states);

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Invalid, Is.EqualTo(3));
            Assert.That(outcome.Bots, Is.EqualTo(1));
            Assert.That(outcome.Staged, Is.EqualTo(1));
            Assert.That(outcome.Changed.Keys, Is.EqualTo(new[] { "acme:v" }), "no state is kept for a bot");
            Assert.That(outcome.Outputs.Select(o => Encoding.UTF8.GetString(o.Key)), Is.EqualTo(new[] { "acme:v", "acme:v" }), "staged touchpoint and transition, keyed site:visitor");
        });
        foreach (var output in outcome.Outputs)
        {
            Schemas.AssertValid(output.Kind switch
            {
                OutputKind.Staged => Schemas.StagedTouchpoint,
                OutputKind.Transition => Schemas.StageTransition,
                _ => Schemas.Conversion,
            }, output.Value);
        }
    }

    [Test]
    public void The_state_stays_small()
    {
        var runner = new JourneyRunner();
        foreach (var tp in Workload.Generate(visitors: 200, seed: 9))
        {
            runner.Apply(tp);
        }
        var sizes = runner.Staged.Select(s => s.SiteId + ":" + s.VisitorId).Distinct()
            .Select(k => JsonSerializer.SerializeToUtf8Bytes(runner.StateOf(k.Split(':')[1]), JourneysJsonContext.Default.JourneyState).Length).ToList();
        TestContext.Out.WriteLine($"state per visitor: mean {sizes.Average():0} B, max {sizes.Max()} B");
        Assert.That(sizes.Max(), Is.LessThan(8 * 1024), "a visitor's state is a few KB at most");
    }

    [Test]
    public async Task A_call_sent_weeks_late_publishes_a_corrected_transition_and_a_replay_publishes_the_same()
    {
        var records = Records([
            Touch.Page("/blog/what-is-a-customer-journey").At(Touch.T0).Id("blog-1").Build("v-late"),
            Touch.Page("/pricing").At(Touch.T0.AddDays(10)).Session("s2").Id("pricing-1").Build("v-late"),
            Touch.Offline("call").At(Touch.T0.AddDays(3)).Id("call-1").Build("v-late"),
        ]);
        var store = new InMemoryJourneyStateStore();
        var claim = await store.ClaimAsync(0, CancellationToken.None);
        await StageAsync(store, claim, records[..2]);
        var crashed = await StageAsync(store, claim, records[2..], save: false);
        var again = await store.ClaimAsync(0, CancellationToken.None);
        var replay = await StageAsync(store, again, records[2..]);

        var transitions = crashed.Outputs.Where(o => o.Kind == OutputKind.Transition).ToList();
        Assert.That(transitions, Has.Count.EqualTo(1));
        Schemas.AssertValid(Schemas.StageTransition, transitions[0].Value);
        var t = JsonSerializer.Deserialize(transitions[0].Value, JourneysJsonContext.Default.StageTransition)!;
        Assert.Multiple(() =>
        {
            Assert.That((t.Kind, t.FromStage, t.ToStage, t.EventId), Is.EqualTo(("corrected", "awareness", "decision", "call-1")));
            Assert.That(t.Ts, Is.EqualTo(Touch.T0.AddDays(3)));
            Assert.That(t.ReplacesTs, Is.EqualTo(Touch.T0.AddDays(10)));
            Assert.That(replay.Outputs.Select(o => Encoding.UTF8.GetString(o.Value)), Is.EqualTo(crashed.Outputs.Select(o => Encoding.UTF8.GetString(o.Value))),
                "a replay of the late call on the saved state publishes the same outputs");
        });
    }

    private static Touchpoint Parse(OutputMessage o) => JsonSerializer.Deserialize(o.Value, ContractsJsonContext.Default.Touchpoint)!;
}
