using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Contracts;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Buffering;

/// <summary>
/// The embedded mode's buffer: a channel bounded by <see cref="BufferOptions.Capacity"/> events.
/// A batch reserves its room first, so it is taken whole or refused whole. The staging loop reads it directly and frees
/// an entry's room once the entry is staged.
/// </summary>
public sealed class InMemoryEventBuffer : IEventBuffer
{
    private readonly Channel<Touchpoint> _channel = Channel.CreateUnbounded<Touchpoint>(new UnboundedChannelOptions { SingleReader = true });
    private readonly int _capacity;
    private int _depth;

    public InMemoryEventBuffer(IOptions<BufferOptions> options, MetricsRegistry metrics)
    {
        _capacity = options.Value.Capacity;
        metrics.Gauge("tt_buffer_depth", "Events in the buffer, not yet forwarded.", () => Depth);
        metrics.Gauge("tt_buffer_capacity", "Events the buffer holds before the collector answers 503.", () => _capacity);
    }

    public int Depth => Volatile.Read(ref _depth);
    public int Capacity => _capacity;

    public ValueTask<AppendOutcome> AppendAsync(IReadOnlyList<Touchpoint> batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Add(ref _depth, batch.Count) > _capacity)
        {
            Interlocked.Add(ref _depth, -batch.Count);
            return ValueTask.FromResult(AppendOutcome.Full);
        }
        foreach (var tp in batch)
        {
            _channel.Writer.TryWrite(tp); // unbounded: always succeeds; the bound is _depth
        }
        return ValueTask.FromResult(AppendOutcome.Stored);
    }

    /// <summary>Waits until an entry can be read (the staging loop's only wait).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the oldest entry; its room stays taken until <see cref="Release"/>.</summary>
    public bool TryRead(out Touchpoint touchpoint) => _channel.Reader.TryRead(out touchpoint!);

    /// <summary>Frees the room of entries that were staged.</summary>
    public void Release(int count) => Interlocked.Add(ref _depth, -count);
}
