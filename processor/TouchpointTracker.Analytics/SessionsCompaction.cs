using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The <c>sessions</c> roll-up holds one row per session and writer batch (dated by its first touch in the batch), so a live stream with 1-second flushes
/// leaves a session one row per flush it spans (and <c>visitor_days</c> one row per such row): up to one row per
/// touchpoint instead of ~0.4, and a stage filter that matches the parts of a session rather than its highest stage.
/// The upkeep (<see cref="AnalyticsUpkeep"/>, hourly) merges each session's rows of a day into one, as one large batch
/// would have written them (per set of dimension values, which a session keeps unless the writer's source cache lost
/// it), and rebuilds those visitors' <c>visitor_days</c> rows of the day. Every figure stays the same: sessions are
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
        exec(c, """
            CREATE OR REPLACE TEMP TABLE split_sessions AS
            SELECT site, skey, day, any_value(vkey) AS vkey FROM sessions WHERE day >= $since
            GROUP BY site, skey, day HAVING count(*) > 1
            """, [("since", since)]);
        long split;
        using (var count = c.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM split_sessions";
            split = Convert.ToInt64(count.ExecuteScalar());
        }
        if (split == 0)
        {
            exec(c, "DROP TABLE split_sessions", []);
            return 0;
        }
        exec(c, $"""
            CREATE OR REPLACE TEMP TABLE merged_sessions AS
            SELECT s.site, s.skey, s.vkey, s.day, min(s.start_ts) AS start_ts, max(s.end_ts) AS end_ts,
                   sum(s.touches)::INTEGER AS touches, least(sum(s.starts), 127)::TINYINT AS starts, max(s.max_rank) AS max_rank,
                   bit_or(s.entered) AS entered, {Dims}
            FROM sessions s SEMI JOIN split_sessions x ON x.site = s.site AND x.skey = s.skey AND x.day = s.day
            GROUP BY s.site, s.skey, s.vkey, s.day, {Dims}
            """, []);
        var removed = exec(c, "DELETE FROM sessions s USING split_sessions x WHERE s.site = x.site AND s.skey = x.skey AND s.day = x.day", []);
        removed -= exec(c, $"""
            INSERT INTO sessions (site, skey, vkey, day, start_ts, end_ts, touches, starts, max_rank, entered, {Dims})
            SELECT * FROM merged_sessions ORDER BY day, start_ts
            """, []);
        // visitor_days holds one row per sessions row, by visitor number and day: those visitors' days are rebuilt.
        exec(c, """
            CREATE OR REPLACE TEMP TABLE split_visitor_days AS
            SELECT DISTINCT x.site, x.day, x.vkey, v.vid FROM split_sessions x JOIN visitors v ON v.site = x.site AND v.vkey = x.vkey
            """, []);
        exec(c, "DELETE FROM visitor_days v USING split_visitor_days d WHERE v.site = d.site AND v.day = d.day AND v.vid = d.vid", []);
        exec(c, VisitorDays.InsertFromSessions("EXISTS (SELECT 1 FROM split_visitor_days d WHERE d.site = s.site AND d.day = s.day AND d.vkey = s.vkey)"), []);
        exec(c, "DROP TABLE split_sessions; DROP TABLE merged_sessions; DROP TABLE split_visitor_days", []);
        return removed;
    }
}
