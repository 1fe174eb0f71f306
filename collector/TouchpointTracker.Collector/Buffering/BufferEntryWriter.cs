using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// Serialises a touchpoint into the JSON of a buffer entry (and of the Kafka message). One writer and one growing
/// buffer per thread are reused, so a touchpoint costs one array of exactly its size. Strings are escaped only as
/// JSON requires (quotes, backslashes, control characters, lone surrogates): the entry is never embedded in HTML,
/// so <c>&amp;</c>, <c>&lt;</c>, <c>+</c> and non-ASCII text stay as they are, which keeps URLs and titles short
/// and the writer off its escaping path. Any JSON reader reads the same values. The buffer's append path takes the
/// entry in an array rented from the shared pool (<see cref="SerializePooled"/>) and returns it once Redis has answered
/// the call that carried it, so an entry costs no allocation there.
/// </summary>
public static class BufferEntryWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static byte[] Serialize(Touchpoint tp) => Write(tp).ToArray();

    /// <summary>
    /// The entry in an array rented from <see cref="ArrayPool{T}.Shared"/> (longer than the entry); give it back with
    /// <see cref="Return"/> once nothing reads it any more, or let the collector have it when that moment is unclear.
    /// </summary>
    public static ReadOnlyMemory<byte> SerializePooled(Touchpoint tp)
    {
        var written = Write(tp);
        var array = ArrayPool<byte>.Shared.Rent(written.Length);
        written.CopyTo(array);
        return new ReadOnlyMemory<byte>(array, 0, written.Length);
    }

    /// <summary>Gives an entry of <see cref="SerializePooled"/> back to the pool.</summary>
    public static void Return(ReadOnlyMemory<byte> entry)
    {
        if (MemoryMarshal.TryGetArray(entry, out var segment) && segment.Array is { Length: > 0 } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>Serialises into this thread's buffer; the span is valid until the next call on this thread.</summary>
    private static ReadOnlySpan<byte> Write(Touchpoint tp)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, Options);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            JsonSerializer.Serialize(writer, tp, ContractsJsonContext.Default.Touchpoint);
            writer.Flush();
            if (buffer.Capacity > 64 * 1024)
            {
                // One very large touchpoint must not keep its buffer alive on this thread (the span stays valid: the
                // buffer is only dropped, not reused).
                t_buffer = null;
                t_writer = null;
            }
            return buffer.WrittenSpan;
        }
        catch
        {
            t_buffer = null;
            t_writer = null;
            throw;
        }
    }
}
