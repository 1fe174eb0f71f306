namespace TouchpointTracker.Enrichment.Tests.Support;

/// <summary>GeoIP2-City-shaped fixture records and a small database built from them.</summary>
internal static class GeoFixture
{
    public static Dictionary<string, object> CityRecord(string country, string? region, string? city)
    {
        var record = new Dictionary<string, object>
        {
            ["country"] = new Dictionary<string, object>
            {
                ["iso_code"] = country,
                ["geoname_id"] = 3017382u,
                ["names"] = new Dictionary<string, object> { ["en"] = country + " (en)", ["fr"] = country + " (fr)" },
            },
        };
        if (region is not null)
        {
            record["subdivisions"] = new object[]
            {
                new Dictionary<string, object> { ["iso_code"] = region, ["names"] = new Dictionary<string, object> { ["en"] = region + " name" } },
                new Dictionary<string, object> { ["iso_code"] = "SUB2" },
            };
        }

        if (city is not null)
        {
            record["city"] = new Dictionary<string, object>
            {
                ["geoname_id"] = 2988507u,
                ["names"] = new Dictionary<string, object> { ["fr"] = city + " (fr)", ["en"] = city },
            };
        }

        record["location"] = new Dictionary<string, object> { ["latitude"] = 48.8566, ["longitude"] = 2.3522, ["accuracy_radius"] = (ushort)20 };
        var zone = country switch { "FR" => "Europe/Paris", "DE" => "Europe/Berlin", "CN" => "Asia/Shanghai", _ => null };
        if (zone is not null)
        {
            ((Dictionary<string, object>)record["location"])["time_zone"] = zone;
        }
        return record;
    }

    /// <summary>A City database: 81.2.69.0/24 Paris, 81.2.69.128/25 Lyon (narrower), 2a01:e0a::/32 FR only, 2001:db8::/48 Berlin.</summary>
    public static byte[] BuildCityDatabase(string databaseType = "TouchpointTracker-Test-City") =>
        new MmdbWriter(databaseType)
            .Insert("81.2.69.0/24", CityRecord("FR", "IDF", "Paris"))
            .Insert("81.2.69.128/25", CityRecord("FR", "ARA", "Lyon"))
            .Insert("2a01:e0a::/32", CityRecord("FR", null, null))
            .Insert("2001:db8::/48", CityRecord("DE", "BE", "Berlin"))
            .Insert("175.16.199.0/24", CityRecord("CN", "22", "Changchun"))
            .Build();
}
