using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace TouchpointTracker.ServiceDefaults;

/// <summary>
/// The services' own instruments, all on one <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <see cref="MeterName"/> that OpenTelemetry exports (Prometheus text on the metrics path, OTLP when configured).
/// Instrument names are the Prometheus names the docs and alerts use (<c>tt_..._total</c> for counters).
/// </summary>
/// <remarks>
/// Counters are <see cref="ObservableCounter{T}"/>s over lock-free cells, one per label set: the hot path is one
/// dictionary lookup and an <see cref="Interlocked"/> add (no listener dispatch per event), and a counter's value can
/// be read in-process (<see cref="Counter.Get"/>, <see cref="Counter.Total"/>). Gauges are read when collected;
/// histograms are <see cref="Histogram{T}"/>s with their bucket bounds given as advice.
/// Each name has one definition: asking again for a name returns the first instrument.
/// </remarks>
public sealed class MetricsRegistry : IDisposable
{
    /// <summary>The meter every TouchpointTracker instrument is created on.</summary>
    public const string MeterName = "TouchpointTracker";

    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram> _histograms = new(StringComparer.Ordinal);

    /// <summary>Creates the meter through the host's <see cref="IMeterFactory"/>, so it belongs to this host only.</summary>
    public MetricsRegistry(IMeterFactory factory) => Meter = factory.Create(MeterName);

    /// <summary>A registry with a meter of its own (unit tests).</summary>
    public MetricsRegistry() => Meter = new Meter(MeterName);

    public Meter Meter { get; }

    public Counter Counter(string name, string help) => _counters.GetOrAdd(name, static (n, s) => new Counter(s.Meter, n, s.Help), (Meter, Help: help));

    public Histogram Histogram(string name, string help, double[] buckets) =>
        _histograms.GetOrAdd(name, static (n, s) => new Histogram(s.Meter, n, s.Help, s.Buckets), (Meter, Help: help, Buckets: buckets));

    /// <summary>A gauge whose values are read when collected, one per label set; registering the name again replaces the reader.</summary>
    public void Gauge(string name, string help, Func<IEnumerable<(LabelSet Labels, double Value)>> read) =>
        _gauges.GetOrAdd(name, static (n, s) => new Gauge(s.Meter, n, s.Help), (Meter, Help: help)).Read = read;

    public void Gauge(string name, string help, Func<double> read) => Gauge(name, help, () => [(LabelSet.Empty, read())]);

    /// <summary>A label set; build it once and keep it where the same labels are counted often.</summary>
    public static LabelSet Labels(params (string Name, string? Value)[] pairs) => new(pairs);

    public void Dispose() => Meter.Dispose();
}

/// <summary>Label names and values of one series, compared by value.</summary>
public sealed class LabelSet : IEquatable<LabelSet>
{
    public static readonly LabelSet Empty = new([]);

    private readonly string _key;
    private readonly int _hash;

    public LabelSet(params (string Name, string? Value)[] pairs)
    {
        Tags = [.. pairs.Select(p => new KeyValuePair<string, object?>(p.Name, p.Value ?? ""))];
        var sb = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            // Names are identifiers; the separator characters cannot occur in them, so the key is unambiguous.
            sb.Append(name).Append('=').Append(value?.Length ?? 0).Append(':').Append(value).Append(';');
        }
        _key = sb.ToString();
        _hash = StringComparer.Ordinal.GetHashCode(_key);
    }

    public KeyValuePair<string, object?>[] Tags { get; }

    public bool Equals(LabelSet? other) => ReferenceEquals(this, other) || (other is not null && _hash == other._hash && string.Equals(_key, other._key, StringComparison.Ordinal));

    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    public override int GetHashCode() => _hash;

    public override string ToString() => string.Join(',', Tags.Select(t => $"{t.Key}=\"{t.Value}\""));
}

/// <summary>A monotonically increasing count per label set, exported as an observable counter.</summary>
public sealed class Counter
{
    private readonly ConcurrentDictionary<LabelSet, Cell> _cells = new();

    internal Counter(Meter meter, string name, string help)
    {
        Name = name;
        meter.CreateObservableCounter(name, Observe, unit: null, description: help);
    }

    public string Name { get; }

    public void Inc(LabelSet? labels = null, long by = 1) =>
        Interlocked.Add(ref _cells.GetOrAdd(labels ?? LabelSet.Empty, static _ => new Cell()).Value, by);

    public long Get(LabelSet? labels = null) => _cells.TryGetValue(labels ?? LabelSet.Empty, out var cell) ? Interlocked.Read(ref cell.Value) : 0;

    /// <summary>Sum over every label set.</summary>
    public long Total => _cells.Values.Sum(c => Interlocked.Read(ref c.Value));

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var (labels, cell) in _cells)
        {
            yield return new Measurement<long>(Interlocked.Read(ref cell.Value), labels.Tags);
        }
    }

    private sealed class Cell
    {
        public long Value;
    }
}

/// <summary>A gauge read when collected.</summary>
internal sealed class Gauge
{
    public Gauge(Meter meter, string name, string help) =>
        meter.CreateObservableGauge(name, Observe, unit: null, description: help);

    public Func<IEnumerable<(LabelSet Labels, double Value)>> Read { get; set; } = () => [];

    private IEnumerable<Measurement<double>> Observe()
    {
        foreach (var (labels, value) in Read())
        {
            yield return new Measurement<double>(value, labels.Tags);
        }
    }
}

/// <summary>A histogram with fixed upper bounds (seconds, for the durations here).</summary>
public sealed class Histogram
{
    private readonly Histogram<double> _instrument;

    internal Histogram(Meter meter, string name, string help, double[] bounds)
    {
        Name = name;
        _instrument = meter.CreateHistogram(name, unit: null, description: help, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [.. bounds.Order()] });
    }

    public string Name { get; }

    public void Observe(double value) => _instrument.Record(value);
}
