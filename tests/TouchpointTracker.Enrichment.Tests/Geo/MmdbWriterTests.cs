using System.Net;
using MaxMind.Db;
using TouchpointTracker.Enrichment.Tests.Support;

namespace TouchpointTracker.Enrichment.Tests.Geo;

/// <summary>Checks the fixture writer against MaxMind's own reader, independently of GeoIP2's models.</summary>
public class MmdbWriterTests
{
    [Test]
    public void Writes_a_file_the_reference_reader_accepts()
    {
        var bytes = new MmdbWriter("Test-Types")
            .Insert("10.0.0.0/8", new Dictionary<string, object>
            {
                ["s"] = "hello",
                ["long"] = new string('x', 300),
                ["u16"] = (ushort)65_000,
                ["u32"] = 4_000_000_000u,
                ["i32"] = -5,
                ["u64"] = 12_345_678_901UL,
                ["d"] = 1.5,
                ["b"] = true,
                ["arr"] = new object[] { "a", 1u },
            })
            .Insert("10.1.0.0/16", new Dictionary<string, object> { ["s"] = "narrower" })
            .Insert("2001:db8::/32", new Dictionary<string, object> { ["s"] = "v6" })
            .Build();

        using var reader = new Reader(new MemoryStream(bytes));
        var wide = reader.Find<Dictionary<string, object>>(IPAddress.Parse("10.2.3.4"));
        var narrow = reader.Find<Dictionary<string, object>>(IPAddress.Parse("10.1.2.3"));
        var v6 = reader.Find<Dictionary<string, object>>(IPAddress.Parse("2001:db8::1"));
        Assert.Multiple(() =>
        {
            Assert.That(reader.Metadata.DatabaseType, Is.EqualTo("Test-Types"));
            Assert.That(reader.Metadata.IPVersion, Is.EqualTo(6));
            Assert.That(wide!["s"], Is.EqualTo("hello"));
            Assert.That(wide["long"], Is.EqualTo(new string('x', 300)));
            Assert.That(Convert.ToInt64(wide["u16"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(65_000));
            Assert.That(Convert.ToInt64(wide["u32"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(4_000_000_000L));
            Assert.That(Convert.ToInt64(wide["i32"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(-5));
            Assert.That(Convert.ToUInt64(wide["u64"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(12_345_678_901UL));
            Assert.That(wide["d"], Is.EqualTo(1.5));
            Assert.That(wide["b"], Is.EqualTo(true));
            Assert.That(narrow!["s"], Is.EqualTo("narrower"));
            Assert.That(v6!["s"], Is.EqualTo("v6"));
            Assert.That(reader.Find<Dictionary<string, object>>(IPAddress.Parse("11.0.0.1")), Is.Null);
        });
    }
}
