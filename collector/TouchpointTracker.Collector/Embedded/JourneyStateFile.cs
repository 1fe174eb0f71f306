using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TouchpointTracker.Journeys;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// The embedded mode's journey state on disk, so journeys survive a restart: an append-only file of records, the
/// last record of a visitor wins. The processing loop appends the states it changed every
/// <c>Analytics:FlushIntervalMs</c> and flushes them to the disk, so a SIGKILL loses at most that interval; at
/// start-up the file is read and rewritten with one record per visitor, and it is rewritten again whenever it holds
/// four times more records than visitors.
/// <para>
/// Format: the 8 bytes <c>TTJSTATE</c>, the format byte 1, then records: a 4-byte little-endian length, the site and
/// the visitor (each a 2-byte length and UTF-8), and the state as <see cref="JourneyStateCodec"/> encodes it (the
/// encoding the processor stores in Redis). A record cut by a crash ends the reading; a state that does not decode
/// is skipped.
/// </para>
/// <para>
/// Migration: the former file of JSON lines (<c>{"s":site,"v":visitor,"j":state}</c>, <c>journeys.jsonl</c>), when
/// there is no state file yet, is read at start-up, written as a state file, and removed.
/// </para>
/// Used by one loop only (not thread-safe).
/// </summary>
public sealed class JourneyStateFile : IDisposable
{
    private static readonly byte[] Magic = "TTJSTATE"u8.ToArray();
    private const byte Format = 1;
    private const int MaxRecord = 64 << 20;

    private readonly string _path;
    private readonly string? _legacyJsonPath;
    private readonly ArrayBufferWriter<byte> _record = new(4096);
    private byte[] _buffer = new byte[4096];
    private FileStream? _log;
    private long _lines;

    /// <param name="path">The state file.</param>
    /// <param name="legacyJsonPath">The former JSON-lines file to migrate from, if any.</param>
    public JourneyStateFile(string path, string? legacyJsonPath = null)
    {
        _path = Path.GetFullPath(path);
        _legacyJsonPath = legacyJsonPath is null ? null : Path.GetFullPath(legacyJsonPath);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
    }

    public string FilePath => _path;

    /// <summary>States read back by the last <see cref="Load"/> from the former JSON file (0 when there was none).</summary>
    public int Migrated { get; private set; }

    /// <summary>Reads the file (a record cut by a crash is skipped) and rewrites it compacted.</summary>
    public Dictionary<(string Site, string Visitor), JourneyState> Load()
    {
        var states = new Dictionary<(string, string), JourneyState>();
        Migrated = 0;
        if (File.Exists(_path))
        {
            ReadRecords(states);
        }
        else if (_legacyJsonPath is not null && File.Exists(_legacyJsonPath))
        {
            foreach (var line in File.ReadLines(_legacyJsonPath, Encoding.UTF8))
            {
                if (ParseJsonLine(line) is { } entry)
                {
                    states[(entry.Site, entry.Visitor)] = entry.State;
                }
            }
            Migrated = states.Count;
        }
        Rewrite(states.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)));
        if (_legacyJsonPath is not null && File.Exists(_legacyJsonPath))
        {
            File.Delete(_legacyJsonPath); // its states are in the state file now
        }
        return states;
    }

    /// <summary>Appends the given states and flushes them to the disk.</summary>
    public void Append(IEnumerable<(string Site, string Visitor, JourneyState State)> changed, int liveCount, Func<IEnumerable<(string, string, JourneyState)>> all)
    {
        var log = _log ??= Open(FileMode.Append);
        foreach (var (site, visitor, state) in changed)
        {
            WriteRecord(log, site, visitor, state);
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
            file.Write(Magic);
            file.WriteByte(Format);
            foreach (var (site, visitor, state) in states)
            {
                WriteRecord(file, site, visitor, state);
                lines++;
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
        _lines = lines;
    }

    private FileStream Open(FileMode mode) => new(_path, mode, FileAccess.Write, FileShare.Read, 1 << 16);

    /// <summary>One record into a reused buffer, then one write to the file.</summary>
    private void WriteRecord(Stream stream, string site, string visitor, JourneyState state)
    {
        _record.ResetWrittenCount();
        JourneyStateCodec.Encode(state, _record);
        var siteBytes = Encoding.UTF8.GetByteCount(site);
        var visitorBytes = Encoding.UTF8.GetByteCount(visitor);
        if (siteBytes > ushort.MaxValue || visitorBytes > ushort.MaxValue)
        {
            throw new ArgumentException("a site or visitor id too long to store");
        }
        var length = 2 + siteBytes + 2 + visitorBytes + _record.WrittenCount;
        if (_buffer.Length < 4 + length)
        {
            _buffer = new byte[Math.Max(4 + length, _buffer.Length * 2)];
        }
        var span = _buffer.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)siteBytes);
        var at = 6 + Encoding.UTF8.GetBytes(site, span[6..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)visitorBytes);
        at += 2;
        at += Encoding.UTF8.GetBytes(visitor, span[at..]);
        _record.WrittenSpan.CopyTo(span[at..]);
        at += _record.WrittenCount;
        stream.Write(_buffer, 0, at);
    }

    private void ReadRecords(Dictionary<(string, string), JourneyState> states)
    {
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> head = stackalloc byte[Magic.Length + 1];
        if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length || !head[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{_path} is not a journey state file");
        }
        if (head[^1] != Format)
        {
            throw new InvalidDataException($"{_path} is a journey state file of format {head[^1]}, which this version does not read");
        }
        Span<byte> lengthBytes = stackalloc byte[4];
        var buffer = new byte[4096];
        while (file.ReadAtLeast(lengthBytes, 4, throwOnEndOfStream: false) == 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
            if (length is < 4 or > MaxRecord)
            {
                return; // not a record: the tail of an interrupted write
            }
            if (buffer.Length < length)
            {
                buffer = new byte[Math.Max(length, buffer.Length * 2)];
            }
            if (file.ReadAtLeast(buffer.AsSpan(0, length), length, throwOnEndOfStream: false) < length)
            {
                return; // cut by a crash
            }
            if (ParseRecord(buffer.AsSpan(0, length)) is { } entry)
            {
                states[(entry.Site, entry.Visitor)] = entry.State;
            }
        }
    }

    private static (string Site, string Visitor, JourneyState State)? ParseRecord(ReadOnlySpan<byte> record)
    {
        try
        {
            var site = ReadText(ref record);
            var visitor = ReadText(ref record);
            return (site, visitor, JourneyStateCodec.Decode(record));
        }
        catch (InvalidDataException)
        {
            return null;
        }

        static string ReadText(ref ReadOnlySpan<byte> span)
        {
            if (span.Length < 2)
            {
                throw new InvalidDataException("record cut short");
            }
            var n = BinaryPrimitives.ReadUInt16LittleEndian(span);
            if (span.Length < 2 + n)
            {
                throw new InvalidDataException("record cut short");
            }
            var text = Encoding.UTF8.GetString(span.Slice(2, n));
            span = span[(2 + n)..];
            return text;
        }
    }

    private static (string Site, string Visitor, JourneyState State)? ParseJsonLine(string line)
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
        _log?.Dispose();
        _log = null;
    }
}
