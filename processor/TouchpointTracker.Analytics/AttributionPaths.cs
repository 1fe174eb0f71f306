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

    /// <summary>
    /// Sums the appended deltas into one row per group (rows that sum to zero go): every day, or the days from
    /// <paramref name="since"/> on (a group is of one day, so the days before are left whole). Each flush appends its
    /// own deltas, so a live stream's small flushes leave many rows per group until this runs.
    /// </summary>
    internal static void Compact(DuckDBConnection c, DateOnly? since = null)
    {
        var days = since is { } d ? $"WHERE day >= DATE '{d:yyyy-MM-dd}'" : "";
        Exec(c, $"""
            CREATE OR REPLACE TEMP TABLE attr_compact AS
                SELECT site, dim, day, prev_day, prev_key, key, sum(n)::BIGINT AS n FROM attribution_paths {days} GROUP BY ALL HAVING sum(n) <> 0
                ORDER BY site, dim, day;
            DELETE FROM attribution_paths {days};
            INSERT INTO attribution_paths SELECT * FROM attr_compact;
            DROP TABLE attr_compact;
            """);
    }

    /// <summary>Empties the table and fills it again from the stored sessions (for stores whose rows were written around the writer).</summary>
    internal static void Rebuild(DuckDBConnection c) => Exec(c, "DELETE FROM attribution_paths;\nINSERT INTO attribution_paths " + Contributions(affectedOnly: false) + Clustered);

    private static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}

/// <summary>
/// What the writer keeps in memory so that most batches keep <c>attribution_paths</c> without reading <c>sessions</c>:
/// for every anonymous visitor (never linked to a person, and no person's key) with a stored session start, its last
/// start (time, day and the key of each dimension). A batch's new session starts of such a visitor that all come after
/// that last start (or share its instant with a key in every dimension not below the stored ones there) only append
/// transitions: the first from the stored last start, each next from the one before (starts at one instant in the order of
/// each dimension's key, as the query orders them); the rows are counted here and appended (<see cref="Plan"/>, <see cref="AppendPlanned"/>). Every other
/// visitor of the batch (linked to a person, linked by this batch, a start before the stored last one or ordered before it)
/// goes through <see cref="AttributionPaths.Prepare"/> and <see cref="AttributionPaths.Apply"/> as
/// before, and its last start is read again afterwards. Loaded from the store at the first flush; forgotten when a
/// flush rolls back or retention runs. About 50 bytes per anonymous visitor.
/// </summary>
internal sealed class AttributionPathState
{
    [System.Runtime.CompilerServices.InlineArray(7)]
    private struct DimKeys
    {
        private int _element;
    }

    private struct Last
    {
        public long Ticks;
        public DateOnly Day;
        /// <summary>Per dimension, the key of the start that comes last in the path's order (start time, then key): with
        /// several starts at the last instant, the greatest key among them.</summary>
        public DimKeys Keys;
    }

    private readonly Dictionary<string, Dictionary<ulong, Last>> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ulong>> _linked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];
    private readonly Dictionary<(string Site, int Dim, DateOnly Day, DateOnly? PrevDay, int PrevKey, int Key), long> _planned = [];
    private readonly List<(string Site, ulong Vkey)> _refresh = [];
    // Plan's work collections, kept between batches (cleared, capacity kept) so their arrays are not allocated per batch
    private readonly HashSet<(string, ulong)> _slow = [];
    private readonly Dictionary<(string Site, ulong Vkey), List<SessionGroup>> _starts = [];
    private readonly List<DimKeys> _keyRows = [];
    private readonly List<int> _order = [];
    private bool _loaded, _stagingReady;

    /// <summary>Anonymous visitors whose last start is held.</summary>
    public int Count => _last.Values.Sum(m => m.Count);

    /// <summary>Visitors of the batches so far whose new starts were followed in memory / went through SQL.</summary>
    public long FollowedInMemory { get; private set; }

    /// <summary>See <see cref="FollowedInMemory"/>.</summary>
    public long Recomputed { get; private set; }

    public void Reset()
    {
        _loaded = false;
        _last.Clear();
        _linked.Clear();
        _ids.Clear();
        _values.Clear();
        _planned.Clear();
        _refresh.Clear();
    }

    private int Id(string value)
    {
        if (!_ids.TryGetValue(value, out var id))
        {
            id = _values.Count;
            _values.Add(value);
            _ids[value] = id;
        }
        return id;
    }

    /// <summary>The key of each dimension of a sessions row, as <see cref="AttributionQueries.Dimensions"/> computes it.</summary>
    private void KeysOf(TouchpointRow f, ref DimKeys keys)
    {
        keys[0] = Id(f.Channel ?? "(not set)");
        keys[1] = Id(f.Source is null && f.Medium is null
            ? f.Channel == "Direct" ? "(direct) / (none)" : "(not set)"
            : (f.Source ?? "(not set)") + " / " + (f.Medium ?? "(not set)"));
        keys[2] = Id(f.UtmCampaign ?? "(not set)");
        keys[3] = Id(f.Term ?? "(not set)");
        keys[4] = Id(f.UtmContent ?? "(not set)");
        keys[5] = Id(f.LandingPage ?? "(not set)");
        keys[6] = Id(f.ClickPlatform ?? "(not set)");
    }

    // the last stored session starts of each anonymous visitor (every start at the last instant) and their keys
    private static string LastStartsSql(string filter) => $"""
        SELECT s.site, s.vkey, s.start_ts, s.day,
               s.channel, s.source, s.medium, s.campaign, s.term, s.content, s.landing_page, s.click_platform
        FROM sessions s {filter}
        ANTI JOIN (SELECT site, vkey AS k FROM person_visitors UNION SELECT site, pkey FROM person_visitors) l ON l.site = s.site AND l.k = s.vkey
        WHERE s.starts = 1
        QUALIFY rank() OVER (PARTITION BY s.site, s.vkey ORDER BY s.start_ts DESC) = 1
        """;

    private void ReadLastStarts(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var row = new TouchpointRow { Site = "", EventId = "", Visitor = "", SessionId = "", JourneyId = "", Reasons = [] };
        while (r.Read())
        {
            var site = r.GetString(0);
            string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            row.Channel = S(4);
            row.Source = S(5);
            row.Medium = S(6);
            row.UtmCampaign = S(7);
            row.Term = S(8);
            row.UtmContent = S(9);
            row.LandingPage = S(10);
            row.ClickPlatform = S(11);
            var last = new Last
            {
                Ticks = r.GetDateTime(2).Ticks,
                Day = r.GetFieldValue<DateOnly>(3),
            };
            KeysOf(row, ref last.Keys);
            var map = LastOf(site);
            var vkey = r.GetFieldValue<ulong>(1);
            // the caller removed the visitors read (or read all), so an entry at the same instant is a start tied with this one:
            // per dimension the path orders them by key, and the greatest comes last
            if (map.TryGetValue(vkey, out var tied) && tied.Ticks == last.Ticks)
            {
                for (var d = 0; d < 7; d++)
                {
                    if (CompareKeys(_values[tied.Keys[d]], _values[last.Keys[d]]) > 0)
                    {
                        last.Keys[d] = tied.Keys[d];
                    }
                }
            }
            map[vkey] = last;
        }
    }

    private Dictionary<ulong, Last> LastOf(string site)
    {
        if (!_last.TryGetValue(site, out var map))
        {
            _last[site] = map = [];
        }
        return map;
    }

    private HashSet<ulong> LinkedOf(string site)
    {
        if (!_linked.TryGetValue(site, out var set))
        {
            _linked[site] = set = [];
        }
        return set;
    }

    private void Load(DuckDBConnection c)
    {
        if (_loaded)
        {
            return;
        }
        Reset();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT site, vkey, pkey FROM person_visitors";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var set = LinkedOf(r.GetString(0));
                set.Add(r.GetFieldValue<ulong>(1));
                set.Add(r.GetFieldValue<ulong>(2));
            }
        }
        ReadLastStarts(c, LastStartsSql(""));
        _loaded = true;
    }

    /// <summary>
    /// Before the batch is appended (inside its transaction): counts the transitions of the anonymous visitors' new starts
    /// that follow their stored last start, and returns the path visitors left for <see cref="AttributionPaths.Prepare"/>.
    /// </summary>
    public List<(string Site, ulong Vkey, ulong? Pkey, DateTime? Ts)> Plan(DuckDBConnection c, List<TouchpointRow> tps, List<SessionGroup> sessions)
    {
        Load(c);
        _planned.Clear();
        _refresh.Clear();
        // visitors the slow way: linked to a person (stored or by this batch), or a person's key
        var slow = _slow;
        slow.Clear();
        foreach (var t in tps)
        {
            if (t.Pkey is { } p)
            {
                slow.Add((t.Site, t.Vkey));
                slow.Add((t.Site, p));
            }
        }
        var starts = _starts;
        starts.Clear();
        foreach (var g in sessions)
        {
            if (!g.Starts)
            {
                continue;
            }
            var k = (g.First.Site, g.First.Vkey);
            if (slow.Contains(k) || (_linked.TryGetValue(k.Site, out var linked) && linked.Contains(k.Vkey)))
            {
                Recomputed++;
                slow.Add(k);
                continue;
            }
            if (!starts.TryGetValue(k, out var list))
            {
                starts[k] = list = [];
            }
            list.Add(g);
        }
        var keys = new DimKeys();
        var keyRows = _keyRows;
        var order = _order;
        foreach (var ((site, vkey), list) in starts)
        {
            list.Sort((a, b) => a.First.Ts.CompareTo(b.First.Ts));
            var map = LastOf(site);
            var has = map.TryGetValue(vkey, out var last);
            var tied = false;
            var follows = !has || list[0].First.Ts.Ticks >= last.Ticks;
            keyRows.Clear();
            for (var i = 0; follows && i < list.Count; i++)
            {
                tied |= i > 0 && list[i].First.Ts == list[i - 1].First.Ts;
                KeysOf(list[i].First, ref keys);
                keyRows.Add(keys);
                // a start at the stored last instant comes after the stored ones there only if, in every dimension, its key is
                // not below theirs (the greatest is held); otherwise it would change a stored transition
                for (var d = 0; has && d < 7 && list[i].First.Ts.Ticks == last.Ticks; d++)
                {
                    follows = CompareKeys(_values[keys[d]], _values[last.Keys[d]]) >= 0;
                    if (!follows)
                    {
                        break;
                    }
                }
            }
            if (!follows)
            {
                // a start before the stored last one (or at its instant, ordered before it) changes stored transitions: the slow way
                Recomputed++;
                slow.Add((site, vkey));
                _refresh.Add((site, vkey));
                continue;
            }
            var next = new Last { Ticks = list[^1].First.Ts.Ticks, Day = list[^1].First.Day };
            order.Clear();
            for (var i = 0; i < list.Count; i++)
            {
                order.Add(i); // time order; only starts at one instant are reordered per dimension below
            }
            for (var d = 0; d < 7; d++)
            {
                if (tied)
                {
                    // starts at one instant follow each other in the order of this dimension's key (the query's ORDER BY
                    // start_ts, key); starts equal in both give the same rows in either order
                    var dim = d;
                    order.Sort((a, b) =>
                    {
                        var byTime = list[a].First.Ts.CompareTo(list[b].First.Ts);
                        return byTime != 0 ? byTime : CompareKeys(_values[keyRows[a][dim]], _values[keyRows[b][dim]]);
                    });
                }
                DateOnly? prevDay = has ? last.Day : null;
                var prevKey = has ? last.Keys[d] : -1;
                foreach (var i in order)
                {
                    var f = list[i].First;
                    var key = keyRows[i][d];
                    var k = (site, d, f.Day, prevDay, prevKey, key);
                    _planned[k] = _planned.GetValueOrDefault(k) + 1;
                    prevDay = f.Day;
                    prevKey = key;
                }
                next.Keys[d] = prevKey;
            }
            map[vkey] = next;
            FollowedInMemory++;
        }
        // the slow visitors' path rows: every start of theirs, and every link to a person
        var rest = new List<(string, ulong, ulong?, DateTime?)>();
        foreach (var t in tps)
        {
            var start = string.Equals(t.EventId, t.SessionId, StringComparison.Ordinal);
            if ((start || t.Pkey is not null) && slow.Contains((t.Site, t.Vkey)))
            {
                rest.Add((t.Site, t.Vkey, t.Pkey, start ? t.Ts : null));
            }
        }
        foreach (var t in tps)
        {
            if (t.Pkey is { } p)
            {
                var set = LinkedOf(t.Site);
                set.Add(t.Vkey);
                set.Add(p);
                LastOf(t.Site).Remove(t.Vkey);
                LastOf(t.Site).Remove(p);
            }
        }
        starts.Clear(); // let the batch's rows go
        slow.Clear();
        return rest;
    }

    /// <summary>
    /// After the batch is appended (same transaction): appends the counted rows to <c>attribution_paths</c>, and reads again
    /// the last start of the anonymous visitors that went the slow way.
    /// </summary>
    public void AppendPlanned(DuckDBConnection c)
    {
        if (!_stagingReady)
        {
            Exec(c, "CREATE OR REPLACE TEMP TABLE attr_refresh (site VARCHAR, vkey UBIGINT);");
            _stagingReady = true;
        }
        if (_planned.Count > 0)
        {
            // straight into the table (the appender joins the flush's transaction); no previous start: prev_day = -infinity
            using (var app = c.CreateAppender("attribution_paths"))
            {
                foreach (var ((site, dim, day, prevDay, prevKey, key), n) in _planned)
                {
                    var row = app.CreateRow().AppendValue(site).AppendValue((byte)dim).AppendValue(day);
                    row = prevDay is { } pd ? row.AppendValue(pd) : row.AppendValue(DuckDB.NET.Native.DuckDBDateOnly.NegativeInfinity);
                    row.AppendValue(prevKey < 0 ? "" : _values[prevKey]).AppendValue(_values[key]).AppendValue(n).EndRow();
                }
            }
            _planned.Clear();
        }
        if (_refresh.Count > 0)
        {
            using (var app = c.CreateAppender("attr_refresh"))
            {
                foreach (var (site, vkey) in _refresh)
                {
                    app.CreateRow().AppendValue(site).AppendValue(vkey).EndRow();
                    LastOf(site).Remove(vkey);
                }
            }
            ReadLastStarts(c, LastStartsSql("SEMI JOIN attr_refresh f ON f.site = s.site AND f.vkey = s.vkey"));
            Exec(c, "DELETE FROM attr_refresh");
            _refresh.Clear();
        }
    }

    /// <summary>
    /// Orders two keys as DuckDB orders VARCHAR values (byte by byte in UTF-8, which is code point order): UTF-16 code units
    /// compare in that order except that surrogates (U+D800-U+DFFF, the halves of code points above U+FFFF) must come after
    /// U+E000-U+FFFF.
    /// </summary>
    internal static int CompareKeys(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return CodePointOrder(a[i]) - CodePointOrder(b[i]);
            }
        }
        return a.Length - b.Length;
    }

    private static int CodePointOrder(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;

    private static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
