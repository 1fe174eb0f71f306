using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>The writer's 64-bit keys: the low half of an id's MD5, equal to the platform's MD5 and to DuckDB's md5_number_lower.</summary>
public sealed class KeyTests
{
#pragma warning disable CA5351 // the reference the key is checked against
    private static ulong Reference(string id) =>
        BinaryPrimitives.ReadUInt64LittleEndian(MD5.HashData(Encoding.UTF8.GetBytes(id)).AsSpan(8));
#pragma warning restore CA5351

    private static string RandomId(Random r, int length)
    {
        // ASCII mostly, with two-, three- and four-byte UTF-8 characters: byte lengths cross the 55/56/64-byte block edges
        var sb = new StringBuilder(length);
        while (sb.Length < length)
        {
            switch (r.Next(10))
            {
                case 0: sb.Append('é'); break;
                case 1: sb.Append('€'); break;
                case 2: sb.Append("😀"); break;
                default: sb.Append((char)r.Next(32, 127)); break;
            }
        }
        return sb.ToString();
    }

    [Test]
    public void Keys_equal_the_low_half_of_the_platforms_md5_for_every_length()
    {
        var r = new Random(7);
        var ids = new List<string> { "", "a", "visitor-1", Guid.NewGuid().ToString(), new string('x', 55), new string('x', 56), new string('x', 63), new string('x', 64), new string('x', 119), new string('x', 120), new string('x', 1000) };
        for (var i = 0; i < 5000; i++)
        {
            ids.Add(RandomId(r, r.Next(0, 300)));
        }
        foreach (var id in ids)
        {
            Assert.That(RowMapper.Key(id), Is.EqualTo(Reference(id)), $"id of {id.Length} chars");
        }
    }

    [Test]
    public void Keys_equal_duckdbs_md5_number_lower()
    {
        using var dir = new TempDir();
        using var store = new AnalyticsStore(new AnalyticsOptions { Path = dir.File("a.duckdb") });
        using var c = store.OpenReadConnection();
        var r = new Random(11);
        foreach (var id in new[] { "", "v-a", "01JDQ0Z3Y8T5V9K2M4N6P8R0ST", "identifiant-é€😀" }.Concat(Enumerable.Range(0, 50).Select(_ => RandomId(r, r.Next(0, 150)))))
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT md5_number_lower($id)";
            cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("id", id));
            Assert.That(Convert.ToUInt64(cmd.ExecuteScalar()), Is.EqualTo(RowMapper.Key(id)), $"id of {id.Length} chars");
        }
    }
}
