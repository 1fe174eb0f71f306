using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Rules;
using TouchpointTracker.Messaging;
using TouchpointTracker.Processor.Configuration;
using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.Processor.State;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Staging;

/// <summary>
/// The processor's consume-stage-publish loop, on its own long-running thread.
///
/// Each batch: stage the touchpoints on their visitors' stored state; publish the staged touchpoints and
/// stage transitions on the input's partition number, with the input offsets, in one Kafka transaction;
/// then save the new states and the last applied offset to Redis (atomic per partition, fenced by the
/// partition's owner epoch). When an input partition is assigned (or after any failure) the loop claims
/// it, reads how far the stored state goes and how far each output partition already got, and resumes
/// right after the stored state; touches replayed from there give the same outputs (the engine is
/// deterministic), and those already published are not published again. So every event reaches the
/// outputs once whichever step a crash interrupts. docs/processor.md walks through each case.
/// </summary>
public sealed class StagingLoop : BackgroundService
{
    private static readonly TimeSpan TxnTimeout = TimeSpan.FromSeconds(30);

    private readonly IServiceProvider _services;
    private readonly ProcessorMetrics _metrics;
    private readonly ProcessorStatus _status;
    private readonly ILogger<StagingLoop> _logger;
    private KafkaOptions _kafka = null!;
    private ProcessorOptions _options = null!;
    private IJourneyStateStore _store = null!;
    private StageRulesSource _rules = null!;

    private readonly Dictionary<int, PartitionRun> _owned = [];
    private readonly List<ConsumeResult<byte[]?, byte[]?>> _pending = [];
    private readonly HashSet<int> _needRecovery = [];
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private IProducer<byte[], byte[]>? _producer;
    private OutputTailReader? _tails;
    private bool _inTransaction;
    private int _deliveryErrors;
    private string? _firstDeliveryError;
    private CancellationToken _stopping;

    /// <remarks>
    /// Dependencies are resolved when the loop starts, after the options were validated, so a
    /// misconfigured process reports every bad setting at once rather than the first one touched.
    /// </remarks>
    public StagingLoop(IServiceProvider services, ProcessorMetrics metrics, ProcessorStatus status, ILogger<StagingLoop> logger)
    {
        _services = services;
        _metrics = metrics;
        _status = status;
        _logger = logger;
    }

    private void Resolve()
    {
        _kafka = _services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        _options = _services.GetRequiredService<IOptions<ProcessorOptions>>().Value;
        _store = _services.GetRequiredService<IJourneyStateStore>();
        _rules = _services.GetRequiredService<StageRulesSource>();
        _rules.Reloaded += description =>
        {
            _metrics.RuleReloads.Inc(MetricsRegistry.Labels(("result", "ok")));
            _logger.LogInformation("Stage rules reloaded: {Rules}", description);
        };
        _rules.ReloadFailed += ex =>
        {
            _metrics.RuleReloads.Inc(MetricsRegistry.Labels(("result", "invalid")));
            _logger.LogError("Stage rules file changed but cannot be used; the previous rules stay: {Problems}", ex.Message);
        };
    }

    /// <summary>One owned input partition: the state claim, and how far each output partition already got.</summary>
    private sealed record PartitionRun(PartitionClaim Claim, long StagedTail, long TransitionsTail);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        _stopping = ct;
        Exception? fatal = null;
        try
        {
            Resolve();
            _logger.LogInformation("librdkafka: {Librdkafka}", Librdkafka.Current);
            if (!WaitForTopics(ct))
            {
                return;
            }
            _logger.LogInformation(
                "Staging '{Input}' into '{Staged}' and '{Transitions}' as group '{Group}', instance '{Instance}' ({Mode}); rules: {Rules}",
                _kafka.InputTopic, _kafka.StagedTopic, _kafka.TransitionsTopic, _kafka.GroupId, _options.InstanceId,
                _kafka.Transactional ? "transactional" : "idempotent, not transactional", _rules.Current.Engine.Source);
            _tails = new OutputTailReader(_kafka);
            CreateProducer();
            _consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClients.InputConsumer(_kafka))
                .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
                .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition)))
                .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition)))
                .SetErrorHandler((_, e) =>
                {
                    if (e.IsFatal)
                    {
                        _logger.LogError("Kafka consumer fatal error: {Reason}", e.Reason);
                    }
                    else
                    {
                        _logger.LogDebug("Kafka consumer: {Reason}", e.Reason);
                    }
                })
                .Build();
            _consumer.Subscribe(_kafka.InputTopic);
            _status.Running(0);
            Loop(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            fatal = ex;
            _logger.LogCritical(ex, "The staging loop stopped");
            throw;
        }
        finally
        {
            _status.Stopped(fatal);
            Shutdown();
        }
    }

    private void Loop(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_needRecovery.Count > 0)
                {
                    Recover();
                }
                Collect(ct);
                _status.Running(_owned.Count);
                if (_pending.Count == 0)
                {
                    continue;
                }
                StagePending(ct);
                failures = 0;
                _status.BatchSucceeded();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                AbortQuietly();
                return;
            }
            catch (Exception ex) when (!IsFatal(ex))
            {
                failures++;
                _status.BatchFailed(ex);
                _metrics.Failures.Inc(MetricsRegistry.Labels(("error", ex.GetType().Name)));
                _logger.LogWarning(ex, "Batch failed ({Failures} in a row); resuming from the stored state", failures);
                AbortQuietly();
                _pending.Clear();
                foreach (var p in _owned.Keys)
                {
                    _needRecovery.Add(p);
                }
                ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 7)))));
            }
        }
    }

    /// <summary>Fatal: another instance uses this transactional id, or the client cannot go on. The process stops; readiness says why.</summary>
    private static bool IsFatal(Exception ex) =>
        ex is KafkaException { Error.IsFatal: true } || ex is KafkaException { Error.Code: ErrorCode.ProducerFenced or ErrorCode.TransactionalIdAuthorizationFailed };

    private bool WaitForTopics(CancellationToken ct)
    {
        using var admin = new AdminClientBuilder(KafkaClients.Admin(_kafka)).Build();
        var warned = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (KafkaClients.EnsureTopicsAsync(admin, _kafka, ct).GetAwaiter().GetResult() is not null)
                {
                    return true;
                }
                if (!warned)
                {
                    _logger.LogWarning("Input topic '{Topic}' does not exist yet; waiting for it", _kafka.InputTopic);
                    warned = true;
                }
            }
            catch (KafkaException ex)
            {
                _logger.LogWarning("Kafka not reachable yet ({Reason}); retrying", ex.Message);
            }
            ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
        }
        return false;
    }

    private void CreateProducer()
    {
        _producer?.Dispose();
        _producer = new ProducerBuilder<byte[], byte[]>(KafkaClients.OutputProducer(_kafka, _options.InstanceId))
            .SetErrorHandler((_, e) => _logger.Log(e.IsFatal ? LogLevel.Error : LogLevel.Debug, "Kafka producer: {Reason}", e.Reason))
            .Build();
        if (_kafka.Transactional)
        {
            // Fences this instance's previous run and aborts the transaction it may have left open.
            _producer.InitTransactions(TxnTimeout);
        }
    }

    private void Collect(CancellationToken ct)
    {
        var first = _consumer!.Consume(TimeSpan.FromMilliseconds(250));
        if (first is null)
        {
            return;
        }
        Add(first);
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * _options.MaxBatchWaitMs / 1000;
        while (_pending.Count < _options.MaxBatchSize && !ct.IsCancellationRequested)
        {
            var left = Math.Max(0, (deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency);
            var next = _consumer.Consume(TimeSpan.FromMilliseconds(left));
            if (next is null)
            {
                break;
            }
            Add(next);
        }

        void Add(ConsumeResult<byte[]?, byte[]?> r)
        {
            if (!r.IsPartitionEOF && _owned.ContainsKey(r.Partition.Value) && !_needRecovery.Contains(r.Partition.Value))
            {
                _pending.Add(r);
            }
        }
    }

    private void StagePending(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var journeys = _rules.Current;
        var slices = new List<(PartitionRun Run, BatchOutcome Outcome, long LastOffset)>();
        foreach (var group in _pending.GroupBy(r => r.Partition.Value))
        {
            var run = _owned[group.Key];
            var records = group.Select(r => new InputRecord(r.Partition.Value, r.Offset.Value, r.Message.Value)).ToList();
            var parsed = BatchStager.Parse(records);
            var states = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
            var keys = parsed.Where(p => p.Key is not null).Select(p => p.Key!).Distinct(StringComparer.Ordinal).ToList();
            _store.LoadAsync(run.Claim, keys, states, ct).GetAwaiter().GetResult();
            var outcome = BatchStager.Stage(journeys, parsed, states, run.StagedTail, run.TransitionsTail);
            slices.Add((run, outcome, records[^1].Offset));
        }

        // 1. Publish the outputs and the input offsets in one transaction.
        _deliveryErrors = 0;
        _firstDeliveryError = null;
        if (_kafka.Transactional)
        {
            _producer!.BeginTransaction();
            _inTransaction = true;
        }
        foreach (var (_, outcome, _) in slices)
        {
            foreach (var output in outcome.Outputs)
            {
                Publish(output);
            }
        }
        while (_producer!.Flush(TimeSpan.FromMilliseconds(500)) > 0)
        {
            ct.ThrowIfCancellationRequested();
        }
        if (_deliveryErrors > 0)
        {
            throw new KafkaException(new Error(ErrorCode.Local_Fail, $"{_deliveryErrors} outputs were not delivered; first: {_firstDeliveryError}"));
        }
        var offsets = slices.Select(s => new TopicPartitionOffset(_kafka.InputTopic, s.Run.Claim.Partition, s.LastOffset + 1)).ToList();
        if (_kafka.Transactional)
        {
            _producer.SendOffsetsToTransaction(offsets, _consumer!.ConsumerGroupMetadata, TxnTimeout);
            _producer.CommitTransaction(TxnTimeout);
            _inTransaction = false;
        }

        // 2. Save the new states with the applied offset, atomically per partition and fenced by epoch.
        foreach (var (run, outcome, lastOffset) in slices)
        {
            if (!_store.SaveAsync(run.Claim, lastOffset, outcome.Changed, ct).GetAwaiter().GetResult())
            {
                _metrics.Fenced.Inc();
                _logger.LogWarning("Partition {Partition} was claimed by another instance; this one stops staging it", run.Claim.Partition);
                _owned.Remove(run.Claim.Partition);
                _consumer!.Pause([new TopicPartition(_kafka.InputTopic, run.Claim.Partition)]);
            }
        }
        if (!_kafka.Transactional)
        {
            _consumer!.Commit(offsets);
        }
        _pending.Clear();

        foreach (var (_, o, _) in slices)
        {
            _metrics.Events.Inc(MetricsRegistry.Labels(("outcome", "staged")), o.Staged);
            _metrics.Events.Inc(MetricsRegistry.Labels(("outcome", "duplicate")), o.Duplicates);
            _metrics.Events.Inc(MetricsRegistry.Labels(("outcome", "bot")), o.Bots);
            _metrics.Events.Inc(MetricsRegistry.Labels(("outcome", "invalid")), o.Invalid);
            _metrics.Late.Inc(MetricsRegistry.Labels(("placed", "late")), o.Late);
            _metrics.Late.Inc(MetricsRegistry.Labels(("placed", "too_late")), o.TooLate);
            _metrics.Suppressed.Inc(by: o.Suppressed);
            foreach (var stage in o.TransitionsTo)
            {
                _metrics.Transitions.Inc(MetricsRegistry.Labels(("stage", stage)));
            }
            foreach (var kind in o.Outputs.GroupBy(x => x.Kind))
            {
                _metrics.Published.Inc(MetricsRegistry.Labels(("topic", TopicOf(kind.Key))), kind.Count());
            }
        }
        _metrics.Batches.Inc();
        _metrics.BatchSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private void Publish(OutputMessage output)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = output.Key,
            Value = output.Value,
            Headers = [new Header(KafkaClients.SourceOffsetHeader, Encoding.ASCII.GetBytes(output.SourceOffset.ToString(CultureInfo.InvariantCulture)))],
        };
        var target = new TopicPartition(TopicOf(output.Kind), output.Partition);
        while (true)
        {
            try
            {
                _producer!.Produce(target, message, OnDelivered);
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer!.Poll(TimeSpan.FromMilliseconds(50));
                _stopping.ThrowIfCancellationRequested();
            }
        }
    }

    private void OnDelivered(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError && Interlocked.Increment(ref _deliveryErrors) == 1)
        {
            _firstDeliveryError = report.Error.Reason;
        }
    }

    private string TopicOf(OutputKind kind) => kind == OutputKind.Staged ? _kafka.StagedTopic : _kafka.TransitionsTopic;

    /// <summary>Claims a partition: new owner epoch, stored offset, and what the outputs already hold.</summary>
    private PartitionRun Claim(int partition)
    {
        var claim = _store.ClaimAsync(partition, _stopping).GetAwaiter().GetResult();
        var stagedTail = _tails!.LastSourceOffset(_kafka.StagedTopic, partition, _stopping);
        var transitionsTail = _tails.LastSourceOffset(_kafka.TransitionsTopic, partition, _stopping);
        _metrics.Claims.Inc();
        _logger.LogInformation(
            "Partition {Partition}: claimed (epoch {Epoch}); state applied up to offset {Applied}; outputs published up to offsets {Staged} (staged) and {Transitions} (transitions)",
            partition, claim.Epoch, claim.AppliedOffset?.ToString(CultureInfo.InvariantCulture) ?? "none", stagedTail, transitionsTail);
        return new PartitionRun(claim, stagedTail, transitionsTail);
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        var result = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions)
        {
            try
            {
                var run = Claim(tp.Partition.Value);
                _owned[tp.Partition.Value] = run;
                _needRecovery.Remove(tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, run.Claim.AppliedOffset is { } applied ? applied + 1 : Offset.Unset));
            }
            catch (Exception ex) when (ex is RedisException or KafkaException or TimeoutException)
            {
                // Claimed again by the loop (Recover) once Redis and Kafka answer.
                _logger.LogWarning(ex, "Partition {Partition}: could not claim it yet", tp.Partition.Value);
                _owned[tp.Partition.Value] = new PartitionRun(new PartitionClaim(tp.Partition.Value, 0, null), -1, -1);
                _needRecovery.Add(tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, Offset.Unset));
            }
        }
        _status.Running(_owned.Count);
        return result;
    }

    private void OnRevoked(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _owned.Remove(tp.Partition.Value);
            _needRecovery.Remove(tp.Partition.Value);
            _pending.RemoveAll(r => r.Partition.Value == tp.Partition.Value);
        }
        _status.Running(_owned.Count);
    }

    /// <summary>Claims every partition needing it again and moves the consumer back to where its stored state ends.</summary>
    private void Recover()
    {
        _pending.Clear();
        foreach (var partition in _needRecovery.ToList())
        {
            if (!_owned.ContainsKey(partition))
            {
                _needRecovery.Remove(partition);
                continue;
            }
            var run = Claim(partition);
            var tp = new TopicPartition(_kafka.InputTopic, partition);
            Offset start;
            if (run.Claim.AppliedOffset is { } applied)
            {
                start = applied + 1;
            }
            else
            {
                var committed = _consumer!.Committed([tp], TimeSpan.FromSeconds(10)).Single().Offset;
                start = committed.IsSpecial ? Offset.Beginning : committed;
            }
            _consumer!.Seek(new TopicPartitionOffset(tp, start));
            _owned[partition] = run;
            _needRecovery.Remove(partition);
        }
    }

    private void AbortQuietly()
    {
        if (!_inTransaction || _producer is null)
        {
            return;
        }
        try
        {
            _producer.AbortTransaction(TxnTimeout);
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning(ex, "Could not abort the transaction; starting a new producer");
            try
            {
                CreateProducer();
            }
            catch (KafkaException inner)
            {
                _logger.LogWarning(inner, "Could not start a new producer yet");
            }
        }
        _inTransaction = false;
    }

    private void Shutdown()
    {
        AbortQuietly();
        try
        {
            _consumer?.Close(); // leaves the group at once, so the partitions move without waiting for the session timeout
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning(ex, "Closing the Kafka consumer failed");
        }
        _consumer?.Dispose();
        if (_kafka is { Transactional: false })
        {
            _producer?.Flush(TimeSpan.FromSeconds(10));
        }
        _producer?.Dispose();
        _tails?.Dispose();
    }
}
