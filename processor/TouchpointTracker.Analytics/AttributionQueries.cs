using System.Runtime.InteropServices;
using DuckDB.NET.Data;
using TouchpointTracker.Attribution;

namespace TouchpointTracker.Analytics;

/// <summary>What <c>GET /api/v1/attribution</c> asks for, validated.</summary>
public sealed record AttributionRequest(
    AnalyticsRange Range, string By, IReadOnlyList<AttributionModel> Models, string? ConversionType,
    int LookbackDays, double HalfLifeDays, int Limit = 1000, int Paths = 20);

/// <summary>Where the non-converting paths' transitions are read from (see <see cref="AttributionQueries.Attribution(AttributionRequest, NonConvertingSource)"/>).</summary>
public enum NonConvertingSource
{
    Auto,
    RollUp,
    Scan,
}

public sealed record AttributionRow(string Key, Dictionary<string, double> Conversions, Dictionary<string, double> Revenue);

public sealed record AttributionPathRow(List<string> Path, double Conversions, double Revenue);

public sealed record AttributionReport(string Site, DateOnly From, DateOnly To, string By, List<string> Models, string? ConversionType,
    int LookbackDays, double HalfLifeDays, double Conversions, double Revenue, long NonConvertingPaths, double AveragePathLength,
    double AverageDaysToConvert, int Keys, List<AttributionRow> Rows, List<AttributionPathRow> TopPaths);

/// <summary>
/// Attribution over the store: one SQL query reads the paths (for Markov, every person's in-range transitions summed
/// from the roll-up <c>attribution_paths</c>, or the non-converting persons' counted by a window as a fallback; the
/// converting persons' touches and conversions in person and time order), <see cref="AttributionBuilder"/> computes.
/// Touches are session landings (the <c>sessions</c> row holding a session's first event); persons are
/// <c>coalesce(person_visitors.pkey, vkey)</c>; conversions are decided by each conversion id's latest row.
/// </summary>
public sealed class AttributionQueries(AnalyticsStore store)
{
    /// <summary>The dimensions <c>?by=</c> accepts and the SQL expression of each over <c>sessions s</c> (a fixed whitelist).</summary>
    public static IReadOnlyDictionary<string, string> Dimensions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["channel"] = "coalesce(s.channel, '(not set)')",
        ["source_medium"] = "CASE WHEN s.source IS NULL AND s.medium IS NULL THEN CASE WHEN s.channel = 'Direct' THEN '(direct) / (none)' ELSE '(not set)' END "
            + "ELSE coalesce(s.source, '(not set)') || ' / ' || coalesce(s.medium, '(not set)') END",
        ["campaign"] = "coalesce(s.campaign, '(not set)')",
        ["term"] = "coalesce(s.term, '(not set)')",
        ["content"] = "coalesce(s.content, '(not set)')",
        ["landing_page"] = "coalesce(s.landing_page, '(not set)')",
        ["click_platform"] = "coalesce(s.click_platform, '(not set)')",
    };

    public AttributionReport Attribution(AttributionRequest request) => Attribution(request, NonConvertingSource.Auto);

    /// <summary>
    /// <paramref name="source"/> says where the non-converting paths' transitions come from (only read with Markov):
    /// <see cref="NonConvertingSource.Auto"/> the roll-up, or the scan when the roll-up does not agree with the sessions;
    /// <see cref="NonConvertingSource.RollUp"/> the roll-up only (throws when it does not agree);
    /// <see cref="NonConvertingSource.Scan"/> a window over the non-converting persons' session starts.
    /// </summary>
    public AttributionReport Attribution(AttributionRequest request, NonConvertingSource source)
    {
        var withNonConverting = request.Models.Contains(AttributionModel.Markov);
        if (withNonConverting && source != NonConvertingSource.Scan)
        {
            if (Run(request, rollUp: true) is { } report)
            {
                return report;
            }
            if (source == NonConvertingSource.RollUp)
            {
                throw new InvalidOperationException("The attribution roll-up does not agree with the stored sessions.");
            }
        }
        return Run(request, rollUp: false)!;
    }

    /// <summary>One request; null when <paramref name="rollUp"/> and the roll-up does not agree with the sessions.</summary>
    private AttributionReport? Run(AttributionRequest request, bool rollUp)
    {
        var range = request.Range;
        var settings = new AttributionSettings(TimeSpan.FromDays(request.LookbackDays), TimeSpan.FromDays(request.HalfLifeDays));
        var builder = new AttributionBuilder(request.Models, settings);
        var from = range.FromUtc;
        var to = range.ToUtcExclusive;
        var key = Dimensions[request.By];
        var typeFilter = request.ConversionType is null ? "" : " AND type = $type";
        // Non-converting paths only feed the Markov chain (and their count): without Markov they are not read.
        var withNonConverting = request.Models.Contains(AttributionModel.Markov);
        var nonConverting = !withNonConverting ? ""
            : rollUp
                // every person's transitions inside the range from the roll-up (prev NULL: entered from the start), and the
                // session starts of the range to check the roll-up against
                ? $"""
                  SELECT 0 AS kind, NULL::UBIGINT AS person, NULL::TIMESTAMP AS ts, key, false AS direct, sum(n)::DOUBLE AS value, prev
                      FROM (SELECT CASE WHEN prev_day >= $from_day THEN prev_key END AS prev, key, n FROM attribution_paths
                            WHERE site = $site AND dim = {Array.IndexOf(AttributionPaths.Dimensions, request.By)} AND day BETWEEN $from_day AND $to_day)
                      GROUP BY prev, key
                      UNION ALL SELECT 3, NULL, NULL, NULL, false, count(*)::DOUBLE, NULL FROM sessions
                      WHERE site = $site AND starts = 1 AND day BETWEEN $from_day AND $to_day
                      UNION ALL
                  """ + "\n    "
                : "SELECT 0 AS kind, NULL::UBIGINT AS person, NULL::TIMESTAMP AS ts, key, last AS direct, count(*)::DOUBLE AS value, prev FROM n GROUP BY ALL\n    UNION ALL ";
        // the scan: every person's touches (t), the non-converting ones' transitions counted by a window (n)
        var scanCte = withNonConverting && !rollUp
            ? $"""
              ,
              t AS (SELECT coalesce(pv.pkey, s.vkey) AS person, s.start_ts AS ts, {key} AS key
                    FROM sessions s LEFT JOIN pv ON pv.vkey = s.vkey
                    WHERE s.site = $site AND s.starts = 1 AND s.start_ts >= $from_utc AND s.start_ts < $to_utc),
              n AS (SELECT key, lag(key) OVER w AS prev, lead(key) OVER w IS NULL AS last FROM t
                    WHERE ts >= $from_utc AND person NOT IN (SELECT person FROM cp)
                    WINDOW w AS (PARTITION BY person ORDER BY ts, key))
              """
            : "";
        var sql = $"""
            WITH pv AS (SELECT vkey, arg_max(pkey, ts) AS pkey FROM person_visitors WHERE site = $site GROUP BY vkey),
            cr AS (
                SELECT min(ts) FILTER (WHERE NOT retracted) AS ts,
                       arg_min(vkey, ts) FILTER (WHERE NOT retracted) AS vkey,
                       arg_max(coalesce(reporting_value, value, 0), ts) FILTER (WHERE NOT retracted) AS value,
                       arg_max(retracted, epoch_us(ts) * 2 + CASE WHEN retracted THEN 0 ELSE 1 END) AS gone
                FROM conversions WHERE site = $site AND ts >= $from_utc{typeFilter} GROUP BY conversion_id),
            c AS (SELECT coalesce(pv.pkey, cr.vkey) AS person, cr.ts, cr.value FROM cr LEFT JOIN pv ON pv.vkey = cr.vkey
                  WHERE NOT cr.gone AND cr.ts >= $from_utc AND cr.ts < $to_utc),
            cp AS (SELECT DISTINCT person FROM c),
            cv AS (SELECT vkey FROM pv WHERE pkey IN (SELECT person FROM cp) UNION ALL SELECT person FROM cp),
            sc AS MATERIALIZED (SELECT * FROM sessions s
                   WHERE s.site = $site AND s.starts = 1 AND s.start_ts >= $touch_from AND s.start_ts < $to_utc AND s.vkey IN (SELECT vkey FROM cv)),
            tc AS (SELECT coalesce(pv.pkey, s.vkey) AS person, s.start_ts AS ts, {key} AS key, coalesce(s.channel = 'Direct', false) AS direct,
                          s.day >= $from_day AS in_range
                   FROM sc s LEFT JOIN pv ON pv.vkey = s.vkey){scanCte}
            {nonConverting}SELECT 1 AS kind, person, ts, key, direct, in_range::DOUBLE AS value, NULL AS prev FROM tc WHERE person IN (SELECT person FROM cp)
            UNION ALL SELECT 2, person, ts, NULL, false, value, NULL FROM c
            ORDER BY person NULLS FIRST, ts, kind
            """;
        using var connection = store.OpenReadConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.Add(new DuckDBParameter("site", range.Site));
        cmd.Parameters.Add(new DuckDBParameter("from_utc", from));
        cmd.Parameters.Add(new DuckDBParameter("to_utc", to));
        cmd.Parameters.Add(new DuckDBParameter("from_day", range.From));
        if (rollUp)
        {
            cmd.Parameters.Add(new DuckDBParameter("to_day", range.To));
        }
        cmd.Parameters.Add(new DuckDBParameter("touch_from", from - settings.Lookback));
        if (request.ConversionType is not null)
        {
            cmd.Parameters.Add(new DuckDBParameter("type", request.ConversionType));
        }
        var touches = new List<Touch>();
        var inRange = new List<bool>();
        var names = new List<string>();
        var conversions = new List<Conversion>();
        // roll-up: every person's transitions in the range, (from, to) with −1 for start and null; the converting persons' are taken off
        var transitions = new Dictionary<(int From, int To), long>();
        long rolledUpTouches = 0, sessionStarts = -1;
        ulong person = 0;
        var any = false;
        void Count(int f, int t, long n)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(transitions, (f, t), out _);
            slot += n;
        }
        void Flush()
        {
            if (any)
            {
                if (rollUp && withNonConverting && conversions.Count > 0)
                {
                    // this converting person's path inside the range, as the roll-up counted it
                    var prev = -1;
                    for (var i = 0; i < touches.Count; i++)
                    {
                        if (inRange[i])
                        {
                            Count(prev, touches[i].Key, -1);
                            prev = touches[i].Key;
                        }
                    }
                    if (prev >= 0)
                    {
                        Count(prev, -1, -1);
                    }
                }
                builder.AddPerson(CollectionsMarshal.AsSpan(touches), CollectionsMarshal.AsSpan(conversions), from.Ticks);
            }
            touches.Clear();
            inRange.Clear();
            names.Clear();
            conversions.Clear();
        }
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                var kind = r.GetInt32(0);
                if (kind == 0)
                {
                    // counted transitions: prev (NULL: the path's start) -> key
                    var next = builder.Key(r.GetString(3));
                    var count = (long)r.GetDouble(5);
                    var prev = r.IsDBNull(6) ? -1 : builder.Key(r.GetString(6));
                    if (rollUp)
                    {
                        // every touch of the range leaves to null unless a pair inside the range leaves it
                        Count(prev, next, count);
                        Count(next, -1, count);
                        if (prev >= 0)
                        {
                            Count(prev, -1, -count);
                        }
                        rolledUpTouches += count;
                    }
                    else
                    {
                        builder.AddNonConvertingTransition(prev, next, count);
                        if (r.GetBoolean(4))
                        {
                            builder.AddNonConvertingTransition(next, -1, count);
                        }
                    }
                    continue;
                }
                if (kind == 3)
                {
                    sessionStarts = (long)r.GetDouble(5);
                    continue;
                }
                var p = r.GetFieldValue<ulong>(1);
                if (!any || p != person)
                {
                    Flush();
                    person = p;
                    any = true;
                }
                var ticks = r.GetDateTime(2).Ticks;
                if (kind == 1)
                {
                    var name = r.GetString(3);
                    touches.Add(new Touch(builder.Key(name), ticks, r.GetBoolean(4)));
                    inRange.Add(r.GetDouble(5) != 0);
                    names.Add(name);
                    // touches at the same instant go in key order (the order a path has; SQL sorts by time only, which is
                    // cheaper than sorting every row by its key): move the new one back past the greater keys
                    for (var i = touches.Count - 1; i > 0 && touches[i - 1].Ticks == ticks && Utf8Order(names[i - 1], names[i]) > 0; i--)
                    {
                        (touches[i - 1], touches[i]) = (touches[i], touches[i - 1]);
                        (inRange[i - 1], inRange[i]) = (inRange[i], inRange[i - 1]);
                        (names[i - 1], names[i]) = (names[i], names[i - 1]);
                    }
                }
                else
                {
                    conversions.Add(new Conversion(ticks, 1, r.GetDouble(5)));
                }
            }
        }
        Flush();
        if (rollUp && withNonConverting)
        {
            // The roll-up agrees with the sessions when it counts every session start of the range and no transition count
            // goes below zero once the converting persons' paths are taken off; otherwise the caller scans.
            if (rolledUpTouches != sessionStarts || transitions.Values.Any(n => n < 0))
            {
                return null;
            }
            foreach (var ((f, t), n) in transitions.OrderBy(e => e.Key.From).ThenBy(e => e.Key.To))
            {
                builder.AddNonConvertingTransition(f, t, n);
            }
        }
        var result = builder.Compute(request.Paths);
        return Report(request, result);
    }

    /// <summary>Compares as DuckDB orders VARCHAR: by the UTF-8 bytes.</summary>
    private static int Utf8Order(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return 0;
        }
        return System.Text.Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b));
    }

    private static AttributionReport Report(AttributionRequest request, AttributionResult result)
    {
        var names = result.Models.Select(m => m.Name()).ToList();
        var order = Enumerable.Range(0, result.Keys.Count)
            .OrderByDescending(k => result.ConversionCredits.Length == 0 ? 0 : result.ConversionCredits[0][k])
            .ThenBy(k => result.Keys[k], StringComparer.Ordinal)
            .Take(request.Limit);
        var rows = new List<AttributionRow>();
        foreach (var k in order)
        {
            var conv = new Dictionary<string, double>(names.Count, StringComparer.Ordinal);
            var rev = new Dictionary<string, double>(names.Count, StringComparer.Ordinal);
            for (var m = 0; m < names.Count; m++)
            {
                conv[names[m]] = Round(result.ConversionCredits[m][k]);
                rev[names[m]] = Round(result.RevenueCredits[m][k]);
            }
            rows.Add(new AttributionRow(result.Keys[k], conv, rev));
        }
        var range = request.Range;
        return new AttributionReport(range.Site, range.From, range.To, request.By, names, request.ConversionType, request.LookbackDays,
            request.HalfLifeDays, Round(result.Conversions), Round(result.Revenue), result.NonConvertingPaths, Round(result.AveragePathLength),
            Round(result.AverageDaysToConvert), result.Keys.Count, rows,
            [.. result.TopPaths.Select(p => new AttributionPathRow([.. p.Keys], Round(p.Conversions), Round(p.Revenue)))]);
    }

    private static double Round(double d) => Math.Round(d, 6);
}
