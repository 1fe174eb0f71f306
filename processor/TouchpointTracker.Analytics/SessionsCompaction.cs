using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The <c>sessions</c> roll-up holds one row per session and writer batch (dated by its first touch in the batch), so
/// a live stream with 1-second flushes leaves a session one row per flush it spans (and <c>visitor_days</c> one row per
/// such row): up to one row per touchpoint instead of ~0.4, and a stage filter that matches the parts of a session
/// rather than its highest stage.
/// The upkeep (<see cref="AnalyticsUpkeep"/>, hourly) merges each session's rows of a day into one, as one large batch
/// would have written them (dimension values from its earliest row, as a batch takes them from the session's first
/// touch in it), and rebuilds those visitors' <c>visitor_days</c> rows of the day. Every figure stays the same: sessions are
/// counted by summing <c>starts</c>, touches by summing, stages by maximum and bit-or, and the start a session's first
/// row carries stays the earliest of its day. A session still going on is merged again with its later rows next time.
/// </summary>
internal static class SessionsCompaction
{
    private static readonly string Dims = string.Join(", ", VisitorDays.Dimensions);

    /// <summary>
    /// Merges the split sessions of the days from <paramref name="since"/> on; returns the rows removed (the rows of
    /// split sessions less the rows left). Runs inside the caller's transaction.
    /// </summary>
    internal static long Compact(DuckDBConnection c, DateOnly since, Func<DuckDBConnection, string, (string, object?)[], int> exec)
    {
        (string, object?)[] days = [("since", since)];
        // A session's rows of one day become one, with the dimension values of its earliest row (NULLs included), as one
        // batch takes them from the session's first touch in it.
        exec(c, $"""
            CREATE OR REPLACE TEMP TABLE merged_sessions AS
            WITH split AS (SELECT site, skey, day FROM sessions WHERE day >= $since GROUP BY site, skey, day HAVING count(*) > 1),
            parts AS (SELECT s.* FROM sessions s SEMI JOIN split x ON x.site = s.site AND x.skey = s.skey AND x.day = s.day WHERE s.day >= $since)
            SELECT site, skey, vkey, day, min(start_ts) OVER w AS start_ts, max(end_ts) OVER w AS end_ts,
                   sum(touches) OVER w ::INTEGER AS touches, least(sum(starts) OVER w, 127)::TINYINT AS starts,
                   max(max_rank) OVER w AS max_rank, bit_or(entered) OVER w AS entered, {Dims}
            FROM parts
            WINDOW w AS (PARTITION BY site, skey, day)
            QUALIFY row_number() OVER (PARTITION BY site, skey, day ORDER BY start_ts, starts DESC) = 1
            """, days);
        long groups;
        using (var count = c.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM merged_sessions";
            groups = Convert.ToInt64(count.ExecuteScalar());
        }
        if (groups == 0)
        {
            exec(c, "DROP TABLE merged_sessions", []);
            return 0;
        }
        var removed = exec(c, """
            DELETE FROM sessions s USING merged_sessions m WHERE s.day >= $since AND s.site = m.site AND s.skey = m.skey AND s.day = m.day
            """, days);
        removed -= exec(c, $"""
            INSERT INTO sessions (site, skey, vkey, day, start_ts, end_ts, touches, starts, max_rank, entered, {Dims})
            SELECT * FROM merged_sessions ORDER BY day, start_ts
            """, []);
        // visitor_days holds one row per sessions row, by visitor number and day: those visitors' days are rebuilt.
        exec(c, """
            CREATE OR REPLACE TEMP TABLE merged_visitor_days AS
            SELECT DISTINCT m.site, m.day, m.vkey, v.vid FROM merged_sessions m JOIN visitors v ON v.site = m.site AND v.vkey = m.vkey
            """, []);
        exec(c, "DELETE FROM visitor_days v USING merged_visitor_days d WHERE v.day >= $since AND v.site = d.site AND v.day = d.day AND v.vid = d.vid", days);
        exec(c, VisitorDays.InsertFromSessions(
            "s.day >= $since AND EXISTS (SELECT 1 FROM merged_visitor_days d WHERE d.site = s.site AND d.day = s.day AND d.vkey = s.vkey)"), days);
        exec(c, "DROP TABLE merged_sessions; DROP TABLE merged_visitor_days", []);
        return removed;
    }
}
