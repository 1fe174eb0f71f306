using System.Runtime.InteropServices;
using DuckDB.NET.Data;
using TouchpointTracker.Attribution;

namespace TouchpointTracker.Analytics;

/// <summary>What <c>GET /api/v1/attribution</c> asks for, validated.</summary>
public sealed record AttributionRequest(
    AnalyticsRange Range, string By, IReadOnlyList<AttributionModel> Models, string? ConversionType,
    int LookbackDays, double HalfLifeDays, int Limit = 1000, int Paths = 20);

public sealed record AttributionRow(string Key, Dictionary<string, double> Conversions, Dictionary<string, double> Revenue);

public sealed record AttributionPathRow(List<string> Path, double Conversions, double Revenue);

public sealed record AttributionReport(string Site, DateOnly From, DateOnly To, string By, List<string> Models, string? ConversionType,
    int LookbackDays, double HalfLifeDays, double Conversions, double Revenue, long NonConvertingPaths, double AveragePathLength,
    double AverageDaysToConvert, int Keys, List<AttributionRow> Rows, List<AttributionPathRow> TopPaths);

/// <summary>
/// Attribution over the store: one SQL query reads the paths (non-converting persons' paths aggregated in DuckDB,
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

    public AttributionReport Attribution(AttributionRequest request)
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
        var nonConverting = withNonConverting
            ? "SELECT 0 AS kind, NULL::UBIGINT AS person, NULL::TIMESTAMP AS ts, key, last AS direct, count(*)::DOUBLE AS value, prev FROM n GROUP BY ALL\n    UNION ALL "
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
            t AS (SELECT coalesce(pv.pkey, s.vkey) AS person, s.start_ts AS ts, {key} AS key, coalesce(s.channel = 'Direct', false) AS direct
                  FROM sessions s LEFT JOIN pv ON pv.vkey = s.vkey
                  WHERE s.site = $site AND s.starts = 1 AND s.start_ts >= $touch_from AND s.start_ts < $to_utc),
            cp AS (SELECT DISTINCT person FROM c),
            n AS (SELECT key, lag(key) OVER w AS prev, lead(key) OVER w IS NULL AS last FROM t
                  WHERE ts >= $from_utc AND person NOT IN (SELECT person FROM cp)
                  WINDOW w AS (PARTITION BY person ORDER BY ts, key))
            {nonConverting}SELECT 1 AS kind, person, ts, key, direct, 0::DOUBLE AS value, NULL AS prev FROM t WHERE person IN (SELECT person FROM cp)
            UNION ALL SELECT 2, person, ts, NULL, false, value, NULL FROM c
            ORDER BY person NULLS FIRST, ts, kind, key
            """;
        using var connection = store.OpenReadConnection();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.Add(new DuckDBParameter("site", range.Site));
        cmd.Parameters.Add(new DuckDBParameter("from_utc", from));
        cmd.Parameters.Add(new DuckDBParameter("to_utc", to));
        cmd.Parameters.Add(new DuckDBParameter("touch_from", from - settings.Lookback));
        if (request.ConversionType is not null)
        {
            cmd.Parameters.Add(new DuckDBParameter("type", request.ConversionType));
        }
        var touches = new List<Touch>();
        var conversions = new List<Conversion>();
        ulong person = 0;
        var any = false;
        void Flush()
        {
            if (any)
            {
                builder.AddPerson(CollectionsMarshal.AsSpan(touches), CollectionsMarshal.AsSpan(conversions), from.Ticks);
            }
            touches.Clear();
            conversions.Clear();
        }
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                var kind = r.GetInt32(0);
                if (kind == 0)
                {
                    // one counted transition of the non-converting paths: prev (NULL: the path's start) -> key, and key -> null when last
                    var next = builder.Key(r.GetString(3));
                    var count = (long)r.GetDouble(5);
                    builder.AddNonConvertingTransition(r.IsDBNull(6) ? -1 : builder.Key(r.GetString(6)), next, count);
                    if (r.GetBoolean(4))
                    {
                        builder.AddNonConvertingTransition(next, -1, count);
                    }
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
                    touches.Add(new Touch(builder.Key(r.GetString(3)), ticks, r.GetBoolean(4)));
                }
                else
                {
                    conversions.Add(new Conversion(ticks, 1, r.GetDouble(5)));
                }
            }
        }
        Flush();
        var result = builder.Compute(request.Paths);
        return Report(request, result);
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
