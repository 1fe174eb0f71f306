using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using TouchpointTracker.Analytics;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Messaging;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Analytics;

/// <summary>
/// Reads the staged touchpoints and stage transitions into the analytics store, in its own consumer group.
/// A batch is written, flushed (durable in DuckDB) and only then are its offsets committed, so a crash
/// replays at most the uncommitted batch, and the store ignores rows it already holds (event id): nothing
/// is lost or counted twice. Only committed Kafka transactions are read (the processor publishes in them).
/// </summary>
public sealed class AnalyticsSink(
    IOptions<KafkaOptions> kafka,
    IOptions<AnalyticsSinkOptions> options,
    AnalyticsWriter writer,
    AnalyticsSinkStatus status,
    MetricsRegistry metrics,
    TimeProvider clock,
    ILogger<AnalyticsSink> logger) : BackgroundService
{
    private static readonly TimeSpan LagEvery = TimeSpan.FromSeconds(5);
    private readonly Counter _consumed = metrics.Counter("tt_analytics_sink_messages_total", "Messages read into the analytics store, by topic and outcome (written, invalid).");
    private readonly Counter _batches = metrics.Counter("tt_analytics_sink_batches_total", "Batches flushed to the analytics store and committed.");
    private readonly Counter _failures = metrics.Counter("tt_analytics_sink_failures_total", "Flushes or commits that failed and were retried.");
    private readonly Dictionary<TopicPartition, TopicPartitionOffset> _pending = [];
    private IConsumer<byte[]?, byte[]?>? _consumer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.Gauge("tt_analytics_sink_lag", "Messages of the output topics not yet in the analytics store.", () => status.CurrentLag ?? 0);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        var k = kafka.Value;
        var o = options.Value;
        var config = Kafka.KafkaClients.AnalyticsConsumer(k, o.GroupId);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsRevokedHandler((_, _) => FlushAndCommit(ct)) // hand over only what is durable
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .Build();
        _consumer = consumer;
        consumer.Subscribe([k.StagedTopic, k.TransitionsTopic]);
        var nextLag = DateTimeOffset.MinValue;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var started = clock.GetUtcNow();
                var count = 0;
                while (count < o.MaxBatchSize && clock.GetUtcNow() - started < TimeSpan.FromMilliseconds(o.MaxBatchWaitMs) && !ct.IsCancellationRequested)
                {
                    ConsumeResult<byte[]?, byte[]?>? result;
                    try
                    {
                        result = consumer.Consume(TimeSpan.FromMilliseconds(50));
                    }
                    catch (ConsumeException ex) when (!ex.Error.IsFatal)
                    {
                        logger.LogWarning("Analytics sink: consume error {Reason}; retrying", ex.Error.Reason);
                        continue;
                    }
                    if (result is null || result.IsPartitionEOF)
                    {
                        continue;
                    }
                    Write(result, k, ct);
                    _pending[result.TopicPartition] = new TopicPartitionOffset(result.TopicPartition, result.Offset + 1);
                    count++;
                }
                if (_pending.Count == 0)
                {
                    status.Idle();
                }
                FlushAndCommit(ct);
                var now = clock.GetUtcNow();
                if (now >= nextLag)
                {
                    ReportLag(consumer);
                    nextLag = now + LagEvery;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            FlushAndCommit(CancellationToken.None);
            consumer.Close(); // leave the group cleanly
            _consumer = null;
        }
    }

    private void Write(ConsumeResult<byte[]?, byte[]?> result, KafkaOptions k, CancellationToken ct)
    {
        var isStaged = result.Topic == k.StagedTopic;
        var topic = isStaged ? "staged" : "transitions";
        try
        {
            if (result.Message.Value is { Length: > 0 } value)
            {
                if (isStaged)
                {
                    if (JsonSerializer.Deserialize(value, ContractsJsonContext.Default.Touchpoint) is { Journey: not null } tp && tp.EventId.Length > 0)
                    {
                        writer.AddAsync(tp, ct).AsTask().GetAwaiter().GetResult();
                        _consumed.Inc(MetricsRegistry.Labels(("topic", topic), ("outcome", "written")));
                        return;
                    }
                }
                else if (JsonSerializer.Deserialize(value, JourneysJsonContext.Default.StageTransition) is { } transition && transition.EventId.Length > 0)
                {
                    writer.AddAsync(transition, ct).AsTask().GetAwaiter().GetResult();
                    _consumed.Inc(MetricsRegistry.Labels(("topic", topic), ("outcome", "written")));
                    return;
                }
            }
        }
        catch (JsonException)
        {
        }
        // Not a message of its schema: counted and skipped (its offset is committed with the batch).
        _consumed.Inc(MetricsRegistry.Labels(("topic", topic), ("outcome", "invalid")));
        logger.LogWarning("Analytics sink: skipped a message that is not a {Topic} record at {TopicPartitionOffset}", topic, result.TopicPartitionOffset);
    }

    /// <summary>Flushes the store, then commits the batch's offsets; retries until both succeed or the sink stops.</summary>
    private void FlushAndCommit(CancellationToken ct)
    {
        if (_pending.Count == 0 || _consumer is null)
        {
            return;
        }
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                writer.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
                _consumer.Commit(_pending.Values.ToList());
                _pending.Clear();
                _batches.Inc();
                status.Flushed();
                return;
            }
            catch (Exception ex) when (ex is KafkaException or InvalidOperationException or IOException or DuckDB.NET.Data.DuckDBException)
            {
                _failures.Inc();
                status.Failed(ex.Message);
                logger.LogError(ex, "Analytics sink: flush or commit failed; retrying in {Backoff}", backoff);
                if (ct.IsCancellationRequested)
                {
                    return; // stopping: the uncommitted batch is read again at the next start
                }
                ct.WaitHandle.WaitOne(backoff);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 10_000));
            }
        }
    }

    private void ReportLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            long lag = 0;
            foreach (var tp in consumer.Assignment)
            {
                var position = consumer.Position(tp);
                var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(2)).High;
                if (position.Value >= 0 && high.Value >= 0)
                {
                    lag += Math.Max(0, high.Value - position.Value);
                }
                else if (high.Value > 0 && position.Value < 0)
                {
                    lag += high.Value; // nothing read yet on this partition
                }
            }
            status.Lag(lag);
        }
        catch (KafkaException ex)
        {
            logger.LogDebug("Analytics sink: lag not measured ({Reason})", ex.Message);
        }
    }
}
