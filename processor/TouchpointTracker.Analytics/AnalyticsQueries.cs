using System.Data.Common;
using System.Text;
using DuckDB.NET.Data;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The read side: parameterised SQL over the store. Values from the caller travel only as parameters; the
/// SQL text is assembled from constant fragments (one per filter present, one whitelisted dimension column).
/// Aggregate views read the <c>sessions</c> roll-up (one row per session per writer batch, about a third of
/// the touchpoints) with 64-bit visitor keys, so distinct counts stay cheap; journeys and realtime read
/// <c>touchpoints</c>. Each call opens its own read connection.
/// </summary>
public sealed class AnalyticsQueries(AnalyticsStore store, TouchpointTracker.Journeys.Conversions.ReportingCurrencies? currencies = null)
{
    private readonly TouchpointTracker.Journeys.Conversions.ReportingCurrencies _currencies = currencies ?? TouchpointTracker.Journeys.Conversions.ReportingCurrencies.Default;

    /// <summary>A touchpoint's event id as it was sent, over a <c>touchpoints t</c>: the text column, or the text form of the
    /// 16-byte column that holds canonical UUIDs (schema step 7, one of the two is set).</summary>
    private const string TouchpointEventId = "coalesce(t.event_id, t.event_uuid::VARCHAR)";

    /// <summary>The site's reporting currency (configuration <c>Conversions</c>).</summary>
    public string ReportingCurrencyOf(string site) => _currencies.CurrencyOf(site);

    private static readonly string[] Stages = [.. AnalyticsVocabulary.Stages];

    /// <summary>When set, the aggregate views record the time of each of their steps here (the benchmark prints them).</summary>
    internal QueryPhases? Phases { get; set; }

    /// <summary>A site's time zone from the options (UTC when not configured).</summary>
    public TimeZoneInfo TimeZoneOf(string site) => store.Options.TimeZoneOf(site);

    public OverviewResult Overview(AnalyticsRequest request)
    {
        // per day, then the whole range (visitors are distinct over the range, not a sum of days): one read of the rows,
        // counted per day and in total by DistinctVisitors
        var q = new Sql();
        var where = q.RollupWhere(request);
        q.Text.Append($"SELECT {DistinctVisitors.ColumnsSql("day", withSums: true)} FROM visitor_days WHERE {where}");
        var firstDay = request.Range.From.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        Dictionary<uint, VisitorTally> perDay;
        VisitorTally tally;
        using (var rows = new DistinctVisitors.Rows())
        {
            q.ReadChunks(store, r => rows.Read(r, grouped: true, firstDay), Phases, "rows");
            using (Phases?.Time("count"))
            {
                perDay = DistinctVisitors.Count(rows, out tally);
            }
        }
        var byDay = perDay.ToDictionary(p => request.Range.From.AddDays((int)p.Key), p => Day(request.Range.From.AddDays((int)p.Key), p.Value));
        var total = Day(default, tally);
        var range = request.Range;
        var days = new List<OverviewDay>();
        for (var d = range.From; d <= range.To; d = d.AddDays(1))
        {
            days.Add(byDay.GetValueOrDefault(d) ?? new OverviewDay(d, 0, 0, 0, StageMap(null, 0), StageMap(null, 0)));
        }
        var (conversions, revenue) = ConversionTotals(request.Range);
        return new OverviewResult(range.Site, range.From, range.To, range.Zone.Id, total.Visitors, total.Sessions, total.Touchpoints,
            total.Reached, total.Entered, days)
        {
            Conversions = conversions,
            Revenue = revenue,
            ReportingCurrency = ReportingCurrencyOf(range.Site),
        };
    }

    /// <summary>Conversions (not refunds, not retracted) and net revenue in the range.</summary>
    private (long Conversions, double Revenue) ConversionTotals(AnalyticsRange range)
    {
        var q = new Sql();
        q.Param("site", range.Site);
        q.Param("from_utc", range.FromUtc);
        q.Param("to_utc", range.ToUtcExclusive);
        q.Text.Append("""
            SELECT count(*) FILTER (type <> 'refund' AND NOT retracted), coalesce(sum(reporting_value), 0)
            FROM conversions WHERE site = $site AND ts >= $from_utc AND ts < $to_utc
            """);
        (long, double) result = default;
        q.Read(store, r => result = (Long(r, 0), r.IsDBNull(1) ? 0 : Convert.ToDouble(r.GetValue(1))));
        return result;
    }

    /// <summary>
    /// Conversions in the range, optionally of one type: totals by type, and the latest <paramref name="limit"/> rows
    /// with the visitor and the traffic source of the touch that produced each.
    /// </summary>
    public ConversionsResult Conversions(AnalyticsRange range, string? type, int limit = 100)
    {
        var byType = new List<ConversionTypeTotal>();
        {
            var q = new Sql();
            q.Param("site", range.Site);
            q.Param("from_utc", range.FromUtc);
            q.Param("to_utc", range.ToUtcExclusive);
            q.Text.Append("""
                SELECT type, count(*) FILTER (NOT retracted), count(*) FILTER (retracted), coalesce(sum(reporting_value), 0),
                       count(*) FILTER (value IS NOT NULL AND reporting_value IS NULL)
                FROM conversions WHERE site = $site AND ts >= $from_utc AND ts < $to_utc
                """);
            if (type is not null)
            {
                q.Param("type", type);
                q.Text.Append(" AND type = $type");
            }
            q.Text.Append(" GROUP BY type ORDER BY type");
            q.Read(store, r => byType.Add(new ConversionTypeTotal(r.GetString(0), Long(r, 1), Long(r, 2), Convert.ToDouble(r.GetValue(3)), Long(r, 4))));
        }
        var items = new List<ConversionItem>();
        {
            var q = new Sql();
            q.Param("site", range.Site);
            q.Param("from_utc", range.FromUtc);
            q.Param("to_utc", range.ToUtcExclusive);
            q.Param("limit", limit);
            q.Text.Append("""
                WITH c AS (SELECT * FROM conversions WHERE site = $site AND ts >= $from_utc AND ts < $to_utc
                """);
            if (type is not null)
            {
                q.Param("type", type);
                q.Text.Append(" AND type = $type");
            }
            q.Text.Append($"""
                 ORDER BY ts DESC, conversion_id LIMIT $limit)
                SELECT c.conversion_id, c.ts, c.type, c.goal, v.visitor, c.event_id, c.order_id, c.value, c.currency, c.reporting_value, c.retracted,
                       t.channel, t.source, t.medium
                FROM c LEFT JOIN visitors v ON v.site = c.site AND v.vkey = c.vkey
                LEFT JOIN touchpoints t ON t.site = c.site AND {TouchpointEventId} = c.event_id AND t.ts = c.ts
                ORDER BY c.ts DESC, c.conversion_id
                """);
            q.Read(store, r => items.Add(new ConversionItem(r.GetString(0), r.GetDateTime(1), r.GetString(2), Str(r, 3), Str(r, 4), r.GetString(5),
                Str(r, 6), NullableDouble(r, 7), Str(r, 8), NullableDouble(r, 9), r.GetBoolean(10), Str(r, 11), Str(r, 12), Str(r, 13))));
        }
        var refunds = byType.Where(t => t.Type == "refund").ToList();
        return new ConversionsResult(range.Site, range.From, range.To, type, ReportingCurrencyOf(range.Site),
            byType.Where(t => t.Type != "refund").Sum(t => t.Conversions),
            Math.Round(byType.Sum(t => t.Value), 6),
            refunds.Sum(t => t.Conversions + t.Retracted),
            Math.Round(-refunds.Sum(t => t.Value), 6),
            byType.Sum(t => t.UnknownCurrency),
            byType, items);
    }

    /// <summary>Visitors, sessions and touchpoints per value of <paramref name="by"/>, with the visitors whose sessions of
    /// that value reached each stage, and the stage-to-stage conversion rates.</summary>
    public BreakdownResult Breakdown(AnalyticsRequest request, string by, int limit = 100)
    {
        var rows = new List<BreakdownRow>();
        foreach (var (value, t) in DimensionTallies(request, by, limit))
        {
            var reached = StageMap(t.Reached);
            rows.Add(new BreakdownRow(value, t.Visitors, t.Sessions, t.Touches, reached, Conversion(reached)));
        }
        return new BreakdownResult(request.Range.Site, request.Range.From, request.Range.To, by, rows);
    }

    /// <summary>
    /// Visitors entering each stage: a visitor counts in every stage up to the highest their sessions in the range
    /// reached, so the counts never grow down the funnel. Times between stages come from the first entries per stage of
    /// those visitors' journeys (the journey_entries roll-up of the stage transitions, <see cref="JourneyEntries"/>): for
    /// each stage, the time from the journey's previous stage to its first entry. A
    /// corrected transition (a late touch moved a stage back in time) is one more entry of its stage, so the first
    /// entry is the corrected time; an entry of a lower stage later than a higher stage's first entry is superseded
    /// (the journey was already further) and left out.
    /// </summary>
    public FunnelResult Funnel(AnalyticsRequest request, string? by = null, int limit = 20)
    {
        // One read of the cohort's rows gives the counts (per value of `by` and overall) and the cohort itself.
        var rowsQuery = new Sql();
        var where = rowsQuery.RollupWhere(request);
        // the funnel needs no session or touch sums
        var column = by is null ? null : VisitorDays.IdColumn(Column(by));
        var notSet = by is null ? null : NotSetId(by);
        rowsQuery.Text.Append($"SELECT {DistinctVisitors.ColumnsSql(column, withSums: false)} FROM visitor_days WHERE {where}");
        using var rows = new DistinctVisitors.Rows(withSums: false);
        var journeys = new FunnelTimes();
        // The cohort's rows and the site's journey_entries rows are read side by side (two read connections: DuckDB's
        // scans and the copying share the two cores), the journeys folded as they come; then the counts (on every core)
        // and the times of the cohort's journeys.
        Parallel.Invoke(
            () => rowsQuery.ReadChunks(store, r => rows.Read(r, grouped: column is not null, foldedToZero: notSet), Phases, "rows"),
            () => ReadJourneys(store, request, journeys, Phases));
        var members = Members(rows);
        Dictionary<uint, VisitorTally> perGroup = [];
        VisitorTally overall = new();
        Dictionary<int, (long N, double? Median, double? P75)> times = [];
        Parallel.Invoke(
            () =>
            {
                using (Phases?.Time("count"))
                {
                    perGroup = DistinctVisitors.Count(rows, out overall);
                }
            },
            () =>
            {
                using (Phases?.Time("journey times"))
                {
                    times = journeys.Compute(vid => vid < (uint)members.Length && members[(int)vid]);
                }
            });
        var groups = by is null ? [] : Labelled(by, perGroup, limit, byReached: true).Select(g => (g.Value, Counts: g.Tally.Reached)).ToList();
        List<FunnelStage> Build(long[] counts, bool withTimes)
        {
            var list = new List<FunnelStage>();
            for (var i = 0; i < Stages.Length; i++)
            {
                var prev = i == 0 ? (long?)null : counts[i - 1];
                var t = withTimes && i > 0 ? times.GetValueOrDefault(i + 1) : default;
                list.Add(new FunnelStage(Stages[i], counts[i],
                    prev is null ? null : prev == 0 ? null : (double)counts[i] / prev.Value,
                    i + 1 < counts.Length ? counts[i] - counts[i + 1] : 0,
                    i + 1 < counts.Length && counts[i] > 0 ? (double)(counts[i] - counts[i + 1]) / counts[i] : null,
                    t.N, t.Median, t.P75));
            }
            return list;
        }
        return new FunnelResult(request.Range.Site, request.Range.From, request.Range.To, by, Build(overall.Reached, true),
            by is null ? null : [.. groups.Select(g => new FunnelGroup(g.Value, Build(g.Counts, false)))]);
    }

    /// <summary>The visitor numbers of the cohort's rows: [vid] is true for a member.</summary>
    private static bool[] Members(DistinctVisitors.Rows cohort)
    {
        var members = new bool[cohort.Count == 0 ? 0 : (long)cohort.MaxVid + 1];
        var keys = cohort.Keys;
        for (var i = 0; i < cohort.Count; i++)
        {
            members[(uint)(keys[i] >> 8)] = true;
        }
        return members;
    }

    /// <summary>
    /// Folds into <paramref name="times"/> the site's <c>journey_entries</c> rows that can time a stage: at least two stages
    /// entered before the end of the range (a journey with one entry has no time between stages; a journey belongs to one
    /// visitor, so its rows all carry that visitor's number). Entries at or after the end of the range are left out, as the
    /// transitions after it were. For a filtered request only the cohort's visitors' rows are read.
    /// </summary>
    private static void ReadJourneys(AnalyticsStore store, AnalyticsRequest request, FunnelTimes times, QueryPhases? phases)
    {
        const int ranks = 5;
        const long none = long.MinValue;
        var q = new Sql();
        q.Param("site", request.Range.Site);
        q.Param("to_utc", request.Range.ToUtcExclusive);
        var toUtc = (request.Range.ToUtcExclusive.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        // DuckDB keeps the rows with two entries or more, one of them before the end (cheap tests: comparing and counting
        // every entry in SQL cost it more than the rest of the query); the exact rule, two entries before the end, is
        // applied below as the chunks are read
        var entries = Enumerable.Range(1, ranks).Select(r => $"e{r}").ToList();
        q.Text.Append($"""
            SELECT vid, jkey, {string.Join(", ", entries)} FROM journey_entries
            WHERE site = $site AND {string.Join(" + ", entries.Select(e => $"({e} IS NOT NULL)::INTEGER"))} >= 2
              AND least({string.Join(", ", entries)}) < $to_utc
            """);
        if (request.Filters != AnalyticsFilters.None)
        {
            // a filtered cohort is small: DuckDB keeps only its visitors' journeys instead of handing over the site's
            q.Text.Append($" AND vid IN (SELECT vid FROM visitor_days WHERE {q.RollupWhere(request)})");
        }
        q.ReadChunks(store, r =>
        {
            times.Reserve(r.RowCount);
            Span<long> row = stackalloc long[ranks];
            var cols = new long[ranks][];
            while (r.NextChunk())
            {
                var vids = r.NonNullValues<uint>(0);
                if (cols[0] is null || cols[0].Length < vids.Length)
                {
                    for (var e = 0; e < ranks; e++)
                    {
                        cols[e] = new long[Math.Max(2048, vids.Length)];
                    }
                }
                var jkeys = r.NonNullValues<ulong>(1);
                for (var e = 0; e < ranks; e++)
                {
                    // an entry that is NULL or at or after the end of the range counts as not entered
                    var values = r.Values<long>(2 + e);
                    var all = r.AllValid(2 + e);
                    for (var i = 0; i < vids.Length; i++)
                    {
                        cols[e][i] = (all || r.IsValid(2 + e, i)) && values[i] < toUtc ? values[i] : none;
                    }
                }
                for (var i = 0; i < vids.Length; i++)
                {
                    var entered = 0;
                    for (var e = 0; e < ranks; e++)
                    {
                        row[e] = cols[e][i];
                        entered += row[e] != none ? 1 : 0;
                    }
                    if (entered >= 2)
                    {
                        times.AddJourney(jkeys[i], vids[i], row, none);
                    }
                }
            }
        }, phases, "journeys");
    }

    /// <summary>One visitor's touches in the range, in time order, grouped by session; null when the visitor is unknown.</summary>
    /// <summary>
    /// One person's whole journey: every touch of every visitor id linked to the person (person_visitors), in time
    /// order, each with its visitor id; null when the site has no such person.
    /// </summary>
    public PersonResult? Person(AnalyticsRequest request, string personId, int maxTouches = 5000)
    {
        PersonResult? person = null;
        {
            var q = new Sql();
            q.Param("site", request.Range.Site);
            q.Param("person", personId);
            q.Text.Append("SELECT person_id, user_id_sha256, first_ts, last_ts FROM persons WHERE site = $site AND pkey = md5_number_lower($person) AND person_id = $person");
            q.Read(store, r => person = new PersonResult(request.Range.Site, r.GetString(0), Str(r, 1), r.GetDateTime(2), r.GetDateTime(3), null, 0, [], []));
        }
        if (person is null)
        {
            return null;
        }
        {
            var q = new Sql();
            q.Param("site", request.Range.Site);
            q.Param("person", personId);
            q.Text.Append("""
                SELECT v.visitor, pv.ts FROM person_visitors pv JOIN visitors v ON v.site = pv.site AND v.vkey = pv.vkey
                WHERE pv.site = $site AND pv.pkey = md5_number_lower($person) ORDER BY pv.ts, v.visitor
                """);
            q.Read(store, r => person.Visitors.Add(new PersonVisitor(r.GetString(0), r.GetDateTime(1))));
        }
        string? current = null;
        {
            var q = new Sql();
            var where = q.TouchpointWhere(request);
            q.Param("person", personId);
            q.Param("max", maxTouches);
            q.Text.Append($"""
                SELECT t.ts, {TouchpointEventId}, t.type, t.name, t.page_host, t.page_path, t.referrer_host, t.source, t.medium, t.term, t.utm_campaign, t.channel,
                       t.previous_stage, t.stage, t.reasons, t.score, t.touch_index, t.session_index, v.visitor
                FROM (SELECT * FROM touchpoints WHERE {where}
                      AND vkey IN (SELECT vkey FROM person_visitors WHERE site = $site AND pkey = md5_number_lower($person))) t
                JOIN visitors v ON v.site = t.site AND v.vkey = t.vkey
                ORDER BY t.ts, t.touch_index LIMIT $max
                """);
            q.Read(store, r =>
            {
                var touch = new JourneyTouch(r.GetDateTime(0), r.GetString(1), Str(r, 2), Str(r, 3), Str(r, 4), Str(r, 5), Str(r, 6), Str(r, 7),
                    Str(r, 8), Str(r, 9), Str(r, 10), Str(r, 11), Str(r, 12), Str(r, 13), Reasons(r, 14),
                    r.IsDBNull(15) ? 0 : Convert.ToDouble(r.GetValue(15)), r.IsDBNull(16) ? 0 : r.GetInt32(16));
                person.Touches.Add(new PersonTouch(r.GetString(18), r.IsDBNull(17) ? 0 : r.GetInt32(17), touch));
                current = touch.StageAfter;
            });
        }
        return person with { CurrentStage = current, TouchCount = person.Touches.Count };
    }

    /// <summary>The person id of a hashed user id on a site, when the store knows that person.</summary>
    public string? PersonByUser(string site, string userIdSha256)
    {
        string? found = null;
        var q = new Sql();
        q.Param("site", site);
        q.Param("uid", userIdSha256);
        q.Text.Append("SELECT person_id FROM persons WHERE site = $site AND user_id_sha256 = $uid LIMIT 1");
        q.Read(store, r => found = r.GetString(0));
        return found;
    }

    public JourneyResult? Journey(AnalyticsRequest request, string visitorId, int maxTouches = 5000)
    {
        DateTime? firstSeen = null;
        {
            var q = new Sql();
            q.Param("site", request.Range.Site);
            q.Param("visitor", visitorId);
            q.Text.Append("SELECT first_ts FROM visitors WHERE site = $site AND vkey = md5_number_lower($visitor) AND visitor = $visitor");
            q.Read(store, r => firstSeen = r.GetDateTime(0));
        }
        if (firstSeen is null)
        {
            return null;
        }
        var journeyIds = new Dictionary<ulong, string>();
        {
            var q = new Sql();
            q.Param("site", request.Range.Site);
            q.Param("visitor", visitorId);
            q.Text.Append("SELECT jkey, any_value(journey_id) FROM stage_transitions WHERE site = $site AND vkey = md5_number_lower($visitor) GROUP BY jkey");
            q.Read(store, r => journeyIds[Convert.ToUInt64(r.GetValue(0))] = r.GetString(1));
        }
        var sessions = new List<JourneySession>();
        var touches = 0;
        string? current = null;
        {
            var q = new Sql();
            var where = q.TouchpointWhere(request);
            q.Param("visitor", visitorId);
            q.Param("max", maxTouches);
            q.Text.Append($"""
                SELECT ts, {TouchpointEventId}, type, name, page_host, page_path, referrer_host, source, medium, term, utm_campaign, channel,
                       previous_stage, stage, reasons, score, touch_index, session_index, skey, jkey, landing_page
                FROM touchpoints t WHERE {where} AND vkey = md5_number_lower($visitor)
                ORDER BY ts, touch_index LIMIT $max
                """);
            JourneySession? s = null;
            ulong lastSkey = 0;
            q.Read(store, r =>
            {
                var skey = Convert.ToUInt64(r.GetValue(18));
                var jkey = Convert.ToUInt64(r.GetValue(19));
                var ts = r.GetDateTime(0);
                var touch = new JourneyTouch(ts, r.GetString(1), Str(r, 2), Str(r, 3), Str(r, 4), Str(r, 5), Str(r, 6), Str(r, 7),
                    Str(r, 8), Str(r, 9), Str(r, 10), Str(r, 11), Str(r, 12), Str(r, 13), Reasons(r, 14),
                    r.IsDBNull(15) ? 0 : Convert.ToDouble(r.GetValue(15)), r.IsDBNull(16) ? 0 : r.GetInt32(16));
                if (s is null || skey != lastSkey)
                {
                    s = new JourneySession(r.IsDBNull(17) ? 0 : r.GetInt32(17),
                        journeyIds.GetValueOrDefault(jkey), ts, ts, touch.Channel, touch.Source, touch.Medium, touch.Campaign, Str(r, 20), []);
                    sessions.Add(s);
                    lastSkey = skey;
                }
                s.Touches.Add(touch);
                sessions[^1] = s = s with { End = ts };
                touches++;
                current = touch.StageAfter;
            });
        }
        string? personId = null;
        List<string>? personVisitors = null;
        {
            var q = new Sql();
            q.Param("site", request.Range.Site);
            q.Param("visitor", visitorId);
            q.Text.Append("""
                SELECT p.person_id, v.visitor FROM person_visitors mine
                JOIN persons p ON p.site = mine.site AND p.pkey = mine.pkey
                JOIN person_visitors pv ON pv.site = mine.site AND pv.pkey = mine.pkey
                JOIN visitors v ON v.site = pv.site AND v.vkey = pv.vkey
                WHERE mine.site = $site AND mine.vkey = md5_number_lower($visitor)
                ORDER BY pv.ts, v.visitor
                """);
            q.Read(store, r =>
            {
                personId = r.GetString(0);
                (personVisitors ??= []).Add(r.GetString(1));
            });
        }
        return new JourneyResult(request.Range.Site, visitorId, firstSeen.Value, current, touches, sessions, personId, personVisitors);
    }

    /// <summary>Visitors whose id starts with <paramref name="prefix"/> and who have sessions matching the range and filters, latest first.</summary>
    public JourneySearchResult SearchJourneys(AnalyticsRequest request, string prefix, int limit = 50)
    {
        var q = new Sql();
        var where = q.SessionWhere(request, "s.");
        q.Param("prefix", prefix);
        q.Param("limit", limit);
        q.Text.Append($"""
            WITH m AS (SELECT vkey, visitor, first_ts FROM visitors WHERE site = $site AND starts_with(visitor, $prefix))
            SELECT m.visitor, m.first_ts, max(s.end_ts) AS last_ts, sum(s.starts)::BIGINT, sum(s.touches)::BIGINT, max(s.max_rank)
            FROM sessions s JOIN m ON s.vkey = m.vkey WHERE {where}
            GROUP BY m.visitor, m.first_ts ORDER BY last_ts DESC, m.visitor LIMIT $limit
            """);
        var hits = new List<JourneySearchHit>();
        q.Read(store, r => hits.Add(new JourneySearchHit(r.GetString(0), r.GetDateTime(1), r.GetDateTime(2), r.GetInt64(3), Long(r, 4),
            StageName(Convert.ToInt32(r.GetValue(5))))));
        return new JourneySearchResult(request.Range.Site, prefix, hits);
    }

    /// <summary>Visitors seen in the <paramref name="window"/> (default 5 minutes) before <paramref name="now"/> and their current stage.</summary>
    public RealtimeResult Realtime(string site, AnalyticsFilters filters, DateTimeOffset now, TimeSpan? window = null, int limit = 100)
    {
        var since = now.UtcDateTime - (window ?? TimeSpan.FromMinutes(5));
        var q = new Sql();
        q.Param("site", site);
        q.Param("since", since);
        q.Param("now", now.UtcDateTime);
        var where = new StringBuilder("site = $site AND ts >= $since AND ts <= $now");
        q.AppendFilters(where, filters, touchpoints: true, prefix: "");
        q.Text.Append($"""
            WITH l AS (SELECT vkey, arg_max(stage, ts) AS stage, max(ts) AS last_ts, arg_max(page_path, ts) AS page,
                              arg_max(channel, ts) AS channel, count(*) AS touches
                       FROM touchpoints WHERE {where} GROUP BY vkey)
            SELECT v.visitor, l.stage, l.last_ts, l.page, l.channel, l.touches
            FROM l JOIN visitors v ON v.site = $site AND v.vkey = l.vkey ORDER BY l.last_ts DESC, v.visitor
            """);
        var byStage = Stages.ToDictionary(s => s, _ => 0L);
        var recent = new List<RealtimeVisitor>();
        long visitors = 0;
        q.Read(store, r =>
        {
            visitors++;
            var stage = Str(r, 1);
            if (stage is not null)
            {
                byStage[stage] = byStage.GetValueOrDefault(stage) + 1;
            }
            if (recent.Count < limit)
            {
                recent.Add(new RealtimeVisitor(r.GetString(0), stage, r.GetDateTime(2), Str(r, 3), Str(r, 4), r.GetInt64(5)));
            }
        });
        return new RealtimeResult(site, since, visitors, byStage, recent);
    }

    /// <summary>Visitors, sessions, touches and stages per value of a dimension, most visitors first (then by value), at most <paramref name="limit"/>.</summary>
    private List<(string Value, VisitorTally Tally)> DimensionTallies(AnalyticsRequest request, string by, int limit)
    {
        var q = new Sql();
        var where = q.RollupWhere(request);
        var notSet = NotSetId(by);
        q.Text.Append($"SELECT {DistinctVisitors.ColumnsSql(VisitorDays.IdColumn(Column(by)), withSums: true)} FROM visitor_days WHERE {where}");
        using var rows = new DistinctVisitors.Rows();
        q.ReadChunks(store, r => rows.Read(r, grouped: true, foldedToZero: notSet), Phases, "rows");
        Dictionary<uint, VisitorTally> tallies;
        using (Phases?.Time("count"))
        {
            tallies = DistinctVisitors.Count(rows, out _);
        }
        return Labelled(by, tallies, limit);
    }

    /// <summary>
    /// The id of a literal '(not set)' value of a breakdown dimension, if the store has one: the rows read count it as no value
    /// (id 0), since both are shown as '(not set)' and a visitor with both counts once.
    /// </summary>
    private uint? NotSetId(string dimension)
    {
        var q = new Sql();
        q.Param("dim", VisitorDays.DimensionNumber(Column(dimension)));
        q.Param("not_set", "(not set)");
        q.Text.Append("SELECT id FROM dim_values WHERE dim = $dim AND value = $not_set");
        uint? id = null;
        q.Read(store, r => id = r.GetFieldValue<uint>(0));
        return id;
    }

    /// <summary>Tallies per dimension id with their values, most visitors (or visitors in awareness) first, then by value; at most <paramref name="limit"/>.</summary>
    private List<(string Value, VisitorTally Tally)> Labelled(string by, Dictionary<uint, VisitorTally> tallies, int limit, bool byReached = false)
    {
        var labels = new Dictionary<uint, string>();
        {
            var l = new Sql();
            l.Param("dim", VisitorDays.DimensionNumber(Column(by)));
            l.Text.Append("SELECT id, value FROM dim_values WHERE dim = $dim");
            l.Read(store, r => labels[r.GetFieldValue<uint>(0)] = r.GetString(1));
        }
        return [.. tallies
            .Select(t => (Value: t.Key == 0 ? "(not set)" : labels.GetValueOrDefault(t.Key, "(not set)"), Tally: t.Value))
            .OrderByDescending(t => byReached ? t.Tally.Reached[0] : t.Tally.Visitors).ThenBy(t => t.Value, StringComparer.Ordinal)
            .Take(limit)];
    }

    private static OverviewDay Day(DateOnly day, VisitorTally t) =>
        new(day, t.Visitors, t.Sessions, t.Touches, StageMap(t.Reached), StageMap(t.Entered));

    private static Dictionary<string, long> StageMap(long[] counts)
    {
        var d = new Dictionary<string, long>(Stages.Length);
        for (var i = 0; i < Stages.Length; i++)
        {
            d[Stages[i]] = counts[i];
        }
        return d;
    }

    internal static string Column(string dimension) =>
        AnalyticsVocabulary.DimensionColumns.TryGetValue(dimension, out var c)
            ? c
            : throw new ArgumentException($"Unknown dimension '{dimension}'; use one of {string.Join(", ", AnalyticsVocabulary.Dimensions)}.", nameof(dimension));

    private static string? StageName(int rank) => rank >= 1 && rank <= Stages.Length ? Stages[rank - 1] : null;

    private static Dictionary<string, long> StageMap(DbDataReader? r, int first)
    {
        var d = new Dictionary<string, long>(Stages.Length);
        for (var i = 0; i < Stages.Length; i++)
        {
            d[Stages[i]] = r is null ? 0 : r.GetInt64(first + i);
        }
        return d;
    }

    private static Dictionary<string, double?> Conversion(Dictionary<string, long> reached)
    {
        var d = new Dictionary<string, double?>(Stages.Length - 1);
        for (var i = 1; i < Stages.Length; i++)
        {
            var prev = reached[Stages[i - 1]];
            d[Stages[i]] = prev == 0 ? null : (double)reached[Stages[i]] / prev;
        }
        return d;
    }

    private static long Long(DbDataReader r, int i) => r.IsDBNull(i) ? 0 : Convert.ToInt64(r.GetValue(i));
    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static double? NullableDouble(DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToDouble(r.GetValue(i));

    private static List<string> Reasons(DbDataReader r, int i) =>
        r.IsDBNull(i) ? [] : r.GetValue(i) is IEnumerable<string> list ? [.. list] : [];

    /// <summary>SQL text plus its parameters.</summary>
    private sealed class Sql
    {
        public StringBuilder Text { get; } = new();
        private readonly List<DuckDBParameter> _parameters = [];

        public void Param(string name, object? value)
        {
            if (_parameters.All(p => p.ParameterName != name))
            {
                _parameters.Add(new DuckDBParameter(name, value));
            }
        }

        /// <summary>site, local days and filters on the sessions roll-up.</summary>
        public string SessionWhere(AnalyticsRequest request, string prefix = "")
        {
            Param("site", request.Range.Site);
            Param("from", request.Range.From);
            Param("to", request.Range.To);
            var w = new StringBuilder($"{prefix}site = $site AND {prefix}day BETWEEN $from AND $to");
            AppendFilters(w, request.Filters, touchpoints: false, prefix);
            return w.ToString();
        }

        /// <summary>site, local days and filters on the visitor_days roll-up: a filter value is compared through its dimension id.</summary>
        public string RollupWhere(AnalyticsRequest request)
        {
            Param("site", request.Range.Site);
            Param("from", request.Range.From);
            Param("to", request.Range.To);
            var w = new StringBuilder("site = $site AND day BETWEEN $from AND $to");
            var f = request.Filters;
            void Add(string? value, string dimension)
            {
                if (value is not null)
                {
                    // an unknown value has no id: the subquery gives NULL and no row matches, as the string comparison would
                    var n = VisitorDays.DimensionNumber(dimension);
                    w.Append($" AND {dimension}_id = (SELECT id FROM dim_values WHERE dim = {n} AND value = $f_{dimension})");
                    Param("f_" + dimension, value);
                }
            }
            Add(f.Channel, "channel");
            Add(f.Source, "source");
            Add(f.Medium, "medium");
            Add(f.Campaign, "campaign");
            Add(f.Term, "term");
            Add(f.LandingPage, "landing_page");
            Add(f.Device, "device");
            Add(f.Country, "country");
            if (f.Stage is not null)
            {
                w.Append(" AND max_rank = $f_stage_rank");
                Param("f_stage_rank", JourneyStages.Rank(f.Stage));
            }
            return w.ToString();
        }

        /// <summary>site, UTC instants of the local days and filters on touchpoints.</summary>
        public string TouchpointWhere(AnalyticsRequest request)
        {
            Param("site", request.Range.Site);
            Param("from_utc", request.Range.FromUtc);
            Param("to_utc", request.Range.ToUtcExclusive);
            var w = new StringBuilder("site = $site AND ts >= $from_utc AND ts < $to_utc");
            AppendFilters(w, request.Filters, touchpoints: true, "");
            return w.ToString();
        }

        public void AppendFilters(StringBuilder w, AnalyticsFilters f, bool touchpoints, string prefix)
        {
            void Add(string? value, string column, string name)
            {
                if (value is not null)
                {
                    w.Append($" AND {prefix}{column} = ${name}");
                    Param(name, value);
                }
            }
            Add(f.Channel, "channel", "f_channel");
            Add(f.Source, "source", "f_source");
            Add(f.Medium, "medium", "f_medium");
            Add(f.Campaign, touchpoints ? "utm_campaign" : "campaign", "f_campaign");
            Add(f.Term, "term", "f_term");
            Add(f.LandingPage, "landing_page", "f_landing_page");
            Add(f.Device, "device", "f_device");
            Add(f.Country, "country", "f_country");
            if (f.Stage is not null)
            {
                if (touchpoints)
                {
                    Add(f.Stage, "stage", "f_stage");
                }
                else
                {
                    w.Append($" AND {prefix}max_rank = $f_stage_rank");
                    Param("f_stage_rank", JourneyStages.Rank(f.Stage));
                }
            }
        }

        /// <summary>Runs the query and hands the whole reader to <paramref name="read"/>.</summary>
        public void ReadAll(AnalyticsStore store, Action<DbDataReader> read)
        {
            using var c = store.OpenReadConnection();
            using var cmd = c.CreateCommand();
            cmd.CommandText = Text.ToString();
            foreach (var p in _parameters)
            {
                cmd.Parameters.Add(p);
            }
            using var r = cmd.ExecuteReader();
            read(r);
        }

        /// <summary>Runs the query through DuckDB's C API and hands its result to <paramref name="read"/> to read chunk by chunk.</summary>
        public void ReadChunks(AnalyticsStore store, Action<NativeResult> read, QueryPhases? phases = null, string name = "")
        {
            using var c = store.OpenReadConnection();
            NativeResult result;
            using (phases?.Time(name + " query"))
            {
                result = NativeResult.Execute(c, Text.ToString(), _parameters);
            }
            using (result)
            using (phases?.Time(name + " read"))
            {
                read(result);
            }
        }

        /// <summary>Runs the query and hands each row to <paramref name="row"/>.</summary>
        public void Read(AnalyticsStore store, Action<DbDataReader> row) =>
            ReadAll(store, r =>
            {
                while (r.Read())
                {
                    row(r);
                }
            });
    }
}
