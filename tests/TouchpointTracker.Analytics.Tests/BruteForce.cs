using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// What the property tests compare the store's views with: the funnel worked out straight from <c>sessions</c> and
/// <c>stage_transitions</c>, and small readers of one-column SQL results.
/// </summary>
internal static class BruteForce
{
    public static readonly string[] StageNames = ["awareness", "consideration", "decision", "retention", "advocacy"];

    /// <summary>The funnel's counts and times straight from stage_transitions, for the visitors of the cohort's sessions (<paramref name="where"/>).</summary>
    public static List<string> FunnelRows(AnalyticsStore store, string where, DateTime toUtc, string site)
    {
        var counts = Strings(store, $"""
            WITH v AS (SELECT vkey, max(max_rank) AS r FROM sessions WHERE {where} GROUP BY vkey)
            SELECT count(*) FILTER (r >= 1) || ' ' || count(*) FILTER (r >= 2) || ' ' || count(*) FILTER (r >= 3) || ' ' || count(*) FILTER (r >= 4) || ' ' || count(*) FILTER (r >= 5) FROM v
            """)[0].Split(' ');
        var times = new Dictionary<int, (long N, double? Median, double? P75)>();
        using (var c = store.OpenReadConnection())
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"""
                WITH cohort AS (SELECT DISTINCT vkey FROM sessions WHERE {where}),
                f0 AS (SELECT jkey, to_rank, min(ts) AS ts FROM stage_transitions
                      WHERE site = '{site}' AND ts < '{toUtc:yyyy-MM-dd HH:mm:ss}'::TIMESTAMP AND vkey IN (SELECT vkey FROM cohort) GROUP BY jkey, to_rank),
                f AS (SELECT jkey, to_rank, ts FROM f0 QUALIFY ts <= min(ts) OVER (PARTITION BY jkey ORDER BY to_rank DESC)),
                d AS (SELECT to_rank, epoch(ts - lag(ts) OVER (PARTITION BY jkey ORDER BY to_rank)) AS secs FROM f)
                SELECT to_rank, count(secs), quantile_cont(secs, 0.5), quantile_cont(secs, 0.75)
                FROM d WHERE secs IS NOT NULL GROUP BY to_rank
                """;
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                times[Convert.ToInt32(rd.GetValue(0))] = (rd.GetInt64(1), rd.IsDBNull(2) ? null : rd.GetDouble(2), rd.IsDBNull(3) ? null : rd.GetDouble(3));
            }
        }
        return [.. StageNames.Select((s, i) =>
        {
            var t = i > 0 ? times.GetValueOrDefault(i + 1) : default;
            return $"{s} {counts[i]} {t.N} {t.Median} {t.P75}";
        })];
    }

    /// <summary>The first column of every row, as text (<paramref name="totalIfEmpty"/> when there is no row, if given).</summary>
    public static List<string> Strings(AnalyticsStore store, string sql, string? totalIfEmpty = null)
    {
        using var c = store.OpenReadConnection();
        var list = Strings(c, sql);
        if (list.Count == 0 && totalIfEmpty is not null)
        {
            list.Add(totalIfEmpty);
        }
        return list;
    }

    public static List<string> Strings(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var rd = cmd.ExecuteReader();
        var list = new List<string>();
        while (rd.Read())
        {
            list.Add(rd.GetString(0));
        }
        return list;
    }

    /// <summary>Every row of a query, its columns joined by "|" (NULL as "null"), in the query's order.</summary>
    public static List<string> SqlRows(AnalyticsStore store, string sql)
    {
        using var c = store.OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "null" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }

    public static long SqlLong(AnalyticsStore store, string sql)
    {
        using var c = store.OpenReadConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
