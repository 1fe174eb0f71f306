using TouchpointTracker.Messaging;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using TouchpointTracker.Processor.Configuration;

namespace TouchpointTracker.Processor.Kafka;

/// <summary>
/// Reads the end of an output partition to find the last input offset already published there (header
/// <see cref="KafkaClients.SourceOffsetHeader"/>). Reads committed data only, and first waits, up to the
/// transaction timeout, until no transaction is open on the partition (last stable offset = high
/// watermark), so what it reports can no longer change: a transaction left open by a crashed instance is
/// aborted by the broker by then, one by a live instance has ended.
/// </summary>
public sealed class OutputTailReader : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly IConsumer<Ignore, Ignore> _committed;
    private readonly IConsumer<Ignore, Ignore> _uncommitted;
    private readonly TimeSpan _waitForOpenTransactions;

    public OutputTailReader(KafkaOptions options)
    {
        _committed = new ConsumerBuilder<Ignore, Ignore>(KafkaClients.TailConsumer(options, IsolationLevel.ReadCommitted)).Build();
        _uncommitted = new ConsumerBuilder<Ignore, Ignore>(KafkaClients.TailConsumer(options, IsolationLevel.ReadUncommitted)).Build();
        _waitForOpenTransactions = TimeSpan.FromMilliseconds(options.TransactionTimeoutMs + 5000);
    }

    /// <summary>The highest source offset published on the partition, or -1 when there is none.</summary>
    public long LastSourceOffset(string topic, int partition, CancellationToken ct)
    {
        var tp = new TopicPartition(topic, partition);
        var highWatermark = _uncommitted.QueryWatermarkOffsets(tp, RequestTimeout).High.Value;
        var deadline = DateTime.UtcNow + _waitForOpenTransactions;
        var stable = _committed.QueryWatermarkOffsets(tp, RequestTimeout);
        while (stable.High.Value < highWatermark && DateTime.UtcNow < deadline)
        {
            ct.WaitHandle.WaitOne(200);
            ct.ThrowIfCancellationRequested();
            stable = _committed.QueryWatermarkOffsets(tp, RequestTimeout);
        }
        long low = stable.Low.Value, high = stable.High.Value;
        if (high <= low || high <= 0)
        {
            return -1;
        }
        // Markers of committed transactions take offsets too: widen the window until a message is found.
        for (long window = 8; ; window *= 4)
        {
            var start = Math.Max(low, high - window);
            var found = MaxSourceOffset(tp, start, ct);
            if (found >= 0 || start == low)
            {
                return found;
            }
        }
    }

    private long MaxSourceOffset(TopicPartition tp, long start, CancellationToken ct)
    {
        var max = -1L;
        _committed.Assign(new TopicPartitionOffset(tp, start));
        try
        {
            var deadline = DateTime.UtcNow + RequestTimeout;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var r = _committed.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"reading the end of {tp.Topic} [{tp.Partition.Value}] took more than {RequestTimeout.TotalSeconds} s");
                    }
                    continue;
                }
                if (r.IsPartitionEOF)
                {
                    return max;
                }
                if (r.Message.Headers?.TryGetLastBytes(KafkaClients.SourceOffsetHeader, out var bytes) == true &&
                    long.TryParse(Encoding.ASCII.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out var source))
                {
                    max = Math.Max(max, source);
                }
            }
        }
        finally
        {
            _committed.Unassign();
        }
    }

    public void Dispose()
    {
        _committed.Close();
        _committed.Dispose();
        _uncommitted.Close();
        _uncommitted.Dispose();
    }
}
