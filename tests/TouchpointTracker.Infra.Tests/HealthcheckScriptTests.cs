using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>infra/docker/tt-healthcheck.sh, the images' health check (no curl in the .NET images).</summary>
public sealed class HealthcheckScriptTests
{
    private static ProcessResult Check(int port, string path) =>
        Processes.Run("bash", [Repo.PathOf(Deployment.HealthcheckScript), path], new Dictionary<string, string> { ["TT_HEALTH_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, TimeSpan.FromSeconds(20));

    [Test]
    public async Task Passes_on_200_and_fails_on_503_or_a_closed_port()
    {
        if (!File.Exists("/bin/bash"))
        {
            Assert.Ignore("bash is not installed");
        }
        await using var collector = await FakeCollector.StartAsync(collectStatus: 202, readyStatus: 503);
        Assert.Multiple(() =>
        {
            Assert.That(Check(collector.Port, "/healthz").ExitCode, Is.EqualTo(0), "200: healthy");
            Assert.That(Check(collector.Port, "/readyz").ExitCode, Is.EqualTo(1), "503: not ready");
            Assert.That(Check(collector.Port, "/no-such-path").ExitCode, Is.EqualTo(1), "404");
            Assert.That(Check(Processes.FreePort(), "/healthz").ExitCode, Is.EqualTo(1), "nothing listening");
        });
        Assert.That(collector.Requests, Does.Contain("GET /healthz").And.Contain("GET /readyz"));
    }

    [Test]
    public void Defaults_to_the_image_port_and_the_liveness_path()
    {
        var script = Repo.Read(Deployment.HealthcheckScript);
        Assert.That(script, Does.StartWith("#!/usr/bin/env bash"));
        Assert.That(script, Does.Contain("${TT_HEALTH_PORT:-" + Deployment.ServicePort + "}"));
        Assert.That(script, Does.Contain("${1:-" + new Collector.Configuration.CollectorOptions().LivenessPath + "}"));
    }
}
