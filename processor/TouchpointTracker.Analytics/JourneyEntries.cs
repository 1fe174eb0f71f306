using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The <c>journey_entries</c> roll-up the funnel's times read: per journey, the first entry (earliest transition) into
/// each stage rank 1..5, keyed by the journey's visitor number (<c>visitors.vid</c>) and journey key, so the funnel reads
/// one narrow row per journey instead of the site's stage transitions joined to <c>visitors</c>.
/// <para>
/// Kept inside each writer flush (<see cref="State.Apply"/>): the batch's transitions are folded per journey and merged in
/// memory with what the writer holds of the stored journeys (<see cref="State"/>), and the rows are appended: a journey's
/// first row, or a new row when the batch lowers or adds an entry; no read of the table. Rows are never updated in place,
/// so between compactions a journey can have several rows; the newest holds every entry's minimum and the older ones a
/// subset of its stages at equal or later times. The funnel takes the minimum per journey and stage over the rows it
/// reads, which is the newest row's value. <see cref="State.Compact"/> rewrites the table with one row per journey when
/// the superseded rows reach a quarter of it and when the writer stops; retention (<see cref="RebuildSql"/>) rewrites it
/// from <c>stage_transitions</c>.
/// </para>
/// <para>
/// A transition whose visitor has no number yet (its touchpoints are not stored yet, or retention deleted the visitor)
/// waits in <c>journey_entries_pending</c>, as the funnel before this roll-up left it out of the join with
/// <c>visitors</c>; it moves into <c>journey_entries</c> at the flush that stores the visitor.
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

    private const string PendingStaging = """
        CREATE TEMP TABLE IF NOT EXISTS stage_jp (site VARCHAR, vkey UBIGINT);
        DELETE FROM stage_jp;
        """;

    /// <summary>One row per journey again, the minimum of each entry over the journey's rows (in visitor order, as the rebuild writes it).</summary>
    private const string CompactSql = """
        CREATE OR REPLACE TEMP TABLE je_compact AS
            SELECT site, vid, jkey, min(e1) AS e1, min(e2) AS e2, min(e3) AS e3, min(e4) AS e4, min(e5) AS e5
            FROM journey_entries GROUP BY site, vid, jkey ORDER BY site, vid;
        DELETE FROM journey_entries;
        INSERT INTO journey_entries SELECT * FROM je_compact;
        DROP TABLE je_compact;
        """;

    [System.Runtime.CompilerServices.InlineArray(Ranks)]
    internal struct Entries
    {
        // an entry's instant in ticks; 0 = none
        private long _element;
    }

    /// <summary>
    /// What the writer keeps in memory so that a flush appends its journeys' rows without reading the table: every stored
    /// journey's entries (the minimum over its rows), per site and (vid, jkey), and how many stored rows a later row of
    /// their journey supersedes. Loaded at the first flush (one grouped read of the table); forgotten when a flush rolls
    /// back or retention runs. About 70 bytes per journey.
    /// </summary>
    internal sealed class State
    {
        private readonly Dictionary<string, Dictionary<(uint Vid, ulong Jkey), Entries>> _journeys = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Site, uint Vid, ulong Jkey), Entries> _batch = [];
        private readonly List<(string Site, ulong Vkey, ulong Jkey, int Rank, DateTime Ts)> _entries = [];
        private bool _loaded;

        /// <summary>Rows in the table.</summary>
        public long Rows { get; private set; }

        /// <summary>Rows a later row of their journey supersedes (removed by <see cref="Compact"/>).</summary>
        public long Superseded { get; private set; }

        public void Reset()
        {
            _loaded = false;
            _journeys.Clear();
            _batch.Clear();
            _entries.Clear();
            Rows = Superseded = 0;
        }

        private void Load(DuckDBConnection c)
        {
            if (_loaded)
            {
                return;
            }
            Reset();
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                SELECT site, vid, jkey, min(e1), min(e2), min(e3), min(e4), min(e5), count(*) FROM journey_entries GROUP BY site, vid, jkey
                """;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var e = new Entries();
                for (var k = 0; k < Ranks; k++)
                {
                    e[k] = r.IsDBNull(3 + k) ? 0 : r.GetDateTime(3 + k).Ticks;
                }
                JourneysOf(r.GetString(0))[(r.GetFieldValue<uint>(1), r.GetFieldValue<ulong>(2))] = e;
                var rows = Convert.ToInt64(r.GetValue(8), System.Globalization.CultureInfo.InvariantCulture);
                Rows += rows;
                Superseded += rows - 1;
            }
            _loaded = true;
        }

        private Dictionary<(uint, ulong), Entries> JourneysOf(string site)
        {
            if (!_journeys.TryGetValue(site, out var map))
            {
                _journeys[site] = map = [];
            }
            return map;
        }

        /// <summary>
        /// Folds the flush's transitions (already free of stored duplicates) into the roll-up, and moves the waiting
        /// transitions whose visitor now has a number. Runs inside the flush transaction, after the visitors are appended: a
        /// journey not stored yet gets its row; a stored one a new row only when the batch adds an entry or makes one
        /// earlier (a corrected transition). Returns the rows appended.
        /// </summary>
        public int Apply(DuckDBConnection c, IReadOnlyList<TransitionRow> transitions, VisitorDays visitors)
        {
            var entries = _entries;
            entries.Clear();
            if (transitions.Count > 0)
            {
                Load(c); // before the batch is folded: loading starts from a clean state
            }
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
                return 0;
            }
            if (!_loaded)
            {
                entries.Clear(); // none (waiting transitions only); loading clears the work collections
                Load(c);
            }
            var resolved = waiting.Where(w => visitors.TryGetVid(c, w.Site, w.Vkey, out _)).ToList();
            if (resolved.Count > 0)
            {
                Exec(c, PendingStaging);
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
            var batch = _batch;
            batch.Clear();
            var unknown = new List<(string Site, ulong Vkey, ulong Jkey, int Rank, DateTime Ts)>();
            foreach (var e in entries)
            {
                if (!visitors.TryGetVid(c, e.Site, e.Vkey, out var vid))
                {
                    unknown.Add(e);
                    continue;
                }
                ref var first = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(batch, (e.Site, vid, e.Jkey), out _);
                ref var slot = ref first[e.Rank - 1];
                slot = slot != 0 && slot <= e.Ts.Ticks ? slot : e.Ts.Ticks;
            }
            entries.Clear();
            if (unknown.Count > 0)
            {
                using var app = c.CreateAppender("journey_entries_pending");
                foreach (var (site, vkey, jkey, rank, ts) in unknown)
                {
                    app.CreateRow().AppendValue(site).AppendValue(vkey).AppendValue(jkey).AppendValue((sbyte)rank).AppendValue(ts).EndRow();
                }
            }
            if (batch.Count == 0)
            {
                return 0;
            }
            var appended = 0;
            using (var app = c.CreateAppender("journey_entries"))
            {
                foreach (var ((site, vid, jkey), first) in batch)
                {
                    var map = JourneysOf(site);
                    ref var stored = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(map, (vid, jkey), out var exists);
                    var merged = first;
                    var changed = !exists;
                    for (var k = 0; k < Ranks; k++)
                    {
                        if (exists && stored[k] != 0 && (merged[k] == 0 || stored[k] <= merged[k]))
                        {
                            merged[k] = stored[k];
                        }
                        changed |= exists && merged[k] != stored[k];
                    }
                    if (!changed)
                    {
                        continue;
                    }
                    stored = merged;
                    Superseded += exists ? 1 : 0;
                    appended++;
                    var row = app.CreateRow().AppendValue(site).AppendValue(vid).AppendValue(jkey);
                    for (var k = 0; k < Ranks; k++)
                    {
                        row = row.AppendValue(merged[k] == 0 ? null : (DateTime?)new DateTime(merged[k], DateTimeKind.Utc));
                    }
                    row.EndRow();
                }
            }
            batch.Clear();
            Rows += appended;
            return appended;
        }

        /// <summary>Compacts when the superseded rows exceed a quarter of the table (rare; the writer asks after each flush).</summary>
        public void CompactIfBloated(DuckDBConnection c)
        {
            if (Superseded * 4 > Rows)
            {
                Compact(c);
            }
        }

        /// <summary>Rewrites the table with one row per journey when rows superseded by a later one are left (after a flush
        /// through <see cref="CompactIfBloated"/>, and when the writer stops).</summary>
        public void Compact(DuckDBConnection c)
        {
            if (!_loaded || Superseded == 0)
            {
                return;
            }
            Exec(c, CompactSql);
            Rows -= Superseded;
            Superseded = 0;
        }
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
