using System.Text.Json;
using BenchmarkDotNet.Attributes;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Processor.Benchmarks;

/// <summary>One input message as the processor reads it: partition, offset, key and JSON body.</summary>
public sealed record Record(int Partition, long Offset, string Key, byte[] Value);

/// <summary>
/// A deterministic stream like a busy site's: sessions from search, email and direct traffic over a few
/// weeks, pages of every group, events and engagement, 8 input partitions by visitor.
/// </summary>
public static class SyntheticStream
{
    private const int Partitions = 8;
    private static readonly string[] Paths = ["/", "/blog/how-to-plan", "/products/a", "/compare/a-vs-b", "/case-studies/x", "/pricing", "/contact", "/cart", "/checkout", "/about"];
    private static readonly string[] Events = ["download", "add_to_cart", "purchase", "lead", "signup"];
    private static readonly string[] Terms = ["how to plan a trip", "best planner app", "planner pricing", "comparatif agenda", "prix agenda"];

    public static List<Record> Generate(int visitors, int seed)
    {
        var random = new Random(seed);
        var t0 = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var perVisitor = new List<Queue<Touchpoint>>(visitors);
        for (var v = 0; v < visitors; v++)
        {
            var visitor = $"v{seed}-{v:D7}";
            var queue = new Queue<Touchpoint>();
            var at = t0.AddMinutes(random.Next(0, 24 * 60 * 14));
            var sessions = random.Next(1, 4);
            for (var s = 0; s < sessions; s++)
            {
                var pages = random.Next(1, 8);
                var source = random.Next(3);
                for (var p = 0; p < pages; p++)
                {
                    var path = Paths[random.Next(Paths.Length)];
                    var tp = new Touchpoint
                    {
                        EventId = Guid.NewGuid().ToString(),
                        SiteId = "acme",
                        VisitorId = visitor,
                        SessionId = $"{visitor}-{s}",
                        Type = p > 0 && random.Next(5) == 0 ? "event" : "pageview",
                        DerivedTs = at,
                        ReceivedTs = at,
                        ClientTs = at,
                        Page = new PageInfo { Url = "https://www.acme.example" + path, Host = "www.acme.example", Path = path, Title = "Acme" },
                        Device = new DeviceInfo { Browser = "Chrome", BrowserVersion = "140", Os = "Windows", Family = "Other" },
                        Geo = new GeoInfo { Country = "FR" },
                    };
                    if (tp.Type == "event")
                    {
                        tp.Name = Events[random.Next(Events.Length)];
                    }
                    if (source == 0)
                    {
                        tp.Referrer = p == 0
                            ? new ReferrerInfo { Url = "https://www.google.com/", Host = "www.google.com", Medium = "search", Source = "Google", Term = Terms[random.Next(Terms.Length)] }
                            : new ReferrerInfo { Url = "https://www.acme.example/", Host = "www.acme.example", Medium = "internal" };
                        tp.Campaign = new CampaignInfo { Source = "google", Medium = "organic" };
                        tp.Channel = "Organic Search";
                    }
                    else if (source == 1)
                    {
                        tp.Campaign = new CampaignInfo { Source = "newsletter", Medium = "email", Name = "issue-" + s };
                        tp.Channel = "Email";
                    }
                    else
                    {
                        tp.Campaign = new CampaignInfo { Source = "(direct)", Medium = "(none)" };
                        tp.Channel = "Direct";
                    }
                    queue.Enqueue(tp);
                    at = at.AddSeconds(random.Next(10, 240));
                }
                at = at.AddHours(random.Next(2, 24 * 7));
            }
            perVisitor.Add(queue);
        }
        var offsets = new long[Partitions];
        var records = new List<Record>();
        var live = perVisitor.ToList();
        while (live.Count > 0)
        {
            var i = random.Next(live.Count);
            var tp = live[i].Dequeue();
            if (live[i].Count == 0)
            {
                live[i] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
            var key = tp.SiteId + ":" + tp.VisitorId;
            var partition = (int)(JourneyState.EventIdHash(key) % Partitions);
            records.Add(new Record(partition, offsets[partition]++, key, JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint)));
        }
        return records;
    }

    /// <summary>
    /// The stream with an identify (hashed user id and e-mail, as the collector forwards it) inserted half-way
    /// through every <paramref name="everyNth"/>th visitor's touches; two visitors share each user id (two devices).
    /// </summary>
    public static List<Record> WithIdentifies(List<Record> input, int everyNth)
    {
        var result = new List<Record>(input.Count + input.Count / everyNth);
        var byVisitor = input.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Count());
        var seen = new Dictionary<string, int>();
        var offsets = new Dictionary<int, long>();
        foreach (var r in input)
        {
            var n = seen[r.Key] = seen.GetValueOrDefault(r.Key) + 1;
            var visitorIndex = (int)(JourneyState.EventIdHash(r.Key) % 1_000_000);
            Add(r.Partition, r.Key, r.Value);
            if (visitorIndex % everyNth == 0 && n == Math.Max(1, byVisitor[r.Key] / 2))
            {
                var tp = JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint)!;
                tp.EventId += "-identify";
                tp.Type = "identify";
                tp.Name = null;
                var user = "user-" + (visitorIndex / everyNth / 2);
                var props = new System.Text.Json.Nodes.JsonObject
                {
                    ["user_id_sha256"] = TouchpointTracker.Journeys.Identity.IdentityHashing.UserId(user),
                    ["traits"] = new System.Text.Json.Nodes.JsonObject { ["email_sha256"] = TouchpointTracker.Journeys.Identity.IdentityHashing.Email(user + "@example.com") },
                };
                tp.Props = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(props.ToJsonString());
                Add(r.Partition, r.Key, JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint));
            }
        }
        return result;

        void Add(int partition, string key, byte[] value)
        {
            var offset = offsets[partition] = offsets.GetValueOrDefault(partition, -1) + 1;
            result.Add(new Record(partition, offset, key, value));
        }
    }
}

/// <summary>BenchmarkDotNet: the engine alone on a stream of 1,000 visitors (run with --bdn).</summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private List<Record> _input = [];
    private JourneyProcessor _journeys = null!;

    [GlobalSetup]
    public void Setup()
    {
        _input = SyntheticStream.Generate(1000, seed: 7);
        _journeys = new JourneyProcessor(StageEngine.CreateDefault(), JourneySettings.Default);
    }

    [Benchmark(Description = "parse + stage + serialise, per touchpoint", OperationsPerInvoke = 1)]
    public int StageStream()
    {
        var states = new Dictionary<string, JourneyState>(StringComparer.Ordinal);
        var n = 0;
        foreach (var r in _input)
        {
            var tp = JsonSerializer.Deserialize(r.Value, ContractsJsonContext.Default.Touchpoint)!;
            if (!states.TryGetValue(r.Key, out var state))
            {
                state = new JourneyState();
                states[r.Key] = state;
            }
            if (_journeys.Apply(tp, state).Staged is { } staged)
            {
                n += JsonSerializer.SerializeToUtf8Bytes(staged, ContractsJsonContext.Default.Touchpoint).Length;
            }
        }
        return n;
    }
}
