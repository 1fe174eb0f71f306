using System.Net;
using TouchpointTracker.Contracts;
using TouchpointTracker.Enrichment.Geo;
using TouchpointTracker.Enrichment.Tests.Support;

namespace TouchpointTracker.Enrichment.Tests.Geo;

public class GeoLocatorTests
{
    private static GeoLocator _city = null!;

    [OneTimeSetUp]
    public static void Open() => _city = GeoLocator.Open(new MemoryStream(GeoFixture.BuildCityDatabase()));

    [OneTimeTearDown]
    public static void Close() => _city.Dispose();

    private static string? Describe(GeoInfo? g) => g is null ? null : $"{g.Country}|{g.Region}|{g.City}";

    [TestCase("81.2.69.1", "FR|IDF|Paris")]
    [TestCase("81.2.69.127", "FR|IDF|Paris")]
    [TestCase("81.2.69.160", "FR|ARA|Lyon")]
    [TestCase("::ffff:81.2.69.160", "FR|ARA|Lyon")]
    [TestCase("2a01:e0a:1::5", "FR||")]
    [TestCase("2001:db8::42", "DE|BE|Berlin")]
    [TestCase("2001:db8:1::42", null)]
    [TestCase("81.2.70.1", null)]
    [TestCase("127.0.0.1", null)]
    [TestCase("10.0.0.1", null)]
    public void Locates_addresses(string ip, string? expected)
    {
        Assert.That(Describe(_city.Locate(IPAddress.Parse(ip))), Is.EqualTo(expected));
    }

    [TestCase("81.2.69.160", "Europe/Paris")]
    [TestCase("2001:db8::42", "Europe/Berlin")]
    [TestCase("175.16.199.7", "Asia/Shanghai")]
    public void City_databases_give_the_time_zone(string ip, string zone) =>
        Assert.That(_city.Locate(IPAddress.Parse(ip))?.TimeZone, Is.EqualTo(zone));

    [Test]
    public void Null_address_is_null()
    {
        Assert.That(_city.Locate(null), Is.Null);
    }

    [Test]
    public void Country_databases_give_country_only()
    {
        using var country = GeoLocator.Open(new MemoryStream(GeoFixture.BuildCityDatabase("TouchpointTracker-Test-Country")));
        Assert.Multiple(() =>
        {
            Assert.That(country.DatabaseType, Is.EqualTo("TouchpointTracker-Test-Country"));
            Assert.That(Describe(country.Locate(IPAddress.Parse("81.2.69.1"))), Is.EqualTo("FR||"));
        });
    }

    [Test]
    public void Opens_from_a_file()
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"city-{Guid.NewGuid():N}.mmdb");
        File.WriteAllBytes(path, GeoFixture.BuildCityDatabase());
        try
        {
            using var fromFile = GeoLocator.Open(path);
            Assert.That(Describe(fromFile.Locate(IPAddress.Parse("175.16.199.9"))), Is.EqualTo("CN|22|Changchun"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Unsupported_or_missing_databases_fail_at_start_up()
    {
        Assert.Throws<InvalidDataException>(() => GeoLocator.Open(new MemoryStream(GeoFixture.BuildCityDatabase("GeoLite2-ASN"))));
        Assert.Throws<InvalidDataException>(() => GeoLocator.Open(new MemoryStream(new byte[100])));
        Assert.Throws<FileNotFoundException>(() => GeoLocator.Open("/nonexistent/GeoLite2-City.mmdb"));
    }
}

/// <summary>Opens the fixture database for other fixtures.</summary>
internal static class GeoLocatorTestsAccess
{
    public static GeoLocator OpenFixture() => GeoLocator.Open(new MemoryStream(GeoFixture.BuildCityDatabase()));
}
