using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Tests.Support;

/// <summary>
/// Builds enriched touchpoints as the collector would publish them, for one visitor:
/// <c>Touch.Page("/pricing").At(t).FromSearch("Google", "acme pricing").Build("v1")</c>.
/// </summary>
public sealed class Touch
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static long _ids;

    private readonly Touchpoint _tp = new()
    {
        SiteId = "acme",
        SessionId = "s1",
        Channel = "Direct",
        DerivedTs = T0,
        ReceivedTs = T0,
    };

    private Touch(string type, string? name, string? path)
    {
        _tp.Type = type;
        _tp.Name = name;
        _tp.Page = path is null ? new PageInfo() : new PageInfo { Url = "https://www.acme.example" + path, Host = "www.acme.example", Path = path };
    }

    public static Touch Page(string path) => new("pageview", null, path);

    /// <summary>An identify as the collector forwards it: the user id and the traits' e-mail/phone already hashed.</summary>
    public static Touch Identify(string userId, string? email = null, string? phone = null, string path = "/contact")
    {
        var t = new Touch("identify", null, path);
        var traits = new System.Text.Json.Nodes.JsonObject();
        if (email is not null)
        {
            traits["email_sha256"] = global::TouchpointTracker.Journeys.Identity.IdentityHashing.Email(email);
        }
        if (phone is not null)
        {
            traits["phone_sha256"] = global::TouchpointTracker.Journeys.Identity.IdentityHashing.Phone(phone);
        }
        var props = new List<(string, string)> { ("user_id_sha256", JsonSerializer.Serialize(global::TouchpointTracker.Journeys.Identity.IdentityHashing.UserId(userId))) };
        if (traits.Count > 0)
        {
            props.Add(("traits", traits.ToJsonString()));
        }
        return t.Props([.. props]);
    }

    /// <summary>An offline event as the collector forwards it (props already hashed); without a visitor, Build("~") gives the collector's placeholder.</summary>
    public static Touch Offline(string name, params (string Name, string Json)[] props)
    {
        var t = new Touch("offline", name, null);
        t._tp.SessionId = "";
        t._tp.Channel = "Offline";
        return t.Props(props);
    }

    public Touch Click(string gclid)
    {
        _tp.Campaign = new CampaignInfo { Source = "google", Medium = "cpc", ClickId = gclid, ClickPlatform = "google_ads" };
        _tp.Channel = "Paid Search";
        return this;
    }

    public static Touch Event(string name, string path = "/") => new("event", name, path);

    /// <summary>An offline event as the offline events API stages it: no page, channel Offline, its fields in props.</summary>
    public static Touch Offline(string type) => new Touch("offline", type, null).Channel("Offline");

    public static Touch Engagement(long engagedMs, string path = "/") =>
        new Touch("engagement", null, path).Props(("engaged_ms", engagedMs.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("scroll_pct", "80"));

    public Touch At(DateTimeOffset at)
    {
        _tp.DerivedTs = at;
        _tp.ClientTs = at;
        _tp.SentTs = at;
        _tp.ReceivedTs = at;
        return this;
    }

    public Touch Id(string eventId)
    {
        _tp.EventId = eventId;
        return this;
    }

    public Touch Session(string sessionId)
    {
        _tp.SessionId = sessionId;
        return this;
    }

    public Touch Site(string siteId)
    {
        _tp.SiteId = siteId;
        return this;
    }

    public Touch FromSearch(string engine, string? term, bool paid = false)
    {
        var host = "www." + engine.ToLowerInvariant() + ".com";
        _tp.Referrer = new ReferrerInfo { Url = $"https://{host}/", Host = host, Medium = "search", Source = engine, Term = term };
        _tp.Channel = paid ? "Paid Search" : "Organic Search";
        _tp.Landing = new LandingInfo { Url = _tp.Page.Url, Referrer = _tp.Referrer.Url };
        return this;
    }

    public Touch FromSite(string url, string medium, string channel, string? source = null)
    {
        _tp.Referrer = new ReferrerInfo { Url = url, Host = new Uri(url).Host, Medium = medium, Source = source };
        _tp.Channel = channel;
        _tp.Landing = new LandingInfo { Url = _tp.Page.Url, Referrer = url };
        return this;
    }

    public Touch Internal(string fromPath = "/")
    {
        _tp.Referrer = new ReferrerInfo { Url = "https://www.acme.example" + fromPath, Host = "www.acme.example", Medium = "internal" };
        return this;
    }

    public Touch Campaign(string source, string medium, string name, string? term = null, string channel = "Email")
    {
        _tp.Campaign = new CampaignInfo { Source = source, Medium = medium, Name = name, Term = term };
        _tp.Channel = channel;
        _tp.Page.Url += (_tp.Page.Url!.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"utm_source={source}&utm_medium={medium}&utm_campaign={name}";
        _tp.Page.Query = $"utm_source={source}&utm_medium={medium}&utm_campaign={name}";
        _tp.Landing = new LandingInfo { Url = _tp.Page.Url };
        return this;
    }

    public Touch Channel(string channel)
    {
        _tp.Channel = channel;
        return this;
    }

    public Touch Bot()
    {
        _tp.Device = new DeviceInfo { Browser = "Googlebot", Family = "Spider", IsBot = true };
        return this;
    }

    /// <summary>Custom properties, each value as JSON text ("12", "\"pdf\"").</summary>
    public Touch Props(params (string Name, string Json)[] props)
    {
        _tp.Props = props.ToDictionary(p => p.Name, p =>
        {
            using var doc = JsonDocument.Parse(p.Json);
            return doc.RootElement.Clone();
        });
        return this;
    }

    /// <summary>The touchpoint of <paramref name="visitor"/> (a new event id unless one was given).</summary>
    public Touchpoint Build(string visitor)
    {
        // A copy through JSON, as the processor reads it from Kafka.
        _tp.VisitorId = visitor;
        if (string.IsNullOrEmpty(_tp.EventId))
        {
            _tp.EventId = $"e-{Interlocked.Increment(ref _ids):D6}-{Guid.NewGuid():N}"[..24];
        }
        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(_tp, ContractsJsonContext.Default.Touchpoint), ContractsJsonContext.Default.Touchpoint)!;
    }
}
