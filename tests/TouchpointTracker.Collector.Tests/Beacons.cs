using System.Text;
using System.Text.Json.Nodes;

namespace TouchpointTracker.Collector.Tests;

/// <summary>Beacons as the tag sends them, for tests.</summary>
internal static class Beacons
{
    public static string Pageview(string url, string? referrer = null, string site = "demo", string? visitor = null, string? session = null, string? eventId = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var beacon = new JsonObject
        {
            ["v"] = 1,
            ["site"] = site,
            ["vid"] = visitor ?? "v-" + Guid.NewGuid().ToString("N"),
            ["sid"] = session ?? "s-" + Guid.NewGuid().ToString("N"),
            ["events"] = new JsonArray(new JsonObject
            {
                ["id"] = eventId ?? Guid.NewGuid().ToString(),
                ["type"] = "pageview",
                ["ts"] = now - 20,
                ["url"] = url,
                ["ref"] = referrer ?? "",
                ["title"] = "Test page",
            }),
            ["sent"] = now,
        };
        return beacon.ToJsonString();
    }

    public static StringContent AsText(string body) => new(body, Encoding.UTF8, "text/plain");
}
