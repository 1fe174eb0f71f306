using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// Persons in the store: the writer fills persons and person_visitors from staged touchpoints carrying
/// journey.person_id, over several flushes; the person query lists every touch of all their visitor ids in time
/// order, including the visitors' touches from before they were identified.
/// </summary>
public sealed class PersonTests
{
    private static readonly string UserHash = IdentityHashing.UserId("u-7");
    private static readonly string Person = IdentityResolver.PersonIdFor("acme", UserHash);
    private static readonly string Other = IdentityResolver.PersonIdFor("acme", IdentityHashing.UserId("u-8"));

    private static Touchpoint Tp(string ev, string visitor, DateTimeOffset ts, string? person, string type = "pageview", string path = "/")
    {
        var tp = new Touchpoint
        {
            Schema = Touchpoint.StagedSchema, EventId = ev, SiteId = "acme", VisitorId = visitor, SessionId = "s-" + visitor, Type = type,
            DerivedTs = ts, ReceivedTs = ts, Channel = "Direct",
            Page = new PageInfo { Host = "www.acme.example", Path = path, Url = "https://www.acme.example" + path },
            Journey = new JourneyInfo { Id = visitor + ":first", Stage = "awareness", TouchIndex = 1, SessionId = ev, SessionIndex = 1, PersonId = person },
        };
        if (type == "identify")
        {
            tp.Props = new() { ["user_id_sha256"] = JsonSerializer.SerializeToElement(person == Person ? UserHash : IdentityHashing.UserId("u-8")) };
        }
        return tp;
    }

    [Test]
    public async Task A_persons_touches_across_visitor_ids_come_in_time_order()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("p.duckdb") });
        var t0 = Dataset.At(3, 1, 9, 0);
        await using (var writer = new AnalyticsWriter(store))
        {
            foreach (var tp in new[]
            {
                Tp("x1", "v-x", t0, null, path: "/blog"),
                Tp("y1", "v-y", t0.AddHours(1), null, path: "/compare"),
                Tp("x2", "v-x", t0.AddHours(2), Person, "identify", "/contact"),
                Tp("n1", "v-n", t0.AddHours(2), null),
            })
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
            foreach (var tp in new[]
            {
                Tp("y2", "v-y", t0.AddHours(3), Person, "identify", "/contact"),
                Tp("y3", "v-y", t0.AddHours(4), Person, path: "/pricing"),
                Tp("x3", "v-x", t0.AddDays(1), Person, path: "/demo"),
                // v-x identified as another user later: it stays with its first person in the store.
                Tp("x4", "v-x", t0.AddDays(1).AddHours(1), Other, "identify"),
            })
            {
                await writer.AddAsync(tp);
            }
            await writer.FlushAsync();
        }
        var q = new AnalyticsQueries(store);
        var p = q.Person(Dataset.Request(), Person)!;
        Assert.Multiple(() =>
        {
            Assert.That(p.UserIdSha256, Is.EqualTo(UserHash));
            Assert.That(p.Visitors.Select(v => v.VisitorId), Is.EqualTo(new[] { "v-x", "v-y" }));
            Assert.That(p.Touches.Select(t => t.Touch.EventId), Is.EqualTo(new[] { "x1", "y1", "x2", "y2", "y3", "x3", "x4" }),
                "every touch of both visitor ids, the anonymous ones too, in time order");
            Assert.That(p.Touches.Select(t => t.VisitorId), Is.EqualTo(new[] { "v-x", "v-y", "v-x", "v-y", "v-y", "v-x", "v-x" }));
            Assert.That(p.FirstSeen, Is.EqualTo(t0.AddHours(2).UtcDateTime));
            Assert.That(p.LastSeen, Is.EqualTo(t0.AddDays(1).UtcDateTime), "the second flush moved last_ts on");
            Assert.That(q.PersonByUser("acme", UserHash), Is.EqualTo(Person));
            Assert.That(q.PersonByUser("other", UserHash), Is.Null);
            Assert.That(q.Person(Dataset.Request(site: "other"), Person), Is.Null);
            Assert.That(q.Person(Dataset.Request(), Other)!.Visitors, Is.Empty, "v-x stays with its first person");
            Assert.That(q.Journey(Dataset.Request(), "v-y")!.PersonId, Is.EqualTo(Person));
            Assert.That(q.Journey(Dataset.Request(), "v-y")!.PersonVisitors, Is.EqualTo(new[] { "v-x", "v-y" }));
            Assert.That(q.Journey(Dataset.Request(), "v-n")!.PersonId, Is.Null);
        });
    }
}
