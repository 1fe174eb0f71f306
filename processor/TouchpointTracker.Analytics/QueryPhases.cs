using System.Diagnostics;

namespace TouchpointTracker.Analytics;

/// <summary>
/// Wall time per named step of the aggregate views, summed over the calls since the last <see cref="Take"/> (diagnostics:
/// the benchmark sets <see cref="AnalyticsQueries.Phases"/> and prints the split). Steps on parallel threads overlap.
/// </summary>
internal sealed class QueryPhases
{
    private readonly Dictionary<string, TimeSpan> _totals = [];

    public Step Time(string name) => new(this, name, Stopwatch.GetTimestamp());

    /// <summary>The totals so far, in the order first recorded; then starts again.</summary>
    public List<(string Name, TimeSpan Time)> Take()
    {
        lock (_totals)
        {
            var list = _totals.Select(t => (t.Key, t.Value)).ToList();
            _totals.Clear();
            return list;
        }
    }

    private void Add(string name, TimeSpan t)
    {
        lock (_totals)
        {
            _totals[name] = _totals.GetValueOrDefault(name) + t;
        }
    }

    public readonly struct Step(QueryPhases owner, string name, long started) : IDisposable
    {
        public void Dispose() => owner.Add(name, Stopwatch.GetElapsedTime(started));
    }
}
