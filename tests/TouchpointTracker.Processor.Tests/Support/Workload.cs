using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Processor.Tests.Support;

/// <summary>
/// A deterministic stream of touchpoints for many visitors, interleaved as a busy site sends them:
/// sessions from search, email and direct, pricing and contact pages, carts and purchases, engagement,
/// a few bots, some events delivered twice upstream (same event id, later offset) and some late ones.
/// </summary>
public static class Workload
{
    private static readonly string[] Paths =
        ["/", "/blog/how-to-plan", "/blog/guide", "/products/a", "/products/b", "/compare/a-vs-b", "/case-studies/x", "/pricing", "/contact", "/cart", "/checkout", "/about", "/careers"];
    private static readonly string[] Events = ["download", "add_to_cart", "purchase", "lead", "call", "share", "signup"];
    private static readonly string[] Terms = ["how to plan a trip", "best planner app", "planner pricing", "comparatif agenda", "prix agenda", "touchpoint tracker"];

    public static List<Touchpoint> Generate(int visitors, int seed, DateTimeOffset? start = null, string visitorPrefix = "v")
    {
        var random = new Random(seed);
        var t0 = start ?? T0;
        var perVisitor = new List<Queue<Touchpoint>>();
        for (var v = 0; v < visitors; v++)
        {
            var visitor = $"{visitorPrefix}{v:D4}";
            var isBot = random.Next(25) == 0;
            var touches = new List<Touchpoint>();
            var at = t0.AddMinutes(random.Next(0, 600));
            var sessions = random.Next(1, 5);
            for (var s = 0; s < sessions; s++)
            {
                var sid = $"{visitor}-s{s}";
                var pages = random.Next(1, 8);
                for (var p = 0; p < pages; p++)
                {
                    Touch touch;
                    var roll = random.Next(10);
                    if (p > 0 && roll < 2)
                    {
                        touch = Event(Events[random.Next(Events.Length)], Paths[random.Next(Paths.Length)]);
                    }
                    else if (p > 0 && roll == 2)
                    {
                        touch = Engagement(random.Next(5_000, 240_000), Paths[random.Next(Paths.Length)]);
                    }
                    else
                    {
                        touch = Page(Paths[random.Next(Paths.Length)]);
                    }
                    if (p == 0)
                    {
                        switch (random.Next(4))
                        {
                            case 0:
                                touch.FromSearch(random.Next(2) == 0 ? "Google" : "Qwant", Terms[random.Next(Terms.Length)]);
                                break;
                            case 1:
                                touch.Campaign("newsletter", "email", "issue-" + random.Next(5));
                                break;
                            case 2:
                                touch.FromSite("https://www.linkedin.com/", "social", "Organic Social", "LinkedIn");
                                break;
                        }
                    }
                    else
                    {
                        touch.Internal();
                    }
                    if (isBot)
                    {
                        touch.Bot();
                    }
                    touches.Add(touch.Session(sid).At(at).Build(visitor));
                    at = at.AddSeconds(random.Next(10, 300));
                }
                at = at.AddHours(random.Next(1, 24 * 12));
            }
            // Late: the tag retried an older batch later (swap two neighbours).
            if (touches.Count > 3 && random.Next(4) == 0)
            {
                var i = random.Next(1, touches.Count - 1);
                (touches[i], touches[i + 1]) = (touches[i + 1], touches[i]);
            }
            // Delivered twice upstream: the same event again, a little later in the stream.
            foreach (var i in Enumerable.Range(0, touches.Count).Where(_ => random.Next(12) == 0).ToList())
            {
                var copy = touches[i];
                touches.Insert(Math.Min(touches.Count, i + 1 + random.Next(3)), Touchpoint(copy));
            }
            perVisitor.Add(new Queue<Touchpoint>(touches));
        }
        // Interleave visitors, keeping each visitor's order.
        var stream = new List<Touchpoint>();
        var live = perVisitor.Where(q => q.Count > 0).ToList();
        while (live.Count > 0)
        {
            var q = live[random.Next(live.Count)];
            stream.Add(q.Dequeue());
            if (q.Count == 0)
            {
                live.Remove(q);
            }
        }
        return stream;
    }

    private static Touchpoint Touchpoint(Touchpoint tp) =>
        System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint), ContractsJsonContext.Default.Touchpoint)!;

    /// <summary>What the outputs must hold: the stream staged in order by one in-memory engine.</summary>
    public static JourneyRunner Expected(IEnumerable<Touchpoint> stream)
    {
        var runner = new JourneyRunner();
        foreach (var tp in stream)
        {
            runner.Apply(Touchpoint(tp));
        }
        return runner;
    }

    public static string Describe(Touchpoint tp) =>
        $"{tp.EventId} {tp.Journey!.Id} {tp.Journey.PreviousStage}->{tp.Journey.Stage} score={tp.Journey.Score} #{tp.Journey.TouchIndex} {tp.Journey.SessionId}/{tp.Journey.SessionIndex} [{string.Join(",", tp.Journey.Reasons)}] {tp.Channel}";

    public static string Describe(StageTransition t) =>
        $"{t.EventId} {t.JourneyId} {t.FromStage}->{t.ToStage} #{t.TouchIndex} [{string.Join(",", t.Reasons)}]";

    /// <summary>Asserts that the outputs hold each expected staged touchpoint and transition exactly once, as the reference staged them.</summary>
    public static void AssertSameAsExpected(JourneyRunner expected, List<Touchpoint> staged, List<StageTransition> transitions)
    {
        var duplicates = staged.GroupBy(s => s.EventId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.That(duplicates, Is.Empty, "event ids staged more than once");
        var duplicateTransitions = transitions.GroupBy(t => t.EventId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.That(duplicateTransitions, Is.Empty, "transitions published more than once");
        Assert.That(staged.Select(Describe).Order(StringComparer.Ordinal), Is.EqualTo(expected.Staged.Select(Describe).Order(StringComparer.Ordinal)), "staged touchpoints");
        Assert.That(transitions.Select(Describe).Order(StringComparer.Ordinal), Is.EqualTo(expected.Transitions.Select(Describe).Order(StringComparer.Ordinal)), "stage transitions");
    }
}
