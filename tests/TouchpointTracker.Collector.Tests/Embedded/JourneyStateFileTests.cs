using System.Text.Json;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Journeys;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Tests.Embedded;

/// <summary>
/// The embedded mode's journey state file: the states come back as saved (the last record of a visitor wins), a record
/// cut by a crash is skipped, and the former JSON-lines file is migrated once and removed.
/// </summary>
public sealed class JourneyStateFileTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("tt-statefile-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private string StatePath => Path.Combine(_folder, "journeys.state");
    private string JsonPath => Path.Combine(_folder, "journeys.jsonl");

    private static readonly JourneyProcessor Journeys = new(StageEngine.CreateDefault(), JourneySettings.Default);
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static JourneyState Journey(string visitor, int pages)
    {
        var state = new JourneyState();
        for (var i = 0; i < pages; i++)
        {
            var path = i % 2 == 0 ? "/blog/a" : "/pricing";
            Journeys.Apply(new Touchpoint
            {
                EventId = $"{visitor}-{i}", SiteId = "acme", VisitorId = visitor, SessionId = "s", Type = "pageview",
                DerivedTs = T0.AddMinutes(i), ReceivedTs = T0.AddMinutes(i),
                Page = new PageInfo { Url = "https://www.acme.example" + path, Host = "www.acme.example", Path = path },
            }, state);
        }
        Assert.That(state.Touches, Is.EqualTo(pages));
        return state;
    }

    private static string Json(JourneyState s) => JsonSerializer.Serialize(s, JourneysJsonContext.Default.JourneyState);

    [Test]
    public void States_come_back_as_saved_and_the_last_record_of_a_visitor_wins()
    {
        var a1 = Journey("a", 1);
        var a3 = Journey("a", 3);
        var b = Journey("b", 2);
        using (var file = new JourneyStateFile(StatePath, JsonPath))
        {
            Assert.That(file.Load(), Is.Empty);
            file.Append([("acme", "a", a1), ("acme", "b", b)], 2, () => []);
            file.Append([("acme", "a", a3)], 2, () => []);
        }
        using var again = new JourneyStateFile(StatePath, JsonPath);
        var states = again.Load();
        Assert.Multiple(() =>
        {
            Assert.That(states, Has.Count.EqualTo(2));
            Assert.That(Json(states[("acme", "a")]), Is.EqualTo(Json(a3)));
            Assert.That(Json(states[("acme", "b")]), Is.EqualTo(Json(b)));
            Assert.That(again.Migrated, Is.Zero);
        });
    }

    [Test]
    public void A_record_cut_by_a_crash_is_skipped()
    {
        var a = Journey("a", 2);
        using (var file = new JourneyStateFile(StatePath))
        {
            file.Load();
            file.Append([("acme", "a", a)], 1, () => []);
            file.Append([("acme", "b", Journey("b", 4))], 2, () => []);
        }
        var bytes = File.ReadAllBytes(StatePath);
        File.WriteAllBytes(StatePath, bytes[..^7]); // the last record loses its end

        using var again = new JourneyStateFile(StatePath);
        var states = again.Load();
        Assert.Multiple(() =>
        {
            Assert.That(states.Keys, Is.EquivalentTo(new[] { ("acme", "a") }));
            Assert.That(Json(states[("acme", "a")]), Is.EqualTo(Json(a)));
        });
    }

    [Test]
    public void The_former_json_lines_file_is_migrated_once_and_removed()
    {
        var a = Journey("a", 3);
        var b = Journey("b", 1);
        var lines = new[]
        {
            Line("acme", "a", Journey("a", 1)), Line("acme", "b", b), Line("acme", "a", a), "{\"s\":\"acme\",\"v\":\"c\",\"j\":{\"v\":1,", // cut by a crash
        };
        File.WriteAllLines(JsonPath, lines);

        using (var file = new JourneyStateFile(StatePath, JsonPath))
        {
            var states = file.Load();
            Assert.Multiple(() =>
            {
                Assert.That(file.Migrated, Is.EqualTo(2));
                Assert.That(Json(states[("acme", "a")]), Is.EqualTo(Json(a)));
                Assert.That(Json(states[("acme", "b")]), Is.EqualTo(Json(b)));
                Assert.That(File.Exists(JsonPath), Is.False, "migrated, then removed");
                Assert.That(File.Exists(StatePath), Is.True);
                Assert.That(new FileInfo(StatePath).Length * 3, Is.LessThan(lines.Sum(l => l.Length)), "the binary file is a fraction of the JSON");
            });
        }
        using var again = new JourneyStateFile(StatePath, JsonPath);
        var reloaded = again.Load();
        Assert.Multiple(() =>
        {
            Assert.That(again.Migrated, Is.Zero);
            Assert.That(Json(reloaded[("acme", "a")]), Is.EqualTo(Json(a)));
        });

        static string Line(string site, string visitor, JourneyState state) =>
            $"{{\"s\":\"{site}\",\"v\":\"{visitor}\",\"j\":{JsonSerializer.Serialize(state, JourneysJsonContext.Default.JourneyState)}}}";
    }

    [Test]
    public void A_file_of_another_kind_is_refused_rather_than_overwritten()
    {
        File.WriteAllText(StatePath, "not a state file");
        using var file = new JourneyStateFile(StatePath);
        Assert.Throws<InvalidDataException>(() => file.Load());
        Assert.That(File.ReadAllText(StatePath), Is.EqualTo("not a state file"));
    }
}
