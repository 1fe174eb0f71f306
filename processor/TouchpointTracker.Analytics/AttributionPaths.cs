using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The attribution roll-up <c>attribution_paths</c>: for every dimension of <c>?by=</c>, each session start (touch) of each
/// person counted per (site, dim, day, prev_day, prev_key, key), where prev is the touch just before it in the person's
/// whole history (ordered by start time, then key, as the attribution query orders a path); no previous touch is
/// <c>prev_day = -infinity</c>, <c>prev_key = ''</c>. Persons are resolved as the query resolves them
/// (<c>coalesce(person_visitors.pkey, vkey)</c>).
/// <para>
/// A request over the days [F, T] reads the transitions of every person's path inside the range from it without sorting
/// a session: a touch of day d in [F, T] is entered from prev_key when prev_day ≥ F (both touches in the range), else
/// from the start; a key leaves to null as often as its touches in the range outnumber the pairs leaving it inside the
/// range. The converting persons' part is then taken off (their touches are read anyway), which leaves exactly the
/// non-converting paths' transitions.
/// </para>
/// <para>
/// Kept by <see cref="AnalyticsWriter"/> inside each flush's transaction as a delta: the contributions of the persons the
/// batch changes (a new session start, a visitor newly linked to a person) are taken off before the batch is appended
/// and added back after (<see cref="Prepare"/>, <see cref="Apply"/>). Rows are appended, never updated: a request sums
/// them anyway; retention (<see cref="PrepareRetention"/>) recomputes the persons whose touches it deletes and
/// compacts the table. Migration step 5 fills it from the stored sessions.
/// </para>
/// </summary>
internal static class AttributionPaths
{
    /// <summary>The dimensions kept, in <c>dim</c> order (the index stored in the table).</summary>
    internal static readonly string[] Dimensions = ["channel", "source_medium", "campaign", "term", "content", "landing_page", "click_platform"];

    internal const string CreateTable = """
        CREATE TABLE attribution_paths (
            site VARCHAR NOT NULL,
            dim UTINYINT NOT NULL,
            day DATE NOT NULL,
            prev_day DATE NOT NULL,
            prev_key VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            n BIGINT NOT NULL
        );
        """;

    /// <summary>Migration step 5: the table, filled from every stored session start.</summary>
    internal static string MigrationStep => CreateTable + "\nINSERT INTO attribution_paths " + Contributions(affectedOnly: false) + Clustered + ";";

    // rows of one site and dimension together, by day: a request reads the row groups of its dimension only (zone maps)
    private const string Clustered = "\nORDER BY site, dim, day";

    /// <summary>
    /// The rows (site, dim, day, prev_day, prev_key, key, n) of every person, or only of the persons in the temp table
    /// <c>attr_affected(site, person, since)</c> and only for their touches after <c>since</c>, computed from
    /// <c>sessions</c> and <c>person_visitors</c> as they are now.
    /// </summary>
    internal static string Contributions(bool affectedOnly)
    {
        var dims = string.Join(", ", Dimensions.Select((d, i) => $"{AttributionQueries.Dimensions[d]} AS d{i}"));
        var unions = string.Join("\n    UNION ALL ", Dimensions.Select((_, i) => $"SELECT site, person, start_ts, since, day, {i}::UTINYINT AS dim, d{i} AS key FROM t"));
        var pvFilter = affectedOnly ? "WHERE site IN (SELECT DISTINCT site FROM attr_affected) " : "";
        var sessions = affectedOnly
            ? "(SELECT s.* FROM sessions s SEMI JOIN av ON av.site = s.site AND av.vkey = s.vkey WHERE s.starts = 1)"
            : "(SELECT * FROM sessions WHERE starts = 1)";
        var av = affectedOnly
            ? """
              av AS (SELECT pv.site, pv.vkey FROM pv SEMI JOIN attr_affected a ON a.site = pv.site AND a.person = pv.pkey
                     UNION SELECT site, person FROM attr_affected),
              """
            : "";
        // an affected person's touches from `since` on: the window sees the touches at `since` (so the first later touch has
        // its previous one) but only the later ones are counted
        var personFilter = affectedOnly
            ? " JOIN attr_affected a ON a.site = t0.site AND a.person = t0.person AND t0.start_ts >= a.since"
            : "";
        var since = affectedOnly ? ", a.since" : ", '-infinity'::TIMESTAMP AS since";
        return $"""
            WITH pv AS (SELECT site, vkey, arg_max(pkey, ts) AS pkey FROM person_visitors {pvFilter}GROUP BY site, vkey),
            {av}
            t0 AS (SELECT s.site, coalesce(pv.pkey, s.vkey) AS person, s.start_ts, s.day, {dims}
                   FROM {sessions} s LEFT JOIN pv ON pv.site = s.site AND pv.vkey = s.vkey),
            t AS (SELECT t0.*{since} FROM t0{personFilter}),
            u AS ({unions}),
            w AS (SELECT site, dim, day, start_ts > since AS counted, lag(day, 1, '-infinity'::DATE) OVER o AS prev_day, lag(key, 1, '') OVER o AS prev_key, key FROM u
                  WINDOW o AS (PARTITION BY site, person, dim ORDER BY start_ts, key))
            SELECT site, dim, day, prev_day, prev_key, key, count(*)::BIGINT AS n FROM w WHERE counted GROUP BY site, dim, day, prev_day, prev_key, key
            """;
    }

    private const string CreateStaging = """
        CREATE TEMP TABLE IF NOT EXISTS attr_v (site VARCHAR, vkey UBIGINT, pkey UBIGINT, ts TIMESTAMP);
        CREATE TEMP TABLE IF NOT EXISTS attr_affected (site VARCHAR, person UBIGINT, since TIMESTAMP);
        CREATE TEMP TABLE IF NOT EXISTS attr_delta (site VARCHAR, dim UTINYINT, day DATE, prev_day DATE, prev_key VARCHAR, key VARCHAR, n BIGINT);
        DELETE FROM attr_v; DELETE FROM attr_affected; DELETE FROM attr_delta;
        """;

    private static readonly string TakeOff = "INSERT INTO attr_delta SELECT site, dim, day, prev_day, prev_key, key, -n FROM (" + Contributions(affectedOnly: true) + ")";

    private static readonly string AddBack = "INSERT INTO attr_delta SELECT site, dim, day, prev_day, prev_key, key, n FROM (" + Contributions(affectedOnly: true) + ")";

    /// <summary>
    /// Before a batch is appended (inside its transaction): the persons it changes are those of its visitors with a new
    /// session start (<paramref name="visitors"/> with the start's time) or a new link to a person (with the person's key),
    /// before and after the link. A person whose visitors stay as they were only changes from their first new session
    /// on: their rows are taken from the last stored session start before it (<c>since</c>), so the work follows the
    /// batch, not the person's history; a person who gains or loses a visitor is taken whole. Their current rows are
    /// staged with a minus sign. Returns false (and stages nothing) when the batch changes no path.
    /// </summary>
    internal static bool Prepare(DuckDBConnection c, IEnumerable<(string Site, ulong Vkey, ulong? Pkey, DateTime? Ts)> visitors)
    {
        Exec(c, CreateStaging);
        var any = false;
        using (var app = c.CreateAppender("attr_v"))
        {
            foreach (var (site, vkey, pkey, ts) in visitors)
            {
                app.CreateRow().AppendValue(site).AppendValue(vkey).AppendValue(pkey).AppendValue(ts).EndRow();
                any = true;
            }
        }
        if (!any)
        {
            return false;
        }
        Exec(c, """
            INSERT INTO attr_affected
            WITH pvb AS (SELECT site, vkey, arg_max(pkey, ts) AS pkey FROM person_visitors WHERE vkey IN (SELECT vkey FROM attr_v) GROUP BY site, vkey),
            x AS (SELECT v.site, coalesce(pvb.pkey, v.vkey) AS person, v.ts, v.pkey IS NOT NULL AND pvb.pkey IS NULL AS relinked
                  FROM attr_v v LEFT JOIN pvb ON pvb.site = v.site AND pvb.vkey = v.vkey),
            y AS (SELECT site, person, ts, relinked FROM x WHERE ts IS NOT NULL OR relinked
                  UNION ALL SELECT DISTINCT v.site, v.pkey, NULL, true FROM attr_v v LEFT JOIN pvb ON pvb.site = v.site AND pvb.vkey = v.vkey
                  WHERE v.pkey IS NOT NULL AND pvb.pkey IS NULL),
            a AS (SELECT site, person, CASE WHEN bool_or(relinked) THEN NULL ELSE min(ts) END AS first_new FROM y GROUP BY site, person),
            pv AS (SELECT site, vkey, arg_max(pkey, ts) AS pkey FROM person_visitors WHERE site IN (SELECT DISTINCT site FROM a) GROUP BY site, vkey),
            av AS (SELECT pv.site, pv.vkey, pv.pkey AS person FROM pv SEMI JOIN a ON a.site = pv.site AND a.person = pv.pkey
                   UNION ALL SELECT site, person, person FROM a),
            before AS (SELECT a.site, a.person, max(s.start_ts) AS last_before
                       FROM (SELECT s.site, s.vkey, s.start_ts FROM sessions s SEMI JOIN av ON av.site = s.site AND av.vkey = s.vkey WHERE s.starts = 1) s
                       LEFT JOIN pv ON pv.site = s.site AND pv.vkey = s.vkey
                       JOIN a ON a.site = s.site AND a.person = coalesce(pv.pkey, s.vkey) AND a.first_new IS NOT NULL AND s.start_ts < a.first_new
                       GROUP BY ALL)
            SELECT a.site, a.person, CASE WHEN a.first_new IS NULL THEN '-infinity'::TIMESTAMP ELSE coalesce(b.last_before, '-infinity'::TIMESTAMP) END
            FROM a LEFT JOIN before b ON b.site = a.site AND b.person = a.person
            """);
        Exec(c, TakeOff);
        return true;
    }

    /// <summary>Before retention deletes the sessions that ended before <paramref name="cutoff"/>: their persons' rows are staged with a minus sign.</summary>
    internal static void PrepareRetention(DuckDBConnection c, DateTime cutoff)
    {
        Exec(c, CreateStaging);
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = """
                INSERT INTO attr_affected SELECT DISTINCT s.site, coalesce(pv.pkey, s.vkey), '-infinity'::TIMESTAMP FROM sessions s
                LEFT JOIN (SELECT site, vkey, arg_max(pkey, ts) AS pkey FROM person_visitors GROUP BY site, vkey) pv ON pv.site = s.site AND pv.vkey = s.vkey
                WHERE s.starts = 1 AND s.end_ts < $cutoff
                """;
            cmd.Parameters.Add(new DuckDBParameter("cutoff", cutoff));
            cmd.ExecuteNonQuery();
        }
        Exec(c, TakeOff);
    }

    /// <summary>After the change (same transaction): the changed persons' rows are added back and the difference appended.</summary>
    internal static void Apply(DuckDBConnection c)
    {
        Exec(c, AddBack);
        Exec(c, """
            INSERT INTO attribution_paths
            SELECT site, dim, day, prev_day, prev_key, key, sum(n)::BIGINT FROM attr_delta GROUP BY ALL HAVING sum(n) <> 0;
            DELETE FROM attr_v; DELETE FROM attr_affected; DELETE FROM attr_delta;
            """);
    }

    /// <summary>Sums the appended deltas into one row per group (rows that sum to zero go).</summary>
    internal static void Compact(DuckDBConnection c) => Exec(c, """
        CREATE OR REPLACE TEMP TABLE attr_compact AS
            SELECT site, dim, day, prev_day, prev_key, key, sum(n)::BIGINT AS n FROM attribution_paths GROUP BY ALL HAVING sum(n) <> 0
            ORDER BY site, dim, day;
        DELETE FROM attribution_paths;
        INSERT INTO attribution_paths SELECT * FROM attr_compact;
        DROP TABLE attr_compact;
        """);

    /// <summary>Empties the table and fills it again from the stored sessions (for stores whose rows were written around the writer).</summary>
    internal static void Rebuild(DuckDBConnection c) => Exec(c, "DELETE FROM attribution_paths;\nINSERT INTO attribution_paths " + Contributions(affectedOnly: false) + Clustered);

    private static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
