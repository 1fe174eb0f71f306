using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The <c>visitor_days</c> roll-up the aggregate views read: the <c>sessions</c> roll-up again, narrowed to integers.
/// Each visitor has a dense number per site (<c>visitors.vid</c>, 1, 2, 3 ... in order of first appearance) and
/// each value of the 13 breakdown dimensions a small id per dimension (<c>dim_values</c>), so the per-visitor
/// grouping the exact distinct counts need runs on small integers: grouped by <c>vid</c> alone DuckDB uses its
/// perfect hash aggregate (an array indexed by the number), and a (dimension id, vid) pair packs into one word.
/// One row per <c>sessions</c> row (a session per writer batch), so both roll-ups hold the same sessions; a
/// dimension id of 0 means no value (NULL in <c>sessions</c>).
/// <para>
/// The writer keeps the visitor numbers and dimension ids in memory (loaded from the store at its first flush,
/// about 25 bytes per visitor), assigns new ones inside the flush transaction and forgets them all when a flush
/// rolls back or retention deletes visitors (they are read again at the next flush).
/// </para>
/// </summary>
internal sealed class VisitorDays
{
    /// <summary>The dimensions with an id column, in the order of their <c>dim_values.dim</c> number (never reorder).</summary>
    internal static readonly string[] Dimensions =
        ["channel", "source", "medium", "campaign", "term", "content", "click_platform", "landing_page", "referrer_host", "device", "browser", "os", "country"];

    /// <summary>The number of a dimension in <c>dim_values.dim</c>.</summary>
    internal static int DimensionNumber(string dimension)
    {
        var i = Array.IndexOf(Dimensions, dimension);
        return i >= 0 ? i : throw new ArgumentException($"No dimension '{dimension}' in visitor_days.", nameof(dimension));
    }

    /// <summary>The id column of a dimension in <c>visitor_days</c>.</summary>
    internal static string IdColumn(string dimension) => Dimensions[DimensionNumber(dimension)] + "_id";

    /// <summary>
    /// Schema step 4: <c>visitors.vid</c> (numbered per site in order of first appearance), <c>dim_values</c> from the
    /// values in <c>sessions</c>, and <c>visitor_days</c> from <c>sessions</c> (how an existing store upgrades).
    /// </summary>
    internal static readonly string MigrationStep = $"""
        ALTER TABLE visitors ADD COLUMN vid UINTEGER;
        UPDATE visitors SET vid = n.vid
        FROM (SELECT site, vkey, row_number() OVER (PARTITION BY site ORDER BY first_ts, vkey) AS vid FROM visitors) n
        WHERE visitors.site = n.site AND visitors.vkey = n.vkey;
        CREATE TABLE dim_values (
            dim UTINYINT NOT NULL,
            id UINTEGER NOT NULL,
            value VARCHAR NOT NULL
        );
        INSERT INTO dim_values
        SELECT dim, row_number() OVER (PARTITION BY dim ORDER BY value), value FROM (
            {string.Join("\n    UNION ALL ", Dimensions.Select((d, i) => $"SELECT DISTINCT {i}::UTINYINT AS dim, {d} AS value FROM sessions WHERE {d} IS NOT NULL"))});
        CREATE TABLE visitor_days (
            site VARCHAR NOT NULL,
            day DATE NOT NULL,
            vid UINTEGER NOT NULL,
            sessions INTEGER NOT NULL,
            touches INTEGER NOT NULL,
            max_rank UTINYINT NOT NULL,
            entered UTINYINT NOT NULL,
            {string.Join(",\n    ", Dimensions.Select(d => $"{d}_id UINTEGER NOT NULL"))}
        );
        {InsertFromSessions("true")};
        """;

    /// <summary>visitor_days rows for the sessions rows matching <paramref name="where"/> (over <c>sessions s</c>), in time order.</summary>
    internal static string InsertFromSessions(string where) => $"""
        INSERT INTO visitor_days
        SELECT s.site, s.day, v.vid, s.starts, s.touches, s.max_rank, s.entered,
               {string.Join(", ", Dimensions.Select((d, i) => $"coalesce(d{i}.id, 0)"))}
        FROM sessions s JOIN visitors v ON v.site = s.site AND v.vkey = s.vkey
        {string.Join("\n", Dimensions.Select((d, i) => $"LEFT JOIN dim_values d{i} ON d{i}.dim = {i} AND d{i}.value = s.{d}"))}
        WHERE {where}
        ORDER BY s.day, s.start_ts
        """;

    private readonly Dictionary<string, Dictionary<ulong, uint>> _vids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, uint> _lastVid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, uint>[] _ids = [.. Dimensions.Select(_ => new Dictionary<string, uint>(StringComparer.Ordinal))];
    private readonly uint[] _lastId = new uint[Dimensions.Length];
    private bool _loaded;

    /// <summary>Forgets the numbers held in memory: the next flush reads them from the store again.</summary>
    public void Reset()
    {
        _loaded = false;
        _vids.Clear();
        _lastVid.Clear();
        foreach (var d in _ids)
        {
            d.Clear();
        }
        Array.Clear(_lastId);
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
            cmd.CommandText = "SELECT site, vkey, vid FROM visitors ORDER BY site";
            using var r = cmd.ExecuteReader();
            string? site = null;
            Dictionary<ulong, uint>? map = null;
            uint last = 0;
            while (r.Read())
            {
                var s = r.GetString(0);
                if (s != site)
                {
                    if (site is not null)
                    {
                        _lastVid[site] = last;
                    }
                    site = s;
                    map = new Dictionary<ulong, uint>();
                    _vids[s] = map;
                    last = 0;
                }
                var vid = r.GetFieldValue<uint>(2);
                map![r.GetFieldValue<ulong>(1)] = vid;
                last = Math.Max(last, vid);
            }
            if (site is not null)
            {
                _lastVid[site] = last;
            }
        }
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT dim, id, value FROM dim_values";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var dim = r.GetFieldValue<byte>(0);
                var id = r.GetFieldValue<uint>(1);
                _ids[dim][r.GetString(2)] = id;
                _lastId[dim] = Math.Max(_lastId[dim], id);
            }
        }
        _loaded = true;
    }

    /// <summary>The number of a stored visitor (or one appended in the current flush); false when the site has no such visitor.</summary>
    public bool TryGetVid(DuckDBConnection c, string site, ulong vkey, out uint vid)
    {
        Load(c);
        vid = 0;
        return _vids.TryGetValue(site, out var map) && map.TryGetValue(vkey, out vid);
    }

    /// <summary>
    /// Appends the visitors not stored yet, each with its new number (replaces an anti-join of the batch against the
    /// whole <c>visitors</c> table). Runs inside the flush transaction.
    /// </summary>
    public void AppendNewVisitors(DuckDBConnection c, Dictionary<(string Site, ulong Vkey), (string Visitor, DateTime Ts)> firstSeen)
    {
        Load(c);
        using var app = c.CreateAppender("visitors");
        foreach (var ((site, vkey), (visitor, ts)) in firstSeen)
        {
            if (!_vids.TryGetValue(site, out var map))
            {
                _vids[site] = map = new Dictionary<ulong, uint>();
            }
            if (map.ContainsKey(vkey))
            {
                continue;
            }
            var vid = _lastVid.GetValueOrDefault(site) + 1;
            _lastVid[site] = vid;
            map[vkey] = vid;
            app.CreateRow().AppendValue(site).AppendValue(vkey).AppendValue(visitor).AppendValue(ts).AppendValue(vid).EndRow();
        }
    }

    /// <summary>One visitor_days row per sessions row of the batch (after <see cref="AppendNewVisitors"/>, in the same transaction).</summary>
    public void Append(DuckDBConnection c, IReadOnlyList<SessionGroup> sessions)
    {
        Load(c);
        var newValues = new List<(int Dim, uint Id, string Value)>();
        uint Id(int dim, string? value)
        {
            if (value is null)
            {
                return 0;
            }
            if (!_ids[dim].TryGetValue(value, out var id))
            {
                id = ++_lastId[dim];
                _ids[dim][value] = id;
                newValues.Add((dim, id, value));
            }
            return id;
        }
        using (var app = c.CreateAppender("visitor_days"))
        {
            foreach (var g in sessions)
            {
                var f = g.First;
                var vid = _vids[f.Site][f.Vkey];
                app.CreateRow()
                    .AppendValue(f.Site).AppendValue(f.Day).AppendValue(vid).AppendValue(g.Starts ? 1 : 0).AppendValue(g.Touches)
                    .AppendValue((byte)g.Rank).AppendValue((byte)g.Entered)
                    .AppendValue(Id(0, f.Channel)).AppendValue(Id(1, f.Source)).AppendValue(Id(2, f.Medium)).AppendValue(Id(3, f.UtmCampaign))
                    .AppendValue(Id(4, f.Term)).AppendValue(Id(5, f.UtmContent)).AppendValue(Id(6, f.ClickPlatform)).AppendValue(Id(7, f.LandingPage))
                    .AppendValue(Id(8, f.SessionReferrerHost)).AppendValue(Id(9, f.Device)).AppendValue(Id(10, f.Browser)).AppendValue(Id(11, f.Os))
                    .AppendValue(Id(12, f.Country))
                    .EndRow();
            }
        }
        if (newValues.Count > 0)
        {
            using var app = c.CreateAppender("dim_values");
            foreach (var (dim, id, value) in newValues)
            {
                app.CreateRow().AppendValue((byte)dim).AppendValue(id).AppendValue(value).EndRow();
            }
        }
    }

    /// <summary>
    /// Retention deleted the sessions rows that ended before <paramref name="cutoff"/>: the visitor_days rows of every day
    /// such a row can belong to (up to a day after the cutoff's UTC date, for zones ahead of UTC) are deleted and
    /// rebuilt from the sessions rows left, so both roll-ups keep holding the same sessions.
    /// </summary>
    internal static void ApplyRetention(DuckDBConnection c, DateTime cutoff, Func<DuckDBConnection, string, (string, object?)[], int> exec)
    {
        var lastDay = DateOnly.FromDateTime(cutoff).AddDays(1);
        exec(c, "DELETE FROM visitor_days WHERE day <= $last_day", [("last_day", lastDay)]);
        exec(c, InsertFromSessions("s.day <= $last_day"), [("last_day", lastDay)]);
    }
}

/// <summary>The rows of one session in one writer batch: its traffic source from its earliest touch in the batch.</summary>
internal readonly record struct SessionGroup(TouchpointRow First, DateTime End, int Touches, int Rank, int Entered, bool Starts);
