using System.Net;
using System.Text.Json.Nodes;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// A beacon of version 2 through the real collector (embedded mode, Kestrel on a free port): what v1 refuses
/// (an over-long URL, a null prop, props that are not an object) is cut or dropped, the events are taken, and
/// every cut shows in <c>tt_cut_values_total</c> by reason.
/// </summary>
public sealed class CutMetricsTests
{
    [Test]
    public async Task A_v2_beacon_is_taken_cut_and_its_cuts_are_counted_by_reason()
    {
        await using var host = await CollectorHost.StartAsync();
        using var http = host.CreateClient();
        var longUrl = "https://a.example/landing?q=" + new string('x', 3000);
        JsonNode Body(int v)
        {
            var beacon = JsonNode.Parse(Beacons.Pageview(longUrl))!;
            beacon["v"] = v;
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            beacon["events"]!.AsArray().Add(new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["type"] = "event", ["name"] = "signup", ["ts"] = now - 10, ["url"] = "https://a.example/",
                ["props"] = new JsonObject { ["plan"] = "pro", ["none"] = null },
            });
            beacon["events"]!.AsArray().Add(new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["type"] = "event", ["name"] = "purchase", ["ts"] = now - 5, ["url"] = "https://a.example/", ["props"] = "EUR",
            });
            return beacon;
        }

        using var v1 = await http.PostAsync("/collect", Beacons.AsText(Body(1).ToJsonString()));
        using var v2 = await http.PostAsync("/collect", Beacons.AsText(Body(2).ToJsonString()));
        var answer = JsonNode.Parse(await v2.Content.ReadAsStringAsync())!;
        var text = await http.GetStringAsync("/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(v1.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "v1: props that are not an object make the batch invalid");
            Assert.That(v2.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That((int?)answer["accepted"], Is.EqualTo(3));
            Assert.That(text, Does.Contain("tt_cut_values_total{reason=\"url\",site=\"demo\"} 1\n"));
            Assert.That(text, Does.Contain("tt_cut_values_total{reason=\"prop_type\",site=\"demo\"} 1\n"));
            Assert.That(text, Does.Contain("tt_cut_values_total{reason=\"props_not_object\",site=\"demo\"} 1\n"));
        });
    }
}
