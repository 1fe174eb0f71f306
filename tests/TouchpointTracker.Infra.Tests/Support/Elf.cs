using System.Buffers.Binary;
using System.Text;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>Reads the DT_NEEDED entries (direct shared-library dependencies) of a 64-bit little-endian ELF file.</summary>
public static class Elf
{
    public static IReadOnlyList<string> Needed(string path)
    {
        var b = File.ReadAllBytes(path);
        Assert.That(b.Length > 64 && b[0] == 0x7f && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F', Is.True, $"{path} is not an ELF file");
        Assert.That(b[4], Is.EqualTo(2), $"{path}: only 64-bit ELF is read here");
        Assert.That(b[5], Is.EqualTo(1), $"{path}: only little-endian ELF is read here");
        var phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x20));
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x36));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x38));

        var loads = new List<(ulong VAddr, ulong Offset, ulong Size)>();
        (ulong Offset, ulong Size)? dynamic = null;
        for (var i = 0; i < phnum; i++)
        {
            var ph = b.AsSpan((int)(phoff + (i * phentsize)));
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var vaddr = BinaryPrimitives.ReadUInt64LittleEndian(ph[16..]);
            var filesz = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            if (type == 1)
            {
                loads.Add((vaddr, offset, filesz));
            }
            else if (type == 2)
            {
                dynamic = (offset, filesz);
            }
        }
        Assert.That(dynamic, Is.Not.Null, $"{path} has no dynamic section");

        var needed = new List<ulong>();
        ulong? strtab = null;
        for (var at = dynamic!.Value.Offset; at + 16 <= dynamic.Value.Offset + dynamic.Value.Size; at += 16)
        {
            var tag = BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan((int)at));
            var val = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at + 8));
            if (tag == 0)
            {
                break;
            }
            if (tag == 1)
            {
                needed.Add(val);
            }
            else if (tag == 5)
            {
                strtab = val;
            }
        }
        Assert.That(strtab, Is.Not.Null, $"{path} has no DT_STRTAB");
        var load = loads.First(l => strtab >= l.VAddr && strtab < l.VAddr + l.Size);
        var strOffset = (long)(strtab!.Value - load.VAddr + load.Offset);
        return needed.Select(n =>
        {
            var start = (int)(strOffset + (long)n);
            var end = Array.IndexOf(b, (byte)0, start);
            return Encoding.ASCII.GetString(b, start, end - start);
        }).ToList();
    }
}
