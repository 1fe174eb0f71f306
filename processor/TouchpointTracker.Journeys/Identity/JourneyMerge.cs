namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// Joins two journeys of one person (a visitor's anonymous journey and the person's, or two devices') into one.
/// The state keeps counters and the latest sessions, not every touch, so the merge cannot replay the touches;
/// it computes what a replay in time order gives where the state allows, and approximates the rest:
/// <list type="bullet">
/// <item>exact: touches, pages, engaged time and event counts add up; start and last-seen are the earliest and
/// latest; sessions are interleaved in time order (the latest <see cref="JourneyState.SessionHistory"/> kept,
/// numbered on from the total); rules and bands already fired once stay fired (union);</item>
/// <item>stage: the furthest of the two (stages move forward only, so a replay reaches at least that far; a rule
/// that would have fired only on the combined counts fires on the next touch);</item>
/// <item>score: each side's score decayed to the later last-seen, added (exact for points; a score band crossed
/// only by the sum is reached on the next touch);</item>
/// <item>journey id: the one that started first (ties: the smaller id), so the merge is order-independent.</item>
/// <item>what outlives a journey is joined in every case: the session landings (in time order, under the same
/// bounds as a visitor's), the keyed conversions (by order, deal or lead id: a conversion of either side stays
/// deduplicated and refundable), and the stage history (in time order, the latest kept).</item>
/// </list>
/// Journeys further apart than the inactivity window are not one journey: the later one is kept whole, with the
/// landings and conversions of both.
/// <see cref="Merge"/> is commutative: merge(a, b) and merge(b, a) serialise the same.
/// </summary>
public static class JourneyMerge
{
    public static JourneyState Merge(JourneyState a, JourneyState b, StageEngine engine, JourneySettings settings)
    {
        if (b.Touches == 0 && b.RecentEventIds.Count == 0)
        {
            return WithMemoryOf(Copy(a), a, b, settings);
        }
        if (a.Touches == 0 && a.RecentEventIds.Count == 0)
        {
            return WithMemoryOf(Copy(b), a, b, settings);
        }
        var (first, second) = Earlier(a, b) ? (a, b) : (b, a);
        if (second.Started - first.LastSeen > settings.InactivityWindow)
        {
            return WithMemoryOf(Copy(second), a, b, settings); // the first journey had ended before the second started
        }
        var lastSeen = Max(a.LastSeen, b.LastSeen);
        var merged = new JourneyState
        {
            Version = Math.Max(a.Version, b.Version),
            JourneyId = first.JourneyId,
            Started = first.Started,
            LastSeen = lastSeen,
            Touches = a.Touches + b.Touches,
            Pages = a.Pages + b.Pages,
            EngagedMs = a.EngagedMs + b.EngagedMs,
            Score = Math.Round(engine.Decay(a.Score, lastSeen - a.LastSeen) + engine.Decay(b.Score, lastSeen - b.LastSeen), 4),
            EventCounts = MergeCounts(a.EventCounts, b.EventCounts),
            FiredOnce = Union(a.FiredOnce, b.FiredOnce),
            RecentEventIds = MergeIds(a.RecentEventIds, b.RecentEventIds),
        };
        var stage = Furthest(a.Stage, b.Stage);
        var furthest = Furthest(Furthest(a.Furthest ?? a.Stage, b.Furthest ?? b.Stage), stage);
        merged.Stage = stage;
        merged.Furthest = furthest == stage ? null : furthest;
        MergeSessions(merged, a, b);
        merged.StageHistory = MergeStageHistory(a.StageHistory, b.StageHistory);
        return WithMemoryOf(merged, a, b, settings);
    }

    /// <summary>The landings and keyed conversions of both sides, on <paramref name="merged"/>.</summary>
    private static JourneyState WithMemoryOf(JourneyState merged, JourneyState a, JourneyState b, JourneySettings settings)
    {
        if (a.Landings is { Count: > 0 } || b.Landings is { Count: > 0 })
        {
            var log = new LandingLog();
            var all = (a.Landings?.All() ?? []).Concat(b.Landings?.All() ?? [])
                .OrderBy(l => l.At).ThenBy(l => l.Channel, StringComparer.Ordinal).ThenBy(l => l.LandingPage, StringComparer.Ordinal);
            foreach (var landing in all)
            {
                log.Add(landing, settings.LandingHistory, settings.LandingBytes);
            }
            merged.Landings = log;
        }
        if (a.Orders is { Count: > 0 } || b.Orders is { Count: > 0 })
        {
            // One memory per order: the one that saw more of it (refunded further, or retracted) wins.
            var orders = (a.Orders ?? []).Concat(b.Orders ?? [])
                .GroupBy(o => o.Hash)
                .Select(g => g.OrderByDescending(o => o.Retracted).ThenByDescending(o => o.Refunded).ThenBy(o => o.Id, StringComparer.Ordinal).First())
                .OrderBy(o => o.Id, StringComparer.Ordinal)
                .ToList();
            merged.Orders = orders.Skip(Math.Max(0, orders.Count - JourneyState.OrderHistory))
                .Select(o => new OrderMemory { Hash = o.Hash, Id = o.Id, Value = o.Value, Currency = o.Currency, Refunded = o.Refunded, Retracted = o.Retracted })
                .ToList();
        }
        return merged;
    }

    private static List<StageEntry>? MergeStageHistory(List<StageEntry>? x, List<StageEntry>? y)
    {
        if (x is null && y is null)
        {
            return null;
        }
        var all = (x ?? []).Concat(y ?? []).OrderBy(e => e.At).ThenBy(e => Contracts.JourneyStages.Rank(e.Stage))
            .ThenBy(e => e.Stage, StringComparer.Ordinal).ToList();
        // Stages move forward: an entry that does not go further than the one before it says nothing new.
        var kept = new List<StageEntry>(all.Count);
        foreach (var e in all)
        {
            if (kept.Count == 0 || Contracts.JourneyStages.Rank(e.Stage) > Contracts.JourneyStages.Rank(kept[^1].Stage))
            {
                kept.Add(new StageEntry { Stage = e.Stage, At = e.At });
            }
        }
        return kept.Skip(Math.Max(0, kept.Count - JourneyState.StageHistoryCapacity)).ToList();
    }

    private static bool Earlier(JourneyState a, JourneyState b) =>
        a.Started != b.Started ? a.Started < b.Started : string.CompareOrdinal(a.JourneyId, b.JourneyId) <= 0;

    private static DateTimeOffset Max(DateTimeOffset x, DateTimeOffset y) => x >= y ? x : y;

    private static string Furthest(string x, string y)
    {
        var rx = Contracts.JourneyStages.Rank(x);
        var ry = Contracts.JourneyStages.Rank(y);
        return rx != ry ? (rx > ry ? x : y) : string.CompareOrdinal(x, y) <= 0 ? x : y;
    }

    private static Dictionary<string, int>? MergeCounts(Dictionary<string, int>? x, Dictionary<string, int>? y)
    {
        if (x is null && y is null)
        {
            return null;
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in (x ?? []).Concat(y ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            counts[k] = counts.GetValueOrDefault(k) + v;
        }
        return counts;
    }

    private static List<string>? Union(List<string>? x, List<string>? y) =>
        x is null && y is null ? null : [.. (x ?? []).Concat(y ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>All ids when they fit, else the latest half of each side's; sorted, so the order of the arguments does not matter.</summary>
    private static List<ulong> MergeIds(List<ulong> x, List<ulong> y)
    {
        var all = x.Concat(y).Distinct().ToList();
        if (all.Count > JourneyState.DedupCapacity)
        {
            var half = JourneyState.DedupCapacity / 2;
            all = x.Skip(Math.Max(0, x.Count - half)).Concat(y.Skip(Math.Max(0, y.Count - half))).Distinct().ToList();
        }
        all.Sort();
        return all;
    }

    private static void MergeSessions(JourneyState merged, JourneyState a, JourneyState b)
    {
        var sessions = a.RecentSessions.Concat(b.RecentSessions).Select(Copy)
            .OrderBy(s => s.Start).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
        merged.Sessions = a.Sessions + b.Sessions;
        for (var i = 1; i < sessions.Count; i++)
        {
            sessions[i].PreviousEnd = sessions[i - 1].End;
        }
        var keep = sessions.Skip(Math.Max(0, sessions.Count - JourneyState.SessionHistory)).ToList();
        for (var i = 0; i < keep.Count; i++)
        {
            keep[i].Index = merged.Sessions - keep.Count + i + 1;
        }
        merged.RecentSessions = keep;
    }

    private static JourneyState Copy(JourneyState s) => JourneyStateCodec.Clone(s);

    private static SessionState Copy(SessionState s) => new()
    {
        Id = s.Id,
        Index = s.Index,
        ClientSessionId = s.ClientSessionId,
        Start = s.Start,
        End = s.End,
        PreviousEnd = s.PreviousEnd,
        Pages = s.Pages,
        EngagedMs = s.EngagedMs,
        Channel = s.Channel,
        Campaign = s.Campaign,
        LandingUrl = s.LandingUrl,
        LandingReferrer = s.LandingReferrer,
        Term = s.Term,
        Intent = s.Intent,
        FiredOnce = s.FiredOnce is null ? null : [.. s.FiredOnce],
        SiteSearchTerms = s.SiteSearchTerms is null ? null : [.. s.SiteSearchTerms],
    };
}
