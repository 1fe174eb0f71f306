using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The analytics database: one DuckDB file, opened (and created, and migrated) once per process.
/// One connection writes (<see cref="AnalyticsWriter"/> owns it through <see cref="WriteConnection"/>);
/// readers open their own with <see cref="OpenReadConnection"/>. DuckDB.NET shares one database instance
/// between all connections to the same file in a process, and DuckDB's MVCC lets those readers run
/// while the writer commits: a reader sees the rows committed before its query started.
/// </summary>
public sealed class AnalyticsStore : IDisposable
{
    private readonly DuckDBConnection _write;

    public AnalyticsStore(AnalyticsOptions options)
    {
        Options = options;
        var full = System.IO.Path.GetFullPath(options.Path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        FilePath = full;
        ConnectionString = $"Data Source={full}";
        _write = new DuckDBConnection(ConnectionString);
        _write.Open();
        SchemaVersion = Migrations.Apply(_write);
        using (var cmd = _write.CreateCommand())
        {
            // an int from validated options: no quoting concern
            cmd.CommandText = $"SET checkpoint_threshold = '{options.CheckpointWalMb}MiB'";
            cmd.ExecuteNonQuery();
        }
    }

    public AnalyticsOptions Options { get; }

    /// <summary>Absolute path of the DuckDB file (print it in the start-up banner).</summary>
    public string FilePath { get; }

    public string ConnectionString { get; }

    /// <summary>The schema version after the migrations ran at open.</summary>
    public int SchemaVersion { get; }

    /// <summary>The single write connection. Only <see cref="AnalyticsWriter"/> uses it, from its own loop.</summary>
    internal DuckDBConnection WriteConnection => _write;

    /// <summary>A new connection for queries (dispose it after use). Safe to use while the writer writes.</summary>
    public DuckDBConnection OpenReadConnection()
    {
        var c = new DuckDBConnection(ConnectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = ReadSettings;
        cmd.ExecuteNonQuery();
        return c;
    }

    /// <summary>
    /// Settings of a read connection: DuckDB groups by integers whose range fits in this many bits with a perfect hash
    /// aggregate (an array instead of a hash table; 2^21 entries per thread at most, a few tens of MB). The aggregate
    /// views group by visitor number (<c>visitor_days.vid</c>), so up to ~2 million visitors in the store take that path;
    /// beyond, DuckDB uses its ordinary hash aggregate (same answers, slower).
    /// </summary>
    private const string ReadSettings = "SET perfect_ht_threshold = 21";

    /// <summary>Bytes of the database file and its write-ahead log.</summary>
    public long FileBytes()
    {
        long n = 0;
        foreach (var f in new[] { FilePath, FilePath + ".wal" })
        {
            if (File.Exists(f))
            {
                n += new FileInfo(f).Length;
            }
        }
        return n;
    }

    /// <summary>Writes the WAL into the main file. The writer calls it on dispose; callers need not.</summary>
    internal void Checkpoint()
    {
        using var cmd = _write.CreateCommand();
        cmd.CommandText = "CHECKPOINT";
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _write.Dispose();
}
