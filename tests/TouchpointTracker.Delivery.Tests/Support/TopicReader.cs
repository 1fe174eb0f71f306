using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;

namespace TouchpointTracker.Delivery.Tests.Support;

/// <summary>A message of the touchpoints topic, as the tests check it.</summary>
public sealed record ForwardedMessage(string Key, string EventId, string SiteId, string VisitorId, int Partition, long Offset);

/// <summary>
/// Reads every partition of a topic from the start on a thread of its own (fetch.wait.max.ms=5: the mock
/// cluster answers a fetch only after it), keeping each visitor's messages in the order Kafka holds them.
/// </summary>
public sealed class TopicReader : IDisposable
{
    private readonly string _bootstrap;
    private readonly string _topic;
    private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<string>> _byVisitor = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private long _messages;

    public TopicReader(string bootstrap, string topic)
    {
        _bootstrap = bootstrap;
        _topic = topic;
    }

    public long Messages => Interlocked.Read(ref _messages);
    public int DistinctIds => _seen.Count;
    public IReadOnlyCollection<string> Problems => _problems;

    public bool Contains(string eventId) => _seen.ContainsKey(eventId);

    /// <summary>The visitor's event ids in Kafka order, repeats included.</summary>
    public IReadOnlyList<string> EventsOf(string visitorId)
    {
        if (!_byVisitor.TryGetValue(visitorId, out var list))
        {
            return [];
        }
        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>Starts reading once the topic exists (the forwarder or the test creates it).</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        var partitions = await WaitForTopicAsync(timeout);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Run(partitions, ready)) { IsBackground = true, Name = "topic-reader" };
        _thread.Start();
        await ready.Task;
    }

    public async Task<int> WaitForTopicAsync(TimeSpan timeout)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _bootstrap }).SetLogHandler((_, _) => { }).Build();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var meta = admin.GetMetadata(TimeSpan.FromSeconds(2));
                var topic = meta.Topics.FirstOrDefault(t => t.Topic == _topic && !t.Error.IsError && t.Partitions.Count > 0);
                if (topic is not null)
                {
                    return topic.Partitions.Count;
                }
            }
            catch (KafkaException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"topic {_topic} did not appear within {timeout}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until every id of <paramref name="expected"/> has been read; returns the ids still missing at the deadline.</summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var missing = expected.Where(id => !_seen.ContainsKey(id)).ToList();
            if (missing.Count == 0 || DateTime.UtcNow > deadline)
            {
                return missing;
            }
            await Task.Delay(200);
        }
    }

    private void Run(int partitions, TaskCompletionSource ready)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _bootstrap,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 5,
            EnablePartitionEof = false,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(_topic, p, Offset.Beginning)));
        ready.TrySetResult();
        while (!_stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException)
            {
                continue;
            }
            if (result?.Message is not { } message)
            {
                continue;
            }
            Interlocked.Increment(ref _messages);
            try
            {
                using var doc = JsonDocument.Parse(message.Value);
                var root = doc.RootElement;
                var id = root.GetProperty("event_id").GetString()!;
                var site = root.GetProperty("site_id").GetString()!;
                var visitor = root.GetProperty("visitor_id").GetString()!;
                var key = Encoding.UTF8.GetString(message.Key);
                if (key != $"{site}:{visitor}")
                {
                    _problems.Enqueue($"message {id}: key '{key}' is not site:visitor '{site}:{visitor}'");
                }
                _seen.AddOrUpdate(id, 1, (_, n) => n + 1);
                var list = _byVisitor.GetOrAdd(visitor, _ => []);
                lock (list)
                {
                    list.Add(id);
                }
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                _problems.Enqueue($"unreadable message at {result.TopicPartitionOffset}: {ex.Message}");
            }
        }
        consumer.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
