using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace TouchpointTracker.ServiceDefaults;

/// <summary>
/// A small Prometheus registry: labelled counters, gauges read at scrape time and fixed-bucket
/// histograms, written in the Prometheus text exposition format. Lock-free on the hot path.
/// </summary>
public sealed class MetricsRegistry
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Help, Func<IEnumerable<(string Labels, double Value)>> Read)> _gauges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram> _histograms = new(StringComparer.Ordinal);

    public Counter Counter(string name, string help) => _counters.GetOrAdd(name, n => new Counter(n, help));

    public Histogram Histogram(string name, string help, double[] buckets) =>
        _histograms.GetOrAdd(name, n => new Histogram(n, help, buckets));

    /// <summary>A gauge whose value(s) are read when scraped; labels are pre-formatted (<c>a="b"</c>) or empty.</summary>
    public void Gauge(string name, string help, Func<IEnumerable<(string Labels, double Value)>> read) => _gauges[name] = (help, read);

    public void Gauge(string name, string help, Func<double> read) => Gauge(name, help, () => [("", read())]);

    public string Render()
    {
        var sb = new StringBuilder(4096);
        foreach (var c in _counters.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            c.WriteTo(sb);
        }
        foreach (var (name, gauge) in _gauges.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(gauge.Help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" gauge\n");
            foreach (var (labels, value) in gauge.Read())
            {
                AppendSample(sb, name, labels, value);
            }
        }
        foreach (var h in _histograms.Values.OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            h.WriteTo(sb);
        }
        return sb.ToString();
    }

    internal static void AppendSample(StringBuilder sb, string name, string labels, double value)
    {
        sb.Append(name);
        if (labels.Length > 0)
        {
            sb.Append('{').Append(labels).Append('}');
        }
        sb.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Formats label pairs, escaping values as the exposition format requires.</summary>
    public static string Labels(params (string Name, string? Value)[] pairs)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }
            sb.Append(name).Append("=\"");
            foreach (var ch in value ?? "")
            {
                switch (ch)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append("\\n"); break;
                    default: sb.Append(ch); break;
                }
            }
            sb.Append('"');
        }
        return sb.ToString();
    }
}

/// <summary>A monotonically increasing count per label set.</summary>
public sealed class Counter(string name, string help)
{
    private readonly ConcurrentDictionary<string, StrongBox> _values = new(StringComparer.Ordinal);

    public string Name => name;

    public void Inc(string labels = "", long by = 1) => Interlocked.Add(ref _values.GetOrAdd(labels, _ => new StrongBox()).Value, by);

    public long Get(string labels = "") => _values.TryGetValue(labels, out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>Sum over every label set.</summary>
    public long Total => _values.Values.Sum(b => Interlocked.Read(ref b.Value));

    internal void WriteTo(StringBuilder sb)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" counter\n");
        foreach (var (labels, box) in _values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            MetricsRegistry.AppendSample(sb, name, labels, Interlocked.Read(ref box.Value));
        }
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}

/// <summary>A cumulative histogram with fixed upper bounds.</summary>
public sealed class Histogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _count;
    private long _sumMicros;

    internal Histogram(string name, string help, double[] bounds)
    {
        Name = name;
        Help = help;
        _bounds = [.. bounds.Order()];
        _counts = new long[_bounds.Length];
    }

    public string Name { get; }
    public string Help { get; }
    public long Count => Interlocked.Read(ref _count);

    public void Observe(double value)
    {
        var i = Array.BinarySearch(_bounds, value);
        if (i < 0)
        {
            i = ~i;
        }
        if (i < _counts.Length)
        {
            Interlocked.Increment(ref _counts[i]);
        }
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)(value * 1_000_000));
    }

    internal void WriteTo(StringBuilder sb)
    {
        sb.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        sb.Append("# TYPE ").Append(Name).Append(" histogram\n");
        long cumulative = 0;
        for (var i = 0; i < _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            MetricsRegistry.AppendSample(sb, Name + "_bucket", "le=\"" + _bounds[i].ToString("R", CultureInfo.InvariantCulture) + "\"", cumulative);
        }
        var count = Count;
        MetricsRegistry.AppendSample(sb, Name + "_bucket", "le=\"+Inf\"", count);
        MetricsRegistry.AppendSample(sb, Name + "_sum", "", Interlocked.Read(ref _sumMicros) / 1_000_000d);
        MetricsRegistry.AppendSample(sb, Name + "_count", "", count);
    }
}
