using System.Buffers;
using System.Text;
using System.Text.Json;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's journey state on disk, so journeys survive a restart: an append-only file of JSON
/// lines (<c>{"s":site,"v":visitor,"j":state}</c>), the last line of a visitor wins. The processing loop
/// appends the states it changed every <c>Analytics:FlushIntervalMs</c> and flushes them to the disk, so a
/// SIGKILL loses at most that interval; at start-up the file is read and rewritten with one line per
/// visitor, and it is rewritten again whenever it holds four times more lines than visitors.
/// Used by one loop only (not thread-safe).
/// </summary>
public sealed class JourneyStateFile : IDisposable
{
    private static readonly byte[] Newline = "\n"u8.ToArray();
    private readonly string _path;
    private readonly ArrayBufferWriter<byte> _line = new(4096);
    private Utf8JsonWriter? _json;
    private FileStream? _log;
    private long _lines;

    public JourneyStateFile(string path)
    {
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
    }

    public string FilePath => _path;

    /// <summary>Reads the file (an unreadable last line, cut by a crash, is skipped) and rewrites it compacted.</summary>
    public Dictionary<(string Site, string Visitor), JourneyState> Load()
    {
        var states = new Dictionary<(string, string), JourneyState>();
        if (File.Exists(_path))
        {
            foreach (var line in File.ReadLines(_path, Encoding.UTF8))
            {
                if (Parse(line) is { } entry)
                {
                    states[(entry.Site, entry.Visitor)] = entry.State;
                }
            }
        }
        Rewrite(states.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)));
        return states;
    }

    /// <summary>Appends the given states and flushes them to the disk.</summary>
    public void Append(IEnumerable<(string Site, string Visitor, JourneyState State)> changed, int liveCount, Func<IEnumerable<(string, string, JourneyState)>> all)
    {
        var log = _log ??= Open(FileMode.Append);
        foreach (var (site, visitor, state) in changed)
        {
            WriteLine(log, site, visitor, state);
            _lines++;
        }
        log.Flush(flushToDisk: true);
        if (_lines > 4L * Math.Max(liveCount, 1024))
        {
            Rewrite(all());
        }
    }

    private void Rewrite(IEnumerable<(string Site, string Visitor, JourneyState State)> states)
    {
        _log?.Dispose();
        _log = null;
        var temp = _path + ".tmp";
        long lines = 0;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            foreach (var (site, visitor, state) in states)
            {
                WriteLine(file, site, visitor, state);
                lines++;
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
        _lines = lines;
    }

    private FileStream Open(FileMode mode) => new(_path, mode, FileAccess.Write, FileShare.Read, 1 << 16);

    /// <summary>One line into a reused buffer, then one write to the file: no writer or flush per line.</summary>
    private void WriteLine(Stream stream, string site, string visitor, JourneyState state)
    {
        _line.ResetWrittenCount();
        var json = _json ??= new Utf8JsonWriter(_line);
        json.Reset(_line);
        json.WriteStartObject();
        json.WriteString("s", site);
        json.WriteString("v", visitor);
        json.WritePropertyName("j");
        JsonSerializer.Serialize(json, state, JourneysJsonContext.Default.JourneyState);
        json.WriteEndObject();
        json.Flush();
        _line.Write(Newline);
        stream.Write(_line.WrittenSpan);
    }

    private static (string Site, string Visitor, JourneyState State)? Parse(string line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var site = root.GetProperty("s").GetString();
            var visitor = root.GetProperty("v").GetString();
            var state = root.GetProperty("j").Deserialize(JourneysJsonContext.Default.JourneyState);
            return site is null || visitor is null || state is null ? null : (site, visitor, state);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null; // a line cut by a crash
        }
    }

    public void Dispose()
    {
        _json?.Dispose();
        _log?.Dispose();
        _log = null;
    }
}
