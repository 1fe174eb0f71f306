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
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5000";
        address = address.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
        var lines = new List<string>
        {
            runtime.IsEmbedded
                ? "TouchpointTracker collector: EMBEDDED mode (in-memory buffer, bus and processor; no Redis or Kafka configured). Site key 'demo' accepts events from any origin (development default)."
                : "TouchpointTracker collector: DISTRIBUTED mode (Redis buffer, Kafka forwarder).",
            $"  tag:        {address}{o.TagPath}",
            $"  collect:    {address}{o.CollectPath}",
            $"  health:     {address}{o.LivenessPath} (liveness), {address}{o.ReadinessPath} (readiness), {address}{o.MetricsPath} (metrics)",
        };
        if (runtime.IsEmbedded)
        {
            lines.Add($"  demo site:  {address}{o.DemoPath}/");
            lines.Add($"  inspection: {address}{o.InspectPath}?limit=20");
            lines.Add($"  dashboard:  {address}{AnalyticsDashboard.DefaultPath}?site=demo");
            lines.Add($"  analytics:  {address}/api/v1/overview?site=demo (API; the demo site is open, other sites need Analytics:ApiKeys), {address}/api/docs (API reference)");
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
