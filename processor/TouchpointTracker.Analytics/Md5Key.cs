using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace TouchpointTracker.Analytics;

/// <summary>
/// The low 64 bits of an id's MD5 (RFC 1321), as DuckDB's <c>md5_number_lower</c> computes them, without going through
/// the platform's crypto library: ids are short (one or two 64-byte blocks), and per call the library's context set-up
/// and error-queue clearing cost more than the digest itself. Not for security: a stable key.
/// </summary>
internal static class Md5Key
{
    private static readonly int[] Shifts =
    [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];

    // K[i] = floor(|sin(i + 1)| * 2^32); a test compares the digests with the platform's MD5
    private static readonly uint[] K = [.. Enumerable.Range(0, 64).Select(i => (uint)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0))];

    /// <summary>The key of <paramref name="id"/>: bytes 8-15 of the MD5 of its UTF-8 bytes, little-endian.</summary>
    public static ulong Lower64(string id)
    {
        var max = Encoding.UTF8.GetMaxByteCount(id.Length);
        var buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(id, buffer);
        return Lower64(buffer[..n]);
    }

    /// <summary>Bytes 8-15 of the MD5 of <paramref name="data"/>, little-endian.</summary>
    public static ulong Lower64(ReadOnlySpan<byte> data)
    {
        uint a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
        var full = data.Length / 64 * 64;
        for (var off = 0; off < full; off += 64)
        {
            Block(data.Slice(off, 64), ref a, ref b, ref c, ref d);
        }
        // the tail, 0x80, zeros and the length in bits: one block, or two when the tail leaves no room for the length
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        var rest = data.Length - full;
        data[full..].CopyTo(tail);
        tail[rest] = 0x80;
        var blocks = rest < 56 ? 1 : 2;
        BinaryPrimitives.WriteUInt64LittleEndian(tail.Slice(blocks * 64 - 8, 8), (ulong)data.Length * 8);
        for (var i = 0; i < blocks; i++)
        {
            Block(tail.Slice(i * 64, 64), ref a, ref b, ref c, ref d);
        }
        return c | ((ulong)d << 32);
    }

    private static void Block(ReadOnlySpan<byte> block, ref uint a0, ref uint b0, ref uint c0, ref uint d0)
    {
        Span<uint> m = stackalloc uint[16];
        for (var j = 0; j < 16; j++)
        {
            m[j] = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(j * 4, 4));
        }
        uint a = a0, b = b0, c = c0, d = d0;
        for (var i = 0; i < 64; i++)
        {
            uint f;
            int g;
            if (i < 16)
            {
                f = (b & c) | (~b & d);
                g = i;
            }
            else if (i < 32)
            {
                f = (d & b) | (~d & c);
                g = (5 * i + 1) & 15;
            }
            else if (i < 48)
            {
                f = b ^ c ^ d;
                g = (3 * i + 5) & 15;
            }
            else
            {
                f = c ^ (b | ~d);
                g = (7 * i) & 15;
            }
            f = f + a + K[i] + m[g];
            a = d;
            d = c;
            c = b;
            b += BitOperations.RotateLeft(f, Shifts[i]);
        }
        a0 += a;
        b0 += b;
        c0 += c;
        d0 += d;
    }
}
