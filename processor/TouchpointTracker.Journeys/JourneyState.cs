using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>
/// What the processor remembers about one visitor of one site: the current journey, its counters, the
/// latest sessions (to place late events) and the hashes of recent event ids (to drop duplicates).
/// Small and serialisable (JourneysJsonContext), so it can live in memory (embedded mode) or in Redis.
/// </summary>
public sealed class JourneyState
{
    /// <summary>How many recent event ids are remembered (as 64-bit hashes) to drop duplicates delivered twice upstream.</summary>
    public const int DedupCapacity = 128;
    /// <summary>How many recent sessions are remembered to place late events in the session they belong to.</summary>
    public const int SessionHistory = 6;
    /// <summary>How many orders (order, deal or lead ids of conversions) are remembered to deduplicate and refund them.</summary>
    public const int OrderHistory = 20;
    /// <summary>How many stage changes of the journey are remembered (its stage history with times).</summary>
    public const int StageHistoryCapacity = 16;

    [JsonPropertyName("v")] public int Version { get; set; } = 1;
    [JsonPropertyName("journey_id")] public string JourneyId { get; set; } = "";
    /// <summary>
    /// A visitor's state only: the person this visitor was identified as. Its touches are then staged on the
    /// person's journey (<see cref="Identity.PersonState"/>); this state keeps the link and the last time seen.
    /// </summary>
    [JsonPropertyName("person")] public string? PersonId { get; set; }
    [JsonPropertyName("stage")] public string Stage { get; set; } = "";
    /// <summary>The furthest stage of the journey when it is beyond <see cref="Stage"/> (rules with forward_only: false); null otherwise.</summary>
    [JsonPropertyName("furthest")] public string? Furthest { get; set; }
    [JsonPropertyName("score")] public double Score { get; set; }
    [JsonPropertyName("touches")] public int Touches { get; set; }
    /// <summary>Sessions of the current journey.</summary>
    [JsonPropertyName("sessions")] public int Sessions { get; set; }
    [JsonPropertyName("pages")] public int Pages { get; set; }
    [JsonPropertyName("engaged_ms")] public long EngagedMs { get; set; }
    [JsonPropertyName("started")] public DateTimeOffset Started { get; set; }
    [JsonPropertyName("last_seen")] public DateTimeOffset LastSeen { get; set; }
    /// <summary>Events of the journey by name (only the names the rules count).</summary>
    [JsonPropertyName("counts")] public Dictionary<string, int>? EventCounts { get; set; }
    /// <summary>Rules and score bands limited to once per journey that already fired.</summary>
    [JsonPropertyName("fired")] public List<string>? FiredOnce { get; set; }
    /// <summary>The latest sessions, oldest first; the last one is the current session.</summary>
    [JsonPropertyName("recent_sessions")] public List<SessionState> RecentSessions { get; set; } = [];
    /// <summary>Hashes of the latest event ids, oldest first, bounded by <see cref="DedupCapacity"/>.</summary>
    [JsonPropertyName("recent_ids")]
    [JsonConverter(typeof(EventIdHashesConverter))]
    public List<ulong> RecentEventIds { get; set; } = [];

    /// <summary>
    /// The visitor's latest keyed conversions (order, deal or lead id), oldest first, at most <see cref="OrderHistory"/>:
    /// kept across journeys, so a resent order counts once and a refund finds what it takes back.
    /// </summary>
    [JsonPropertyName("orders")] public List<OrderMemory>? Orders { get; set; }
    /// <summary>The visitor's latest session landings, compact and bounded (<see cref="LandingLog"/>); kept across journeys.</summary>
    [JsonPropertyName("landings")] public LandingLog? Landings { get; set; }
    /// <summary>The journey's stage changes with their times, oldest first, at most <see cref="StageHistoryCapacity"/>.</summary>
    [JsonPropertyName("stage_history")] public List<StageEntry>? StageHistory { get; set; }

    /// <summary>
    /// Ends the journey: its id, stage, score, counters, sessions and stage history go; what outlives a journey
    /// (the dedup ids, the keyed conversions, the session landings, the person link) stays. Used when a journey
    /// expires and when a visitor's journey has been merged into its person's.
    /// </summary>
    public void ClearJourney()
    {
        JourneyId = "";
        Stage = "";
        Furthest = null;
        Score = 0;
        Touches = 0;
        Sessions = 0;
        Pages = 0;
        EngagedMs = 0;
        EventCounts = null;
        FiredOnce = null;
        RecentSessions = [];
        StageHistory = null;
    }

    public OrderMemory? FindOrder(ulong hash)
    {
        if (Orders is null)
        {
            return null;
        }
        foreach (var o in Orders)
        {
            if (o.Hash == hash)
            {
                return o;
            }
        }
        return null;
    }

    public void RememberOrder(OrderMemory order)
    {
        Orders ??= [];
        if (Orders.Count >= OrderHistory)
        {
            Orders.RemoveAt(0);
        }
        Orders.Add(order);
    }

    /// <summary>Records that the journey entered <paramref name="stage"/> at <paramref name="at"/> (the oldest entry but the first is dropped past the capacity).</summary>
    public void RecordStage(string stage, DateTimeOffset at)
    {
        StageHistory ??= [];
        if (StageHistory.Count >= StageHistoryCapacity)
        {
            StageHistory.RemoveAt(1);
        }
        StageHistory.Add(new StageEntry { Stage = stage, At = at });
    }

    [JsonIgnore] public SessionState? CurrentSession => RecentSessions.Count == 0 ? null : RecentSessions[^1];

    public bool HasSeen(string eventId) => RecentEventIds.Contains(EventIdHash(eventId));

    public void Remember(string eventId)
    {
        if (RecentEventIds.Count >= DedupCapacity)
        {
            RecentEventIds.RemoveAt(0);
        }
        RecentEventIds.Add(EventIdHash(eventId));
    }

    public int CountOf(string eventName) => EventCounts is not null && EventCounts.TryGetValue(eventName, out var n) ? n : 0;

    public bool HasFired(string id) => Fired(FiredOnce, id);

    public void MarkFired(string id) => (FiredOnce ??= []).Add(id);

    /// <summary>Whether <paramref name="list"/> holds <paramref name="id"/> (ordinal): a plain loop, as it runs for every rule on every touch.</summary>
    internal static bool Fired(List<string>? list, string id)
    {
        if (list is null)
        {
            return false;
        }
        foreach (var s in list)
        {
            if (ReferenceEquals(s, id) || string.Equals(s, id, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>FNV-1a, 64 bits: stable across processes and machines (unlike string.GetHashCode).</summary>
    public static ulong EventIdHash(string eventId)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in eventId)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>A keyed conversion remembered for deduplication and refunds.</summary>
public sealed class OrderMemory
{
    /// <summary>Hash of the kind and id (<c>order:A-1001</c>).</summary>
    [JsonPropertyName("k")] public ulong Hash { get; set; }
    /// <summary>The conversion id it produced.</summary>
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("v")] public double? Value { get; set; }
    [JsonPropertyName("c")] public string? Currency { get; set; }
    /// <summary>Amount refunded so far (positive).</summary>
    [JsonPropertyName("rf")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Refunded { get; set; }
    /// <summary>Refunded in full: a further refund of it is a duplicate.</summary>
    [JsonPropertyName("x")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Retracted { get; set; }
}

/// <summary>One entry of a journey's stage history.</summary>
public sealed class StageEntry
{
    [JsonPropertyName("s")] public string Stage { get; set; } = "";
    [JsonPropertyName("t")] public DateTimeOffset At { get; set; }
}

/// <summary>One server-side session: its time span, counters and what it landed with.</summary>
public sealed class SessionState
{
    /// <summary>Named after the event that opened it, so a replay names it the same.</summary>
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("index")] public int Index { get; set; }
    /// <summary>The tag's session id of the opening event.</summary>
    [JsonPropertyName("client_sid")] public string? ClientSessionId { get; set; }
    [JsonPropertyName("start")] public DateTimeOffset Start { get; set; }
    [JsonPropertyName("end")] public DateTimeOffset End { get; set; }
    /// <summary>When the previous session of the journey ended (recency), if there was one.</summary>
    [JsonPropertyName("prev_end")] public DateTimeOffset? PreviousEnd { get; set; }
    [JsonPropertyName("pages")] public int Pages { get; set; }
    [JsonPropertyName("engaged_ms")] public long EngagedMs { get; set; }
    [JsonPropertyName("channel")] public string Channel { get; set; } = "Unassigned";
    [JsonPropertyName("campaign")] public CampaignInfo? Campaign { get; set; }
    [JsonPropertyName("landing_url")] public string? LandingUrl { get; set; }
    [JsonPropertyName("landing_ref")] public string? LandingReferrer { get; set; }
    [JsonPropertyName("term")] public string? Term { get; set; }
    /// <summary>KeywordIntent flags of <see cref="Term"/>.</summary>
    [JsonPropertyName("intent")] public int Intent { get; set; }
    /// <summary>Rules limited to once per session that already fired in this session.</summary>
    [JsonPropertyName("fired")] public List<string>? FiredOnce { get; set; }
    /// <summary>The session's latest site-search terms, oldest first (at most <see cref="SiteSearchHistory"/>): a keyword source beside the search referrer's.</summary>
    [JsonPropertyName("site_terms")] public List<string>? SiteSearchTerms { get; set; }

    /// <summary>How many site-search terms a session keeps.</summary>
    public const int SiteSearchHistory = 5;

    public bool HasFired(string id) => JourneyState.Fired(FiredOnce, id);

    public void MarkFired(string id) => (FiredOnce ??= []).Add(id);

    public void RememberSiteSearch(string term)
    {
        SiteSearchTerms ??= [];
        if (SiteSearchTerms.Count > 0 && string.Equals(SiteSearchTerms[^1], term, StringComparison.OrdinalIgnoreCase))
        {
            return; // the same search again (a results page reloaded or paged)
        }
        if (SiteSearchTerms.Count >= SiteSearchHistory)
        {
            SiteSearchTerms.RemoveAt(0);
        }
        SiteSearchTerms.Add(term);
    }
}

/// <summary>Writes the id hashes as one base64 string (8 bytes each): 128 ids cost 1.4 KB, not 5 KB of UUIDs.</summary>
public sealed class EventIdHashesConverter : JsonConverter<List<ulong>>
{
    public override List<ulong> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return [];
        }
        var bytes = reader.GetBytesFromBase64();
        var list = new List<ulong>(Math.Max(bytes.Length / 8, 4));
        for (var i = 0; i + 8 <= bytes.Length; i += 8)
        {
            list.Add(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i, 8)));
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<ulong> value, JsonSerializerOptions options)
    {
        Span<byte> bytes = value.Count <= 256 ? stackalloc byte[value.Count * 8] : new byte[value.Count * 8];
        for (var i = 0; i < value.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.Slice(i * 8, 8), value[i]);
        }
        writer.WriteBase64StringValue(bytes);
    }
}
