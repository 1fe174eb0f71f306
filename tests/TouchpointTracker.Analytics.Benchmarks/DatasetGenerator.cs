using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Analytics.Benchmarks;

/// <summary>
/// A synthetic but plausible site: visitors arrive over <c>days</c> days through a GA4-like channel mix (search,
/// direct, paid search with campaigns and keywords, social, email nurture, referral, display), come back in later
/// sessions (often through another channel), read blog posts, product pages, comparisons, then pricing, demo and
/// checkout; a share of them move awareness -> consideration -> decision. Touchpoints come out in session start
/// order, each session's touches together, as the processor would stage them; stage transitions alongside.
/// Deterministic for a seed.
/// </summary>
internal sealed class DatasetGenerator(long touchpoints, int visitors, int days, int seed = 42, int campaigns = 40)
{
    private static readonly (string Channel, double Weight, string? Source, string? Medium, string? RefHost, string? RefMedium)[] Channels =
    [
        ("Organic Search", 0.33, null, null, "www.google.com", "search"),
        ("Direct", 0.20, null, null, null, null),
        ("Paid Search", 0.15, "google", "cpc", "www.google.com", "search"),
        ("Organic Social", 0.08, null, null, "www.linkedin.com", "social"),
        ("Email", 0.08, "newsletter", "email", null, null),
        ("Referral", 0.07, null, null, "www.g2.com", "referral"),
        ("Paid Social", 0.06, "facebook", "paid_social", "www.facebook.com", "social"),
        ("Display", 0.03, "dv360", "display", null, null),
    ];

    private static readonly string[] SearchEngines = ["www.google.com", "www.bing.com", "duckduckgo.com", "www.ecosia.org", "search.yahoo.com"];
    private static readonly string[] SocialHosts = ["www.linkedin.com", "t.co", "www.facebook.com", "www.reddit.com", "www.youtube.com"];
    private static readonly string[] ReferralHosts = ["www.g2.com", "www.capterra.com", "news.ycombinator.com", "medium.com", "dev.to", "www.producthunt.com", "github.com", "stackoverflow.com"];
    private static readonly string[] Countries = ["US", "US", "US", "FR", "FR", "GB", "DE", "DE", "CA", "ES", "IT", "NL", "BE", "CH", "IN", "BR", "JP", "AU", "SE", "PL"];
    private static readonly (string Family, string Browser, string Os)[] Devices =
    [
        ("Desktop", "Chrome", "Windows"), ("Desktop", "Chrome", "Mac OS X"), ("Desktop", "Firefox", "Windows"), ("Desktop", "Edge", "Windows"),
        ("Desktop", "Safari", "Mac OS X"), ("Desktop", "Firefox", "Linux"), ("Mobile", "Chrome Mobile", "Android"), ("Mobile", "Mobile Safari", "iOS"),
        ("Mobile", "Chrome Mobile", "Android"), ("Mobile", "Mobile Safari", "iOS"), ("Tablet", "Mobile Safari", "iOS"), ("Mobile", "Samsung Internet", "Android"),
    ];

    private static readonly string[] Words =
        ["crm", "pipeline", "lead", "scoring", "attribution", "analytics", "marketing", "automation", "funnel", "journey", "b2b", "saas", "roi", "dashboard",
         "email", "campaign", "tracking", "conversion", "sales", "startup", "small business", "enterprise", "api", "integration", "logiciel", "suivi"];

    // Paid campaigns, the first ones most used (Skewed); --campaigns sets how many (40 by default, thousands for the
    // attribution-by-campaign scale run).
    private readonly string[] _campaigns = [.. Enumerable.Range(0, Math.Max(40, campaigns)).Select(i =>
        $"{(i % 4) switch { 0 => "brand", 1 => "competitor", 2 => "generic", _ => "retargeting" }}-{Words[i % Words.Length]}-{(i < 40 ? 2026 - i / 20 : i)}")];
    private readonly string[] _nurture = [.. Enumerable.Range(1, 24).Select(i => $"nurture-{i}")];
    private readonly string[] _contents = ["ad-a", "ad-b", "ad-c", "banner-300x250", "video-15s", "cta-top", "cta-footer"];
    private readonly string[] _terms = BuildTerms();
    private readonly string[] _blog = [.. Enumerable.Range(0, 150).Select(i => $"/blog/{Words[i % Words.Length]}-{(i / Words.Length) switch { 0 => "guide", 1 => "what-is", 2 => "how-to", 3 => "checklist", 4 => "template", _ => "examples" }}")];
    private readonly string[] _product = ["/", "/features", "/features/attribution", "/features/journeys", "/features/dashboards", "/integrations", "/customers", "/case-studies", "/case-studies/acme", "/docs", "/docs/quick-start", "/about"];
    private readonly string[] _compare = ["/compare/hubspot", "/compare/ruler", "/compare/matomo", "/alternatives", "/webinars/attribution-101", "/templates/roi"];
    private readonly string[] _decision = ["/pricing", "/demo", "/contact", "/trial", "/checkout", "/pricing/enterprise"];

    private static string[] BuildTerms()
    {
        var r = new Random(7);
        var modifiers = new[] { "", "best ", "free ", "what is ", "how to ", "", "", "top ", "cheap ", "alternative ", "pricing ", "vs " };
        return [.. Enumerable.Range(0, 400).Select(_ => (modifiers[r.Next(modifiers.Length)] + Words[r.Next(Words.Length)] + " " + Words[r.Next(Words.Length)]).Trim()).Distinct()];
    }

    private readonly record struct Session(long StartTicks, int Visitor, int Touches, byte Channel, byte TargetRank);

    /// <summary>A conversion: half of the visitors who enter decision buy (a purchase with a value; 3% of those refunded five
    /// days later, a retracting row), the other half leave a lead (no value).</summary>
    public readonly record struct GeneratedConversion(string ConversionId, string Type, DateTime Ts, string VisitorId, string JourneyId, double? Value, bool Retracted);

    public long TotalTouchpoints { get; private set; }

    /// <summary>The stream, in session start order. <paramref name="onTransition"/> gets each stage change.</summary>
    public IEnumerable<Touchpoint> Generate(Action<StageTransition> onTransition, DateTime start, Action<GeneratedConversion>? onConversion = null)
    {
        var r = new Random(seed);
        var cr = new Random(seed + 1); // conversions draw from their own stream, so the touchpoints stay as they were
        var perVisitor = (double)touchpoints / visitors;
        // Sessions: each visitor gets a number of touches (geometric-ish around the mean), split into sessions of 1-8 touches.
        var sessions = new List<Session>((int)(touchpoints / 3.2) + 1000);
        long planned = 0;
        var span = TimeSpan.FromDays(days).Ticks;
        var device = new byte[visitors];
        var country = new byte[visitors];
        for (var v = 0; v < visitors && planned < touchpoints; v++)
        {
            var n = Math.Max(1, (int)Math.Round(-Math.Log(1 - r.NextDouble()) * perVisitor));
            if (v == visitors - 1 || planned + n > touchpoints)
            {
                n = (int)Math.Max(1, touchpoints - planned);
            }
            planned += n;
            device[v] = (byte)r.Next(Devices.Length);
            country[v] = (byte)r.Next(Countries.Length);
            // how far this visitor will get: 60% stay in awareness, 28% reach consideration, 12% decision (if they come back enough)
            var p = r.NextDouble();
            byte target = p < 0.12 ? (byte)3 : p < 0.40 ? (byte)2 : (byte)1;
            var first = (long)(r.NextDouble() * span * 0.95);
            var t = first;
            while (n > 0)
            {
                var k = Math.Min(n, 1 + (int)(-Math.Log(1 - r.NextDouble()) * 2.2));
                sessions.Add(new Session(t, v, k, PickChannel(r), target));
                n -= k;
                t += (long)(-Math.Log(1 - r.NextDouble()) * TimeSpan.FromDays(4).Ticks) + TimeSpan.FromHours(1).Ticks;
                if (t >= span)
                {
                    t = span - TimeSpan.FromMinutes(r.Next(1, 600)).Ticks;
                }
            }
        }
        sessions.Sort((a, b) => a.StartTicks.CompareTo(b.StartTicks));
        TotalTouchpoints = planned;

        var rank = new byte[visitors];
        var touchIndex = new int[visitors];
        var sessionIndex = new short[visitors];
        var journeyFirst = new Guid[visitors];
        var visitorIds = new string[visitors];
        var score = new float[visitors];
        var bytes = new byte[16];
        Guid NewGuid()
        {
            r.NextBytes(bytes);
            bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
            return new Guid(bytes);
        }
        string Stage(int k) => k switch { 1 => JourneyStages.Awareness, 2 => JourneyStages.Consideration, _ => JourneyStages.Decision };

        foreach (var s in sessions)
        {
            var v = s.Visitor;
            visitorIds[v] ??= NewGuid().ToString();
            var ch = Channels[s.Channel];
            var sessionId = "";
            var ts = start.AddTicks(s.StartTicks);
            string? campaign = null, term = null, content = null, refHost = ch.RefHost, utmSource = ch.Source, utmMedium = ch.Medium;
            string? clickPlatform = null;
            switch (ch.Channel)
            {
                case "Organic Search":
                    refHost = SearchEngines[Skewed(r, SearchEngines.Length)];
                    term = r.NextDouble() < 0.08 ? _terms[Skewed(r, _terms.Length)] : null; // modern engines rarely pass the query
                    break;
                case "Paid Search":
                    campaign = _campaigns[Skewed(r, _campaigns.Length)];
                    term = _terms[Skewed(r, _terms.Length)];
                    content = _contents[r.Next(3)];
                    clickPlatform = r.NextDouble() < 0.85 ? "google_ads" : "microsoft_ads";
                    break;
                case "Organic Social":
                    refHost = SocialHosts[Skewed(r, SocialHosts.Length)];
                    break;
                case "Email":
                    campaign = _nurture[Skewed(r, _nurture.Length)];
                    content = _contents[5 + r.Next(2)];
                    break;
                case "Referral":
                    refHost = ReferralHosts[Skewed(r, ReferralHosts.Length)];
                    break;
                case "Paid Social":
                    campaign = _campaigns[Skewed(r, _campaigns.Length)];
                    content = _contents[r.Next(_contents.Length)];
                    clickPlatform = "meta";
                    break;
                case "Display":
                    campaign = _campaigns[3 + 4 * r.Next(10)];
                    content = _contents[3 + r.Next(2)];
                    break;
            }
            sessionIndex[v]++;
            for (var i = 0; i < s.Touches; i++)
            {
                var ev = NewGuid().ToString();
                if (i == 0)
                {
                    sessionId = ev;
                }
                if (touchIndex[v] == 0)
                {
                    journeyFirst[v] = Guid.Parse(ev);
                }
                touchIndex[v]++;
                var before = rank[v];
                // move up: awareness on the first touch; later sessions and deeper pages move the visitor toward its target
                var next = before == 0 ? (byte)1 : before;
                if (before > 0 && before < s.TargetRank && (sessionIndex[v] > 1 || i > 0) && r.NextDouble() < 0.35)
                {
                    next = (byte)(before + 1);
                }
                rank[v] = next;
                var page = next switch
                {
                    1 => i == 0 && r.NextDouble() < 0.3 ? _product[Skewed(r, _product.Length)] : _blog[Skewed(r, _blog.Length)],
                    2 => r.NextDouble() < 0.5 ? _compare[r.Next(_compare.Length)] : _product[Skewed(r, _product.Length)],
                    _ => _decision[Skewed(r, _decision.Length)],
                };
                var reasons = new List<string>();
                if (next != before)
                {
                    reasons.Add(next switch { 1 => "awareness.first-touch", 2 => page.StartsWith("/compare", StringComparison.Ordinal) ? "consideration.comparison" : "consideration.returning-visitor", _ => page == "/pricing" ? "decision.pricing-page" : "decision.demo-request" });
                    score[v] += next * 5;
                }
                else if (r.NextDouble() < 0.2)
                {
                    reasons.Add("score.page");
                    score[v] += 1;
                }
                var landingUrl = "https://www.acme.example" + (i == 0 ? page : "/");
                var tsTouch = ts.AddSeconds(i * (20 + r.Next(240)));
                var tp = new Touchpoint
                {
                    Schema = Touchpoint.StagedSchema,
                    EventId = ev,
                    SiteId = "acme",
                    VisitorId = visitorIds[v],
                    SessionId = sessionId,
                    Type = i > 0 && r.NextDouble() < 0.1 ? "event" : "pageview",
                    DerivedTs = new DateTimeOffset(tsTouch, TimeSpan.Zero),
                    ReceivedTs = new DateTimeOffset(tsTouch, TimeSpan.Zero),
                    Page = new PageInfo { Host = "www.acme.example", Path = page },
                    Referrer = i == 0
                        ? new ReferrerInfo { Host = refHost, Medium = ch.RefMedium, Source = refHost is null ? null : refHost.Split('.')[^2], Term = ch.Channel == "Organic Search" ? term : null }
                        : new ReferrerInfo { Host = "www.acme.example", Medium = "internal" },
                    Landing = new LandingInfo { Url = landingUrl, Referrer = refHost is null ? null : "https://" + refHost + "/" },
                    Campaign = new CampaignInfo
                    {
                        Source = utmSource, Medium = utmMedium, Name = campaign, Term = ch.Channel == "Paid Search" ? term : null, Content = content,
                        ClickPlatform = clickPlatform,
                    },
                    Channel = ch.Channel,
                    Device = new DeviceInfo { Family = Devices[device[v]].Family, Browser = Devices[device[v]].Browser, Os = Devices[device[v]].Os },
                    Geo = new GeoInfo { Country = Countries[country[v]] },
                    Journey = new JourneyInfo
                    {
                        Id = visitorIds[v] + ":" + journeyFirst[v],
                        Stage = Stage(next),
                        PreviousStage = before == 0 ? null : Stage(before),
                        Reasons = reasons,
                        Score = score[v],
                        TouchIndex = touchIndex[v],
                        SessionId = sessionId,
                        SessionIndex = sessionIndex[v],
                    },
                };
                if (next == 3 && before == 2 && onConversion is not null)
                {
                    var at = tsTouch.AddSeconds(30 + cr.Next(600));
                    var id = "cv-" + ev;
                    if (cr.NextDouble() < 0.5)
                    {
                        var value = Math.Round(49 + cr.NextDouble() * cr.NextDouble() * 1950, 2);
                        onConversion(new GeneratedConversion(id, "purchase", at, visitorIds[v], tp.Journey.Id, value, false));
                        if (cr.NextDouble() < 0.03)
                        {
                            onConversion(new GeneratedConversion(id, "purchase", at.AddDays(5), visitorIds[v], tp.Journey.Id, -value, true));
                        }
                    }
                    else
                    {
                        onConversion(new GeneratedConversion(id, "lead", at, visitorIds[v], tp.Journey.Id, null, false));
                    }
                }
                if (next != before)
                {
                    onTransition(new StageTransition
                    {
                        SiteId = tp.SiteId, VisitorId = tp.VisitorId, JourneyId = tp.Journey.Id, FromStage = tp.Journey.PreviousStage,
                        ToStage = tp.Journey.Stage, Reasons = reasons, EventId = ev, Ts = tp.DerivedTs, Score = score[v],
                        TouchIndex = touchIndex[v], SessionId = sessionId, Channel = ch.Channel,
                    });
                }
                yield return tp;
            }
        }
    }

    /// <summary>Zipf-like pick: low indexes much more often.</summary>
    private static int Skewed(Random r, int n) => Math.Min(n - 1, (int)(n * Math.Pow(r.NextDouble(), 2.5)));

    private static byte PickChannel(Random r)
    {
        var x = r.NextDouble();
        for (var i = 0; i < Channels.Length; i++)
        {
            x -= Channels[i].Weight;
            if (x <= 0)
            {
                return (byte)i;
            }
        }
        return 0;
    }
}
