using Microsoft.Extensions.Options;
using TouchpointTracker.Analytics;
using TouchpointTracker.Collector.Hosting;

namespace TouchpointTracker.Collector.Embedded;

/// <summary>
/// Where the embedded mode keeps what must outlive the process: the data folder of <c>Analytics:Path</c>
/// (default <c>./tt-data/</c>) holds the analytics store and the journey states.
/// </summary>
public sealed class EmbeddedStorage : IStartupNote, IDisposable
{
    public EmbeddedStorage(IOptions<AnalyticsOptions> options)
    {
        var o = options.Value;
        AnalyticsPath = Path.GetFullPath(o.Path);
        DataFolder = Path.GetDirectoryName(AnalyticsPath)!;
        States = new JourneyStateFile(Path.Combine(DataFolder, "journeys.state"), legacyJsonPath: Path.Combine(DataFolder, "journeys.jsonl"));
        SaveInterval = TimeSpan.FromMilliseconds(o.FlushIntervalMs);
    }

    public string DataFolder { get; }
    public string AnalyticsPath { get; }
    public JourneyStateFile States { get; }

    /// <summary>The most a SIGKILL can lose of staged history and journey state (<c>Analytics:FlushIntervalMs</c>).</summary>
    public TimeSpan SaveInterval { get; }

    public string Note => $"data:       {AnalyticsPath} (analytics store), {States.FilePath} (journeys); a SIGKILL loses at most the last {SaveInterval.TotalMilliseconds:0} ms";

    public void Dispose() => States.Dispose();
}
