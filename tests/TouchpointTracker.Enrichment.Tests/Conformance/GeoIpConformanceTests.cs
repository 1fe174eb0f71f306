using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Tests.Support;

namespace TouchpointTracker.Enrichment.Tests.Conformance;

/// <summary>
/// Looks up every network of MaxMind's published GeoIP2-City-Test database (first and last address)
/// and compares with the JSON it was built from. Runs where ../shared/testdata/geoip exists.
/// </summary>
[TestFixture]
[Category("Conformance")]
public class GeoIpConformanceTests
{
    private string _directory = null!;

    [OneTimeSetUp]
    public void Locate()
    {
        _directory = TestPaths.SharedGeoIpDirectory ?? "";
        if (!Directory.Exists(_directory))
        {
            Assert.Ignore("../shared/testdata/geoip not present");
        }
    }

    [Test]
    public void City_database_matches_its_source()
    {
        var db = Path.Combine(_directory, "GeoIP2-City-Test.mmdb");
        var source = Path.Combine(_directory, "GeoIP2-City-Test.source.json");
        if (!File.Exists(db) || !File.Exists(source))
        {
            Assert.Ignore("GeoIP2-City-Test files missing");
        }

        using var geo = GeoLocator.Open(db);
        var failures = new List<string>();
        var checks = 0;
        foreach (var (network, expected) in LoadSource(source))
        {
            foreach (var address in Probes(network))
            {
                checks++;
                var actual = geo.Locate(address);
                var got = $"{actual?.Country}|{actual?.Region}|{actual?.City}";
                if (got != expected)
                {
                    failures.Add($"{network} ({address}): expected {expected} got {got}");
                }
            }
        }

        TestContext.Out.WriteLine($"GeoIP2-City-Test: {checks - failures.Count}/{checks} lookups agree ({100.0 * (checks - failures.Count) / Math.Max(1, checks):F2}%)");
        foreach (var f in failures.Take(20))
        {
            TestContext.Out.WriteLine("  FAIL " + f);
        }

        Assert.That(failures, Is.Empty);
    }

    [TestCase("GeoIP2-Country-Test.mmdb")]
    [TestCase("GeoLite2-City-Test.mmdb")]
    public void Other_location_databases_open_and_answer(string file)
    {
        var db = Path.Combine(_directory, file);
        if (!File.Exists(db))
        {
            Assert.Ignore($"{file} missing");
        }

        using var geo = GeoLocator.Open(db);
        var located = LoadSource(Path.Combine(_directory, "GeoIP2-City-Test.source.json"))
            .SelectMany(n => Probes(n.Network))
            .Select(geo.Locate)
            .Count(g => g?.Country is not null);
        TestContext.Out.WriteLine($"{file} ({geo.DatabaseType}): {located} of the City test networks have a country");
        Assert.That(located, Is.GreaterThan(0));
    }

    [Test]
    public void Non_location_databases_are_refused()
    {
        var db = Path.Combine(_directory, "GeoLite2-ASN-Test.mmdb");
        if (!File.Exists(db))
        {
            Assert.Ignore("GeoLite2-ASN-Test.mmdb missing");
        }

        Assert.Throws<InvalidDataException>(() => GeoLocator.Open(db).Dispose());
    }

    private static IEnumerable<(string Network, string Expected)> LoadSource(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var result = new List<(string, string)>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            foreach (var network in item.EnumerateObject())
            {
                var r = network.Value;
                var country = Get(r, "country", "iso_code");
                var region = r.TryGetProperty("subdivisions", out var subs) && subs.GetArrayLength() > 0 ? Get(subs[0], "iso_code") : null;
                var city = Get(r, "city", "names", "en");
                result.Add((network.Name, $"{country}|{region}|{city}"));
            }
        }

        return result;
    }

    private static string? Get(JsonElement e, params string[] path)
    {
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e))
            {
                return null;
            }
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : null;
    }

    /// <summary>First and last address of the network; "::a.b.c.d/n" networks also as plain IPv4.</summary>
    private static IEnumerable<IPAddress> Probes(string cidr)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var first = IPAddress.Parse(cidr[..slash]);
        var prefix = int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var bytes = first.GetAddressBytes();
        var bits = bytes.Length * 8;
        var last = (byte[])bytes.Clone();
        for (var i = prefix; i < bits; i++)
        {
            last[i / 8] |= (byte)(0x80 >> (i % 8));
        }

        foreach (var b in new[] { bytes, last })
        {
            var address = new IPAddress(b);
            yield return address;
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && prefix >= 96 && b.Take(12).All(x => x == 0))
            {
                yield return new IPAddress(b[12..]);
            }
        }
    }
}
