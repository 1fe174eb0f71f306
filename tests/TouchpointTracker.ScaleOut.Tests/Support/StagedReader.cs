using System.Collections.Concurrent;
using System.Text.Json;
using Confluent.Kafka;

namespace TouchpointTracker.ScaleOut.Tests.Support;

/// <summary>
/// Reads every partition of a topic from the start, read_committed (what analysts see: nothing of an
/// aborted or open transaction), on a thread of its own (fetch.wait.max.ms=5: the mock cluster answers a
/// fetch only after it), counting how often each event id appears.
/// </summary>
public sealed class StagedReader : IDisposable
{
    private readonly string _bootstrap;
    private readonly string _topic;
    private readonly int _partitions;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, long> _next = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private long _messages;

    public StagedReader(string bootstrap, string topic, int partitions)
    {
        _bootstrap = bootstrap;
        _topic = topic;
        _partitions = partitions;
    }

    public long Messages => Interlocked.Read(ref _messages);
    public IReadOnlyDictionary<string, int> Counts => _counts;
    public IReadOnlyCollection<string> Problems => _problems;

    public int CountOf(string eventId) => _counts.TryGetValue(eventId, out var n) ? n : 0;

    /// <summary>The offset this reader will read next on <paramref name="partition"/> (0 before anything).</summary>
    public long NextOffset(int partition) => _next.TryGetValue(partition, out var n) ? n : 0;

    public void Start()
    {
        var ready = new ManualResetEventSlim();
        _thread = new Thread(() => Run(ready)) { IsBackground = true, Name = "staged-reader" };
        _thread.Start();
        ready.Wait(TimeSpan.FromSeconds(30));
    }

    private void Run(ManualResetEventSlim ready)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _bootstrap,
            GroupId = "scaleout-staged-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5,
            EnablePartitionEof = true,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, _partitions).Select(p => new TopicPartitionOffset(_topic, p, Offset.Beginning)));
        ready.Set();
        while (!_stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException ex)
            {
                _problems.Enqueue("consume: " + ex.Error.Reason);
                continue;
            }
            if (result is null)
            {
                continue;
            }
            var partition = result.Partition.Value;
            if (result.IsPartitionEOF)
            {
                _next.AddOrUpdate(partition, result.Offset.Value, (_, old) => Math.Max(old, result.Offset.Value));
                continue;
            }
            _next.AddOrUpdate(partition, result.Offset.Value + 1, (_, old) => Math.Max(old, result.Offset.Value + 1));
            Interlocked.Increment(ref _messages);
            try
            {
                using var doc = JsonDocument.Parse(result.Message.Value);
                var id = doc.RootElement.GetProperty("event_id").GetString()
                    ?? throw new InvalidOperationException("event_id is null");
                _counts.AddOrUpdate(id, 1, (_, n) => n + 1);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                _problems.Enqueue($"unreadable staged message at {result.TopicPartitionOffset}: {ex.Message}");
            }
        }
        consumer.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
