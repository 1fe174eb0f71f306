using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>
/// The binary journey state encoding: every generated state comes back equal (field by field, compared through the
/// JSON form, which names every stored field), states stored as JSON before it still load, it is smaller than the
/// JSON, and damaged bytes are refused with <see cref="InvalidDataException"/>, never another exception.
/// </summary>
public sealed class StateCodecTests
{
    private const int Runs = 300;

    private static string Json(JourneyState s) => JsonSerializer.Serialize(s, JourneysJsonContext.Default.JourneyState);

    [Test]
    public void Every_state_round_trips()
    {
        Prop.ForAll(StateGen.ToArbitrary(), state =>
        {
            var bytes = JourneyStateCodec.Encode(state);
            var back = JourneyStateCodec.Decode(bytes);
            return bytes[0] == JourneyStateCodec.Format1 && Json(back) == Json(state)
                && JourneyStateCodec.Encode(back).AsSpan().SequenceEqual(bytes)
                && Json(JourneyStateCodec.Clone(state)) == Json(state);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Test]
    public void A_state_stored_as_json_loads_as_it_was()
    {
        Prop.ForAll(StateGen.ToArbitrary(), state =>
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(state, JourneysJsonContext.Default.JourneyState);
            var migrated = JourneyStateCodec.Decode(json);
            return JourneyStateCodec.IsJson(json) && Json(migrated) == Json(state)
                && Json(JourneyStateCodec.Decode(JourneyStateCodec.Encode(migrated))) == Json(state);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Test]
    public void Damaged_bytes_are_refused_as_invalid_data()
    {
        var damage = from state in StateGen
                     from cut in Gen.Choose(0, 10_000)
                     from flips in Gen.Choose(0, 3)
                     from at in Gen.Choose(0, 10_000).ArrayOf(3)
                     from value in Gen.Choose(0, 255).ArrayOf(3)
                     select (state, cut, flips, at, value);
        Prop.ForAll(damage.ToArbitrary(), d =>
        {
            var bytes = JourneyStateCodec.Encode(d.state);
            var damaged = bytes.AsSpan(0, 1 + d.cut % bytes.Length).ToArray();
            for (var i = 0; i < d.flips; i++)
            {
                var at = 1 + d.at[i] % Math.Max(1, damaged.Length - 1);
                if (at < damaged.Length)
                {
                    damaged[at] = (byte)d.value[i];
                }
            }
            try
            {
                JourneyStateCodec.Decode(damaged);
                return true; // damage that still reads as a state (a changed number, say) is not detectable here
            }
            catch (InvalidDataException)
            {
                return true;
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    [Test]
    public void Unknown_formats_and_empty_bytes_are_refused()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<InvalidDataException>(() => JourneyStateCodec.Decode([]));
            Assert.Throws<InvalidDataException>(() => JourneyStateCodec.Decode([0xB2, 0, 0]));
            Assert.Throws<InvalidDataException>(() => JourneyStateCodec.Decode("null"u8));
            Assert.Throws<InvalidDataException>(() => JourneyStateCodec.Decode("{\"v\":"u8));
            Assert.Throws<InvalidDataException>(() => JourneyStateCodec.Decode([JourneyStateCodec.Format1]));
        });
    }

    [Test]
    public void Special_doubles_and_times_keep_their_exact_values()
    {
        foreach (var d in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, 4_503_599_627_370_496d, 47.5, -3 })
        {
            var state = new JourneyState
            {
                Score = d,
                Started = new DateTimeOffset(2026, 3, 5, 10, 2, 11, TimeSpan.FromMinutes(330)).AddTicks(7),
                LastSeen = DateTimeOffset.MinValue,
                StageHistory = [new StageEntry { Stage = "awareness", At = DateTimeOffset.MaxValue }],
            };
            var back = JourneyStateCodec.Decode(JourneyStateCodec.Encode(state));
            Assert.Multiple(() =>
            {
                Assert.That(BitConverter.DoubleToInt64Bits(back.Score), Is.EqualTo(BitConverter.DoubleToInt64Bits(d)), $"score {d}");
                Assert.That((back.Started.Ticks, back.Started.Offset), Is.EqualTo((state.Started.Ticks, state.Started.Offset)));
                Assert.That(back.LastSeen, Is.EqualTo(DateTimeOffset.MinValue));
                Assert.That(back.StageHistory![0].At, Is.EqualTo(DateTimeOffset.MaxValue));
            });
        }
    }

    [Test]
    public void A_typical_visitor_takes_well_under_a_kilobyte_and_a_third_of_its_json()
    {
        // Three sessions: a search landing, a newsletter return, a direct visit to pricing and a lead.
        var runner = new JourneyRunner();
        var t = T0;
        runner.Apply(Page("/blog/how-to-track").At(t).FromSearch("google", "journey tracking tool").Session("s1").Build("visitor-0001"));
        runner.Apply(Page("/blog/other").At(t.AddMinutes(2)).Session("s1").Build("visitor-0001"));
        runner.Apply(Page("/features").At(t.AddMinutes(4)).Session("s1").Build("visitor-0001"));
        runner.Apply(Page("/blog/x").At(t.AddDays(2)).Campaign("newsletter", "email", "launch").Session("s2").Build("visitor-0001"));
        runner.Apply(Page("/pricing").At(t.AddDays(2).AddMinutes(1)).Session("s2").Build("visitor-0001"));
        runner.Apply(Page("/pricing").At(t.AddDays(5)).Session("s3").Build("visitor-0001"));
        runner.Apply(Page("/contact").At(t.AddDays(5).AddMinutes(3)).Session("s3").Build("visitor-0001"));
        runner.Apply(Touch.Event("lead").At(t.AddDays(5).AddMinutes(4)).Session("s3").Build("visitor-0001"));
        var state = runner.StateOf("visitor-0001");
        var binary = JourneyStateCodec.Encode(state).Length;
        var json = JsonSerializer.SerializeToUtf8Bytes(state, JourneysJsonContext.Default.JourneyState).Length;
        TestContext.Out.WriteLine($"{state.Touches} touches, {state.Sessions} sessions: {binary} bytes encoded, {json} bytes of JSON");
        Assert.Multiple(() =>
        {
            Assert.That(state.Sessions, Is.EqualTo(3));
            Assert.That(binary, Is.LessThan(1024));
            Assert.That(binary * 3, Is.LessThan(json));
            Assert.That(Json(JourneyStateCodec.Decode(JourneyStateCodec.Encode(state))), Is.EqualTo(Json(state)));
        });
    }

    // ---- generators ----

    private static readonly string[] Words =
        ["", "awareness", "consideration", "decision", "Email", "Organic Search", "newsletter", "google", "/pricing", "https://www.acme.example/blog/x?utm_source=a",
         "déjà vu", "日本語", "😀 emoji", "a\"quote", "line\nbreak", "\u0000nul"];

    private static Gen<string> TextGen =>
        Gen.OneOf(
            Gen.Elements(Words),
            Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789-_:/?=&é€😀".EnumerateRunes().Select(r => r.ToString()).ToArray())
                .ArrayOf().Select(parts => string.Concat(parts)),
            Gen.Choose(60, 300).Select(n => new string('x', n)));

    private static Gen<string?> NullableTextGen => Gen.Frequency((1, Gen.Constant<string?>(null)), (4, TextGen.Select(s => (string?)s)));

    private static Gen<DateTimeOffset> TimeGen =>
        Gen.OneOf(
            // Milliseconds around now, UTC: what the engine stores.
            Gen.Choose(-2_000_000, 2_000_000).Select(m => T0.AddSeconds(m * 7.0).AddMilliseconds(m % 1000)),
            // Any tick and any offset.
            from ticks in Gen.Choose(0, int.MaxValue).Two()
            from minutes in Gen.Choose(-14 * 60, 14 * 60)
            select new DateTimeOffset(
                Math.Clamp((long)ticks.Item1 * int.MaxValue + ticks.Item2, DateTimeOffset.MinValue.Ticks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.Ticks - TimeSpan.TicksPerDay),
                TimeSpan.FromMinutes(minutes)),
            Gen.Elements(DateTimeOffset.MinValue, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue));

    private static Gen<double> DoubleGen =>
        Gen.OneOf(
            Gen.Choose(-100_000, 100_000).Select(i => (double)i),
            Gen.Choose(-100_000, 100_000).Select(i => i / 8.0),
            Gen.Choose(int.MinValue, int.MaxValue).Two().Select(p => BitConverter.Int64BitsToDouble(((long)p.Item1 << 32) | (uint)p.Item2))
                .Where(d => double.IsFinite(d)),
            Gen.Elements(0.0, -0.0, 1e300, -1e-300, 9_007_199_254_740_993d));

    private static Gen<long> LongGen =>
        Gen.OneOf(Gen.Choose(-1000, 100_000).Select(i => (long)i), Gen.Choose(int.MinValue, int.MaxValue).Two().Select(p => ((long)p.Item1 << 32) | (uint)p.Item2));

    private static Gen<List<T>?> ListGen<T>(Gen<T> item, int max) =>
        Gen.Frequency(
            (1, Gen.Constant<List<T>?>(null)),
            (4, from n in Gen.Choose(0, max) from items in item.ArrayOf(n) select (List<T>?)[.. items]));

    private static Gen<CampaignInfo?> CampaignGen =>
        Gen.Frequency(
            (1, Gen.Constant<CampaignInfo?>(null)),
            (2, from v in NullableTextGen.ArrayOf(8)
                select (CampaignInfo?)new CampaignInfo
                {
                    Source = v[0], Medium = v[1], Name = v[2], Term = v[3], Content = v[4], Id = v[5], ClickId = v[6], ClickPlatform = v[7],
                }));

    private static Gen<SessionState> SessionGen =>
        from id in TextGen
        from index in Gen.Choose(-3, 5000)
        from client in NullableTextGen
        from times in TimeGen.ArrayOf(3)
        from hasPrevious in Gen.Elements(true, false)
        from pages in Gen.Choose(0, 10_000)
        from engaged in LongGen
        from channel in TextGen
        from campaign in CampaignGen
        from strings in NullableTextGen.ArrayOf(3)
        from intent in Gen.Choose(int.MinValue, int.MaxValue)
        from fired in ListGen(TextGen, 5)
        from terms in ListGen(TextGen, 5)
        select new SessionState
        {
            Id = id, Index = index, ClientSessionId = client, Start = times[0], End = times[1], PreviousEnd = hasPrevious ? times[2] : null,
            Pages = pages, EngagedMs = engaged, Channel = channel, Campaign = campaign, LandingUrl = strings[0], LandingReferrer = strings[1],
            Term = strings[2], Intent = intent, FiredOnce = fired, SiteSearchTerms = terms,
        };

    private static Gen<OrderMemory> OrderGen =>
        from hash in LongGen
        from id in TextGen
        from hasValue in Gen.Elements(true, false)
        from value in DoubleGen
        from currency in NullableTextGen
        from refunded in Gen.OneOf(Gen.Constant(0.0), DoubleGen)
        from retracted in Gen.Elements(true, false)
        select new OrderMemory { Hash = (ulong)hash, Id = id, Value = hasValue ? value : null, Currency = currency, Refunded = refunded, Retracted = retracted };

    private static Gen<LandingLog?> LandingsGen =>
        Gen.Frequency(
            (1, Gen.Constant<LandingLog?>(null)),
            (3, from strings in TextGen.ArrayOf()
                from entries in (from at in Gen.Choose(0, int.MaxValue)
                                 from values in Gen.Choose(0, 40).ArrayOf(10)
                                 select new LandingEntry { AtSeconds = at, Values = values }).ArrayOf()
                select (LandingLog?)new LandingLog { Strings = [.. strings], Entries = [.. entries] }));

    private static Gen<Dictionary<string, int>?> CountsGen =>
        Gen.Frequency(
            (1, Gen.Constant<Dictionary<string, int>?>(null)),
            (3, from pairs in Gen.Zip(TextGen, Gen.Choose(-5, 1_000_000)).ArrayOf()
                select (Dictionary<string, int>?)pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal)));

    private static Gen<JourneyState> StateGen =>
        from version in Gen.Choose(0, 3)
        from ids in TextGen.ArrayOf(2)
        from person in NullableTextGen
        from stages in NullableTextGen.ArrayOf(2)
        from score in DoubleGen
        from counters in Gen.Choose(0, 100_000).ArrayOf(3)
        from engaged in LongGen
        from times in TimeGen.ArrayOf(2)
        from counts in CountsGen
        from fired in ListGen(TextGen, 6)
        from sessions in SessionGen.ArrayOf().Select(a => a.Take(JourneyState.SessionHistory + 2).ToList())
        from eventIds in LongGen.ArrayOf().Select(a => a.Select(x => (ulong)x).ToList())
        from orders in ListGen(OrderGen, 4)
        from landings in LandingsGen
        from history in ListGen(Gen.Zip(TextGen, TimeGen).Select(p => new StageEntry { Stage = p.Item1, At = p.Item2 }), 5)
        select new JourneyState
        {
            Version = version, JourneyId = ids[0], PersonId = person, Stage = stages[0] ?? "", Furthest = stages[1], Score = score,
            Touches = counters[0], Sessions = counters[1], Pages = counters[2], EngagedMs = engaged, Started = times[0], LastSeen = times[1],
            EventCounts = counts, FiredOnce = fired, RecentSessions = sessions, RecentEventIds = eventIds, Orders = orders, Landings = landings,
            StageHistory = history,
        };
}
