using System.Net;
using System.Net.Sockets;
using MaxMind.Db;
using MaxMind.GeoIP2;
using MaxMind.GeoIP2.Exceptions;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Enrichment.Geo;

/// <summary>
/// Country, first-level region and city (English) of an IP address from a MaxMind-format database
/// (GeoIP2/GeoLite2 City or Country, or compatible). The whole file is read into memory once;
/// lookups are thread-safe and return null rather than throw.
/// </summary>
public sealed class GeoLocator : IGeoLocator, IDisposable
{
    private static readonly string[] Locales = ["en"];

    private readonly DatabaseReader _reader;
    private readonly bool _hasCities;

    /// <summary>Opens the database at <paramref name="path"/> (read fully into memory).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a City or Country database.</exception>
    public static GeoLocator Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"GeoIP database not found: {path}", path);
        }

        DatabaseReader reader;
        try
        {
            reader = new DatabaseReader(path, Locales, FileAccessMode.Memory);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"{path} is not a MaxMind DB file: {e.Message}", e);
        }

        return new GeoLocator(reader);
    }

    /// <summary>Reads a database from <paramref name="stream"/> (fully, into memory).</summary>
    /// <exception cref="InvalidDataException">The stream is not a City or Country database.</exception>
    public static GeoLocator Open(Stream stream)
    {
        DatabaseReader reader;
        try
        {
            reader = new DatabaseReader(stream, Locales);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"not a MaxMind DB: {e.Message}", e);
        }

        return new GeoLocator(reader);
    }

    private GeoLocator(DatabaseReader reader)
    {
        var type = reader.Metadata.DatabaseType ?? "";
        if (type.Contains("City", StringComparison.OrdinalIgnoreCase) || type.Contains("Enterprise", StringComparison.OrdinalIgnoreCase))
        {
            _hasCities = true;
        }
        else if (!type.Contains("Country", StringComparison.OrdinalIgnoreCase))
        {
            reader.Dispose();
            throw new InvalidDataException($"GeoIP database type '{type}' is neither a City nor a Country database.");
        }

        _reader = reader;
        DatabaseType = type;
    }

    /// <summary>The database_type from the file's metadata.</summary>
    public string DatabaseType { get; }

    /// <summary>Locates <paramref name="address"/>; null when unknown, private, or not an IP.</summary>
    public GeoInfo? Locate(IPAddress? address)
    {
        if (address is null || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        try
        {
            if (_hasCities)
            {
                if (!_reader.TryCity(address, out var city) || city is null)
                {
                    return null;
                }

                var geo = Make(city.Country.IsoCode, city.Subdivisions.Count > 0 ? city.Subdivisions[0].IsoCode : null, city.City.Name);
                if (geo is not null)
                {
                    geo.TimeZone = city.Location.TimeZone;
                }
                return geo;
            }

            return _reader.TryCountry(address, out var country) && country is not null ? Make(country.Country.IsoCode, null, null) : null;
        }
        catch (Exception e) when (e is InvalidDatabaseException or GeoIP2Exception or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static GeoInfo? Make(string? country, string? region, string? city) =>
        country is null && region is null && city is null ? null : new GeoInfo { Country = country, Region = region, City = city };

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();
}
