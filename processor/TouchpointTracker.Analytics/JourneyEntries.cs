using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The <c>journey_entries</c> roll-up the funnel's times read: per journey, the first entry (earliest transition) into
/// each stage rank 1..5, keyed by the journey's visitor number (<c>visitors.vid</c>) and journey key, so the funnel reads
/// one narrow row per journey instead of the site's stage transitions joined to <c>visitors</c>.
/// <para>
/// Kept inside each writer flush (<see cref="Apply"/>): the batch's transitions are folded per journey and merged with
/// the journey's stored rows in one <c>INSERT ... SELECT</c> (a left join of the batch's journeys with the table); a row
/// is appended only when the merge lowers or adds an entry. Rows are never updated in place, so a journey can have
/// several rows; the newest holds every entry's minimum and the older ones hold a subset of its stages at equal or later
/// times. The funnel takes the minimum per journey and stage over the rows it reads, which is the newest row's value;
/// retention (<see cref="RebuildSql"/>) rewrites the table from <c>stage_transitions</c>, one row per journey again.
/// </para>
/// <para>
/// A transition whose visitor has no number yet (its touchpoints are not stored yet, or retention deleted the visitor)
/// waits in <c>journey_entries_pending</c>, as the funnel before this roll-up left it out of the join with
/// <c>visitors</c>; it moves into <c>journey_entries</c> at the flush that stores the visitor. Stateless: a rolled-back
/// flush leaves nothing behind to forget.
/// </para>
/// </summary>
internal static class JourneyEntries
{
    private const int Ranks = 5;

    /// <summary>Both tables from the stored transitions: how an existing store upgrades, and how retention compacts.</summary>
    internal static readonly string RebuildSql = RebuildInto("journey_entries", "journey_entries_pending");

    /// <summary>The rebuild into the tables named (tests rebuild into copies to compare).</summary>
    internal static string RebuildInto(string entries, string pending) => $"""
        DELETE FROM {entries};
        DELETE FROM {pending};
        INSERT INTO {entries}
        SELECT t.site, v.vid, t.jkey,
               min(t.ts) FILTER (t.to_rank = 1), min(t.ts) FILTER (t.to_rank = 2), min(t.ts) FILTER (t.to_rank = 3),
               min(t.ts) FILTER (t.to_rank = 4), min(t.ts) FILTER (t.to_rank = 5)
        FROM stage_transitions t JOIN visitors v ON v.site = t.site AND v.vkey = t.vkey
        WHERE t.to_rank BETWEEN 1 AND 5 AND v.vid IS NOT NULL
        GROUP BY t.site, v.vid, t.jkey
        ORDER BY t.site, v.vid;
        INSERT INTO {pending}
        SELECT t.site, t.vkey, t.jkey, t.to_rank, t.ts FROM stage_transitions t
        WHERE t.to_rank BETWEEN 1 AND 5
          AND NOT EXISTS (SELECT 1 FROM visitors v WHERE v.site = t.site AND v.vkey = t.vkey AND v.vid IS NOT NULL);
        """;

    /// <summary>Schema step 6: the two tables, filled from the stored transitions.</summary>
    internal static readonly string MigrationStep = """
        CREATE TABLE journey_entries (
            site VARCHAR NOT NULL,
            vid UINTEGER NOT NULL,
            jkey UBIGINT NOT NULL,
            e1 TIMESTAMP,
            e2 TIMESTAMP,
            e3 TIMESTAMP,
            e4 TIMESTAMP,
            e5 TIMESTAMP
        );
        CREATE TABLE journey_entries_pending (
            site VARCHAR NOT NULL,
            vkey UBIGINT NOT NULL,
            jkey UBIGINT NOT NULL,
            to_rank TINYINT NOT NULL,
            ts TIMESTAMP NOT NULL
        );
        """ + RebuildSql;

    private const string Staging = """
        CREATE TEMP TABLE IF NOT EXISTS stage_je (site VARCHAR, vid UINTEGER, jkey UBIGINT, e1 TIMESTAMP, e2 TIMESTAMP, e3 TIMESTAMP, e4 TIMESTAMP, e5 TIMESTAMP);
        CREATE TEMP TABLE IF NOT EXISTS stage_jp (site VARCHAR, vkey UBIGINT);
        DELETE FROM stage_je;
        DELETE FROM stage_jp;
        """;

    // The batch's journeys merged with their stored rows; a row only when an entry is new or earlier than stored.
    private const string Merge = """
        INSERT INTO journey_entries
        SELECT site, vid, jkey, n1, n2, n3, n4, n5 FROM (
            SELECT b.site, b.vid, b.jkey,
                   least(b.e1, min(j.e1)) AS n1, least(b.e2, min(j.e2)) AS n2, least(b.e3, min(j.e3)) AS n3,
                   least(b.e4, min(j.e4)) AS n4, least(b.e5, min(j.e5)) AS n5,
                   count(j.jkey) AS stored, min(j.e1) AS o1, min(j.e2) AS o2, min(j.e3) AS o3, min(j.e4) AS o4, min(j.e5) AS o5
            FROM stage_je b LEFT JOIN journey_entries j ON j.site = b.site AND j.vid = b.vid AND j.jkey = b.jkey
            GROUP BY b.site, b.vid, b.jkey, b.e1, b.e2, b.e3, b.e4, b.e5)
        WHERE stored = 0 OR n1 IS DISTINCT FROM o1 OR n2 IS DISTINCT FROM o2 OR n3 IS DISTINCT FROM o3
           OR n4 IS DISTINCT FROM o4 OR n5 IS DISTINCT FROM o5
        """;

    /// <summary>
    /// Folds the flush's transitions (already free of stored duplicates) into the roll-up, and moves the waiting
    /// transitions whose visitor now has a number. Runs inside the flush transaction, after the visitors are appended.
    /// </summary>
    internal static void Apply(DuckDBConnection c, IReadOnlyList<TransitionRow> transitions, VisitorDays visitors)
    {
        var entries = new List<(string Site, ulong Vkey, ulong Jkey, int Rank, DateTime Ts)>();
        foreach (var r in transitions)
        {
            if (r.ToRank is >= 1 and <= Ranks)
            {
                entries.Add((r.T.SiteId, r.Vkey, r.Jkey, r.ToRank, r.Ts)); // the keys computed when the row was built
            }
        }
        var waiting = WaitingVisitors(c);
        if (entries.Count == 0 && waiting.Count == 0)
        {
            return;
        }
        Exec(c, Staging);
        var resolved = waiting.Where(w => visitors.TryGetVid(c, w.Site, w.Vkey, out _)).ToList();
        if (resolved.Count > 0)
        {
            using (var app = c.CreateAppender("stage_jp"))
            {
                foreach (var (site, vkey) in resolved)
                {
                    app.CreateRow().AppendValue(site).AppendValue(vkey).EndRow();
                }
            }
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                DELETE FROM journey_entries_pending p USING stage_jp s WHERE p.site = s.site AND p.vkey = s.vkey
                RETURNING p.site, p.vkey, p.jkey, p.to_rank, p.ts
                """;
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                entries.Add((rd.GetString(0), rd.GetFieldValue<ulong>(1), rd.GetFieldValue<ulong>(2), rd.GetFieldValue<sbyte>(3), rd.GetDateTime(4)));
            }
        }
        var journeys = new Dictionary<(string Site, uint Vid, ulong Jkey), DateTime?[]>();
        var unknown = new List<(string Site, ulong Vkey, ulong Jkey, int Rank, DateTime Ts)>();
        foreach (var e in entries)
        {
            if (!visitors.TryGetVid(c, e.Site, e.Vkey, out var vid))
            {
                unknown.Add(e);
                continue;
            }
            if (!journeys.TryGetValue((e.Site, vid, e.Jkey), out var first))
            {
                journeys[(e.Site, vid, e.Jkey)] = first = new DateTime?[Ranks];
            }
            ref var slot = ref first[e.Rank - 1];
            slot = slot is { } t && t <= e.Ts ? t : e.Ts;
        }
        if (unknown.Count > 0)
        {
            using var app = c.CreateAppender("journey_entries_pending");
            foreach (var (site, vkey, jkey, rank, ts) in unknown)
            {
                app.CreateRow().AppendValue(site).AppendValue(vkey).AppendValue(jkey).AppendValue((sbyte)rank).AppendValue(ts).EndRow();
            }
        }
        if (journeys.Count == 0)
        {
            return;
        }
        using (var app = c.CreateAppender("stage_je"))
        {
            foreach (var ((site, vid, jkey), first) in journeys)
            {
                app.CreateRow().AppendValue(site).AppendValue(vid).AppendValue(jkey)
                    .AppendValue(first[0]).AppendValue(first[1]).AppendValue(first[2]).AppendValue(first[3]).AppendValue(first[4]).EndRow();
            }
        }
        Exec(c, Merge);
    }

    /// <summary>The visitors (site, vkey) with transitions waiting for their number; normally none.</summary>
    private static List<(string Site, ulong Vkey)> WaitingVisitors(DuckDBConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT site, vkey FROM journey_entries_pending";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, ulong)>();
        while (r.Read())
        {
            list.Add((r.GetString(0), r.GetFieldValue<ulong>(1)));
        }
        return list;
    }

    /// <summary>After retention deleted transitions and visitors: both tables rebuilt from what is left (one row per journey).</summary>
    internal static void ApplyRetention(DuckDBConnection c) => Exec(c, RebuildSql);

    private static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
