using System.Net;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

public class ShutdownTests
{
    [Test]
    public async Task On_stop_readiness_turns_red_first_while_beacons_are_still_accepted()
    {
        var host = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Shutdown:ReadinessGraceSeconds"] = "3" });
        using var http = host.CreateClient();
        using (var ready = await http.GetAsync("/readyz"))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var stopping = Task.Run(host.StopAsync);
        HttpStatusCode readiness = HttpStatusCode.OK;
        for (var i = 0; i < 100 && readiness == HttpStatusCode.OK; i++)
        {
            await Task.Delay(20);
            using var r = await http.GetAsync("/readyz");
            readiness = r.StatusCode;
        }
        using var collect = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/")));
        await stopping;
        await host.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(readiness, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "readiness goes red during the grace period");
            Assert.That(collect.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "the listener still serves during the grace period");
        });
    }
}
