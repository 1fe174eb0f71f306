using System.Net;
using System.Net.Sockets;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// A small hand-built dataset on site acme (time zone UTC), 2026-03-01..03, whose figures the tests work out by hand:
/// <code>
/// v-a  sA1 03-01 10:00 Organic Search (google.com)  a1 -> awareness, 10:05 a2 awareness -> consideration
///      sA2 03-02 09:00 Email (newsletter/email/nurture) a3 consideration -> decision
/// v-b  sB1 03-01 12:00 Direct                        b1 -> awareness, 12:10 b2 awareness (stays)
/// v-c  sC1 03-02 15:00 Paid Search (google/cpc/brand, term "acme crm") c1 -> awareness, 15:02 c2 -> consideration
///      sC2 03-03 08:00 Direct                        c3 consideration (stays)
/// v-d  sD1 02-20 11:00 Direct                        d1 -> awareness (outside the range)
/// </code>
/// Sessions are named after their first event, as the processor names them (sA1 = a1 and so on).
/// </summary>
internal static class Dataset
{
    public const string Site = "acme";
    public static readonly DateOnly From = new(2026, 3, 1);
    public static readonly DateOnly To = new(2026, 3, 3);

    public static DateTimeOffset At(int month, int day, int hour, int minute) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    public static (List<Touchpoint> Touchpoints, List<StageTransition> Transitions) Build(string site = Site)
    {
        var tps = new List<Touchpoint>();
        var trs = new List<StageTransition>();
        void Add(string ev, string visitor, string session, int sessionIndex, DateTimeOffset ts, string? prev, string stage, string channel,
                 string path, string? refHost = null, string? refMedium = null, string? refSource = null,
                 string? utmSource = null, string? utmMedium = null, string? campaign = null, string? term = null,
                 string country = "FR", string device = "Desktop", int touchIndex = 1, string? journeyFirst = null, params string[] reasons)
        {
            var journey = $"{visitor}:{journeyFirst ?? ev}";
            tps.Add(new Touchpoint
            {
                Schema = Touchpoint.StagedSchema,
                EventId = ev,
                SiteId = site,
                VisitorId = visitor,
                SessionId = "client-" + session,
                Type = "pageview",
                DerivedTs = ts,
                ReceivedTs = ts,
                Page = new PageInfo { Host = "www.acme.example", Path = path, Url = "https://www.acme.example" + path },
                Referrer = new ReferrerInfo { Host = refHost, Medium = refMedium, Source = refSource },
                Campaign = new CampaignInfo { Source = utmSource, Medium = utmMedium, Name = campaign, Term = term },
                Channel = channel,
                Device = new DeviceInfo { Browser = "Firefox", Os = "Linux", Family = device },
                Geo = new GeoInfo { Country = country },
                Journey = new JourneyInfo
                {
                    Id = journey, Stage = stage, PreviousStage = prev, Reasons = [.. reasons], Score = touchIndex * 2,
                    TouchIndex = touchIndex, SessionId = session, SessionIndex = sessionIndex,
                },
            });
            if (prev != stage)
            {
                trs.Add(new StageTransition
                {
                    SiteId = site, VisitorId = visitor, JourneyId = journey, FromStage = prev, ToStage = stage, Reasons = [.. reasons],
                    EventId = ev, Ts = ts, TouchIndex = touchIndex, SessionId = session, Channel = channel,
                });
            }
        }
        Add("a1", "v-a", "a1", 1, At(3, 1, 10, 0), null, "awareness", "Organic Search", "/blog/what-is-crm", "www.google.com", "search", "Google", reasons: ["awareness.first-touch"]);
        Add("a2", "v-a", "a1", 1, At(3, 1, 10, 5), "awareness", "consideration", "Organic Search", "/compare", "www.acme.example", "internal", touchIndex: 2, journeyFirst: "a1", reasons: ["consideration.comparison"]);
        Add("a3", "v-a", "a3", 2, At(3, 2, 9, 0), "consideration", "decision", "Email", "/pricing", utmSource: "newsletter", utmMedium: "email", campaign: "nurture", touchIndex: 3, journeyFirst: "a1", reasons: ["decision.pricing-page", "consideration.nurture-email"]);
        Add("b1", "v-b", "b1", 1, At(3, 1, 12, 0), null, "awareness", "Direct", "/", country: "DE", device: "Mobile", reasons: ["awareness.first-touch"]);
        Add("b2", "v-b", "b1", 1, At(3, 1, 12, 10), "awareness", "awareness", "Direct", "/about", "www.acme.example", "internal", country: "DE", device: "Mobile", touchIndex: 2, journeyFirst: "b1");
        Add("c1", "v-c", "c1", 1, At(3, 2, 15, 0), null, "awareness", "Paid Search", "/lp/crm", "www.google.com", "search", "Google", "google", "cpc", "brand", "acme crm", reasons: ["awareness.first-touch"]);
        Add("c2", "v-c", "c1", 1, At(3, 2, 15, 2), "awareness", "consideration", "Paid Search", "/case-studies", "www.acme.example", "internal", utmSource: "google", utmMedium: "cpc", campaign: "brand", term: "acme crm", touchIndex: 2, journeyFirst: "c1", reasons: ["consideration.case-study"]);
        Add("c3", "v-c", "c3", 2, At(3, 3, 8, 0), "consideration", "consideration", "Direct", "/docs", touchIndex: 3, journeyFirst: "c1");
        Add("d1", "v-d", "d1", 1, At(2, 20, 11, 0), null, "awareness", "Direct", "/", reasons: ["awareness.first-touch"]);
        return (tps, trs);
    }

    public static async Task WriteAsync(AnalyticsWriter writer, string site = Site)
    {
        var (tps, trs) = Build(site);
        foreach (var t in tps)
        {
            await writer.AddAsync(t);
        }
        foreach (var t in trs)
        {
            await writer.AddAsync(t);
        }
        await writer.FlushAsync();
    }

    /// <summary>
    /// Writes <paramref name="items"/> (touchpoints and transitions, in order) and then a random share
    /// (<paramref name="replayShare"/>) of them again, flushing after each with probability <paramref name="flushChance"/>
    /// (so a session often spans several flushes), and once at the end.
    /// </summary>
    public static async Task WriteInRandomBatchesAsync(AnalyticsWriter writer, Random r, List<object> items, double replayShare, double flushChance)
    {
        var replay = items.Where(_ => r.NextDouble() < replayShare).ToList();
        foreach (var item in items.Concat(replay))
        {
            if (item is Touchpoint t)
            {
                await writer.AddAsync(t);
            }
            else
            {
                await writer.AddAsync((StageTransition)item);
            }
            if (r.NextDouble() < flushChance)
            {
                await writer.FlushAsync();
            }
        }
        await writer.FlushAsync();
    }

    public static AnalyticsRequest Request(AnalyticsFilters? filters = null, string site = Site) =>
        new(new AnalyticsRange(site, From, To, TimeZoneInfo.Utc), filters ?? AnalyticsFilters.None);
}

/// <summary>A temporary folder per test, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tt-analytics-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
