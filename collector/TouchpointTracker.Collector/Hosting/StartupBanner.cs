using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using TouchpointTracker.Analytics.Dashboard;
using TouchpointTracker.Collector.Configuration;

namespace TouchpointTracker.Collector.Hosting;

/// <summary>Says at start-up which mode runs and where its endpoints are.</summary>
public sealed class StartupBanner(
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<CollectorOptions> options,
    CollectorRuntime runtime,
    Embedded.InspectAccess inspect,
    IEnumerable<IStartupNote> notes,
    ILogger<StartupBanner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Print);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Print()
    {
        var o = options.Value;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        inspect.ListeningOn(addresses);
        var exposed = addresses.Any(a => !Embedded.InspectAccess.IsLoopback(a));
        if (runtime.IsEmbedded && exposed && !inspect.HasKey)
        {
            // The inspection API shows identify traits and full URLs: never to anyone who can reach the port.
            var refusal = $"Refusing to start: the EMBEDDED mode listens on {string.Join(", ", addresses)} (not loopback only) and " +
                $"{CollectorOptions.Section}:InspectApiKey is not set, so {o.InspectPath} would show personal data to anyone. Set the key, " +
                $"listen on loopback only, or run the distributed mode ({CollectorOptions.Section}:Mode=Distributed with Redis and Kafka).";
            Console.Error.WriteLine(refusal);
            logger.LogCritical("{Refusal}", refusal);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
            return;
        }
        var address = addresses.FirstOrDefault() ?? "http://localhost:5000";
        address = address.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
        var lines = new List<string>
        {
            runtime.IsEmbedded
                ? "TouchpointTracker collector: EMBEDDED mode (in-memory buffer, bus and processor; no Redis or Kafka configured). Site key 'demo' accepts events from any origin (development default)."
                : "TouchpointTracker collector: DISTRIBUTED mode (Redis buffer, Kafka forwarder).",
            $"  tag:        {address}{o.TagPath}",
            $"  collect:    {address}{o.CollectPath}",
            $"  offline:    {address}{o.OfflineEventsPath} (Authorization: Bearer <a Collector:Sites:<site>:ServerKeys key>" +
                (runtime.IsEmbedded ? "; the built-in demo site's is demo-server-key)" : ")"),
            $"  health:     {address}{o.LivenessPath} (liveness), {address}{o.ReadinessPath} (readiness), {address}{o.MetricsPath} (metrics)",
        };
        if (runtime.IsEmbedded)
        {
            lines.Add($"  demo site:  {address}{o.DemoPath}/");
            lines.Add($"  inspection: {address}{o.InspectPath}?limit=20" + (inspect.HasKey ? " (header X-Api-Key: Collector:InspectApiKey)" : " (loopback only, no key)"));
            lines.Add($"  conversions: {address}{o.ConversionRecordsPath}?limit=20 (conversion records, as tt.conversions carries them; same access as the inspection API)");
            lines.Add($"  dashboard:  {address}{AnalyticsDashboard.DefaultPath}?site=demo" + (inspect.HasKey ? " (key: Collector:InspectApiKey)" : ""));
            lines.Add($"  analytics:  {address}/api/v1/overview?site=demo (API; other sites need Analytics:ApiKeys), {address}/api/docs (API reference)");
        }
        lines.AddRange(notes.Select(n => "  " + n.Note));
        var text = string.Join(Environment.NewLine, lines);
        Console.Out.WriteLine(text);
        logger.LogInformation("Collector started in {Mode} mode at {Address}", runtime.Mode, address);
    }
}

/// <summary>A line a component wants printed at start-up (for example: no GeoIP database configured).</summary>
public interface IStartupNote
{
    string Note { get; }
}
