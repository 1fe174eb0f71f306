using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TouchpointTracker.Enrichment.Tests.Support;

/// <summary>
/// A small MaxMind DB (format 2.0) writer for test fixtures: an IPv6 binary search tree with 24-bit
/// records (IPv4 networks live under ::/96), a data section with each record written once, and the
/// metadata map after the "\xAB\xCD\xEFMaxMind.com" marker. Insert wider networks before narrower ones.
/// Values: string, ushort, uint, int, ulong, double, bool, arrays (object[]) and maps (IDictionary&lt;string, object&gt;).
/// </summary>
internal sealed class MmdbWriter(string databaseType)
{
    private static readonly byte[] MetadataMarker = [0xAB, 0xCD, 0xEF, .. "MaxMind.com"u8];

    private readonly Node _root = new();
    private readonly List<object> _records = [];

    public MmdbWriter Insert(string cidr, object record)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(cidr[..slash]);
        var prefix = int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);

        var bytes = new byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.GetAddressBytes().CopyTo(bytes, 12);
            prefix += 96;
        }
        else
        {
            address.GetAddressBytes().CopyTo(bytes, 0);
        }

        _records.Add(record);
        var leaf = new DataRef(_records.Count - 1);

        var node = _root;
        for (var i = 0; i < prefix; i++)
        {
            var bit = (bytes[i / 8] >> (7 - (i % 8))) & 1;
            if (i == prefix - 1)
            {
                node[bit] = leaf;
                break;
            }

            if (node[bit] is Node next)
            {
                node = next;
            }
            else
            {
                // Split a leaf (or empty branch) so the narrower network can be carved out of it.
                var split = new Node { Left = node[bit], Right = node[bit] };
                node[bit] = split;
                node = split;
            }
        }

        return this;
    }

    public byte[] Build()
    {
        // Number nodes breadth-first.
        var nodes = new List<Node>();
        var ids = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        var queue = new Queue<Node>();
        queue.Enqueue(_root);
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            ids[n] = nodes.Count;
            nodes.Add(n);
            foreach (var child in new[] { n.Left, n.Right })
            {
                if (child is Node c && !ids.ContainsKey(c) && !queue.Contains(c))
                {
                    queue.Enqueue(c);
                }
            }
        }

        var data = new MemoryStream();
        var offsets = new int[_records.Count];
        for (var i = 0; i < _records.Count; i++)
        {
            offsets[i] = (int)data.Length;
            Encode(data, _records[i]);
        }

        var nodeCount = nodes.Count;
        var file = new MemoryStream();
        Span<byte> record = stackalloc byte[3];
        foreach (var n in nodes)
        {
            foreach (var child in new[] { n.Left, n.Right })
            {
                var value = child switch
                {
                    Node c => ids[c],
                    DataRef d => nodeCount + 16 + offsets[d.Index],
                    _ => nodeCount,
                };
                record[0] = (byte)(value >> 16);
                record[1] = (byte)(value >> 8);
                record[2] = (byte)value;
                file.Write(record);
            }
        }

        file.Write(new byte[16]);
        data.Position = 0;
        data.CopyTo(file);
        file.Write(MetadataMarker);
        Encode(file, new Dictionary<string, object>
        {
            ["node_count"] = (uint)nodeCount,
            ["record_size"] = (ushort)24,
            ["ip_version"] = (ushort)6,
            ["database_type"] = databaseType,
            ["languages"] = new object[] { "en" },
            ["binary_format_major_version"] = (ushort)2,
            ["binary_format_minor_version"] = (ushort)0,
            ["build_epoch"] = (ulong)1_700_000_000,
            ["description"] = new Dictionary<string, object> { ["en"] = "TouchpointTracker test fixture" },
        });
        return file.ToArray();
    }

    private static void Encode(Stream s, object value)
    {
        switch (value)
        {
            case string str:
                var utf8 = Encoding.UTF8.GetBytes(str);
                WriteControl(s, 2, utf8.Length);
                s.Write(utf8);
                break;
            case double d:
                WriteControl(s, 3, 8);
                Span<byte> buffer = stackalloc byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(buffer, d);
                s.Write(buffer);
                break;
            case ushort u16:
                WriteUnsigned(s, 5, u16);
                break;
            case uint u32:
                WriteUnsigned(s, 6, u32);
                break;
            case int i32:
                WriteUnsigned(s, 8, unchecked((uint)i32));
                break;
            case ulong u64:
                WriteUnsigned(s, 9, u64);
                break;
            case bool b:
                WriteControl(s, 14, b ? 1 : 0);
                break;
            case IDictionary<string, object> map:
                WriteControl(s, 7, map.Count);
                foreach (var (k, v) in map)
                {
                    Encode(s, k);
                    Encode(s, v);
                }

                break;
            case object[] array:
                WriteControl(s, 11, array.Length);
                foreach (var item in array)
                {
                    Encode(s, item);
                }

                break;
            default:
                throw new ArgumentException($"unsupported MaxMind DB value type {value.GetType()}");
        }
    }

    private static void WriteUnsigned(Stream s, int type, ulong value)
    {
        var length = 0;
        for (var v = value; v != 0; v >>= 8)
        {
            length++;
        }

        WriteControl(s, type, length);
        for (var i = length - 1; i >= 0; i--)
        {
            s.WriteByte((byte)(value >> (8 * i)));
        }
    }

    /// <summary>Control byte: 3 type bits (0 = extended, type - 7 in the next byte) and 5 size bits.</summary>
    private static void WriteControl(Stream s, int type, int size)
    {
        int sizeBits;
        byte[] extra;
        if (size < 29)
        {
            sizeBits = size;
            extra = [];
        }
        else if (size < 29 + 256)
        {
            sizeBits = 29;
            extra = [(byte)(size - 29)];
        }
        else if (size < 285 + 65_536)
        {
            sizeBits = 30;
            var v = size - 285;
            extra = [(byte)(v >> 8), (byte)v];
        }
        else
        {
            sizeBits = 31;
            var v = size - 65_821;
            extra = [(byte)(v >> 16), (byte)(v >> 8), (byte)v];
        }

        if (type <= 7)
        {
            s.WriteByte((byte)((type << 5) | sizeBits));
        }
        else
        {
            s.WriteByte((byte)sizeBits);
            s.WriteByte((byte)(type - 7));
        }

        s.Write(extra);
    }

    private sealed class Node
    {
        public object? Left { get; set; }

        public object? Right { get; set; }

        public object? this[int bit]
        {
            get => bit == 0 ? Left : Right;
            set
            {
                if (bit == 0)
                {
                    Left = value;
                }
                else
                {
                    Right = value;
                }
            }
        }
    }

    private sealed record DataRef(int Index);
}
