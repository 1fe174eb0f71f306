using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// Serialises a touchpoint into the JSON of a buffer entry (and of the Kafka message). One writer and one growing
/// buffer per thread are reused, so a touchpoint costs one array of exactly its size. Strings are escaped only as
/// JSON requires (quotes, backslashes, control characters, lone surrogates): the entry is never embedded in HTML,
/// so <c>&amp;</c>, <c>&lt;</c>, <c>+</c> and non-ASCII text stay as they are, which keeps URLs and titles short
/// and the writer off its escaping path. Any JSON reader reads the same values.
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

    public static byte[] Serialize(Touchpoint tp)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, Options);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            JsonSerializer.Serialize(writer, tp, ContractsJsonContext.Default.Touchpoint);
            writer.Flush();
            var bytes = buffer.WrittenSpan.ToArray();
            if (buffer.Capacity > 64 * 1024)
            {
                // One very large touchpoint must not keep its buffer alive on this thread.
                t_buffer = null;
                t_writer = null;
            }
            return bytes;
        }
        catch
        {
            t_buffer = null;
            t_writer = null;
            throw;
        }
    }
}
