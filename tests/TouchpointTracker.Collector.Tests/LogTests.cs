using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>The collector's own process, its stdout read as a log shipper would read it.</summary>
public class LogTests
{
    [Test]
    public async Task Log_lines_are_json_objects_with_an_iso_8601_utc_timestamp()
    {
        await using var collector = await CollectorProcess.StartAsync(new Dictionary<string, string?> { ["Logging:Json"] = "true" });

        var lines = await LinesAsync(collector, l => l.Contains("\"Timestamp\"", StringComparison.Ordinal), 2);

        Assert.That(lines, Has.Count.GreaterThanOrEqualTo(2), collector.Output);
        foreach (var line in lines)
        {
            var entry = JsonNode.Parse(line)!;
            var timestamp = (string?)entry["Timestamp"];
            Assert.Multiple(() =>
            {
                Assert.That(DateTimeOffset.TryParseExact(timestamp, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
                    Is.True, $"'{timestamp}' is an ISO 8601 UTC time, nothing around it");
                Assert.That((string?)entry["LogLevel"], Is.Not.Empty);
                Assert.That((string?)entry["Category"], Is.Not.Empty);
            });
        }
    }

    [TestCase(null, false, TestName = "Requests are not logged one by one by default")]
    [TestCase("Information", true, TestName = "Request logs come back when their category is given a level")]
    public async Task Per_request_logs_follow_the_configuration(string? level, bool expected)
    {
        await using var collector = await CollectorProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = level,
        });
        using var http = collector.CreateClient();

        using var response = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/")));
        var logged = await LinesAsync(collector, l => l.Contains("Request finished", StringComparison.Ordinal), 1);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(logged.Count > 0, Is.EqualTo(expected), collector.Output);
    }

    /// <summary>Waits up to three seconds for <paramref name="count"/> lines that match.</summary>
    private static async Task<List<string>> LinesAsync(CollectorProcess collector, Func<string, bool> match, int count)
    {
        List<string> lines = [];
        for (var i = 0; i < 30 && lines.Count < count; i++)
        {
            await Task.Delay(100);
            lines = [.. collector.Output.Split(Environment.NewLine).Where(match)];
        }
        return lines;
    }
}
