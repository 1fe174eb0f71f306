using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Identity;
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
/// stage transitions on the input's partition number, with the input offsets, in one Kafka transaction
/// (<see cref="OutputPublisher"/>); then save the new states and the last applied offset to Redis (atomic
/// per partition, fenced by the partition's owner epoch). When an input partition is assigned (or after any
/// failure) it is claimed (<see cref="PartitionOwnership"/>): how far the stored state goes and how far each
/// output partition already got, and the loop resumes right after the stored state; touches replayed from
/// there give the same outputs (the engine is deterministic), and those already published are not published
/// again. So every event reaches the outputs once whichever step a crash interrupts. docs/processor.md walks
/// through each case.
/// </summary>
public sealed class StagingLoop : BackgroundService
{
    private readonly IServiceProvider _services;
    private readonly ProcessorMetrics _metrics;
    private readonly ProcessorStatus _status;
    private readonly ILogger<StagingLoop> _logger;
    private KafkaOptions _kafka = null!;
    private ProcessorOptions _options = null!;
    private IJourneyStateStore _store = null!;
    private StageRulesSource _rules = null!;
    private RedisIdentityStore _identity = null!;
    private IdentityResolver _resolver = null!;

    private readonly List<ConsumeResult<byte[]?, byte[]?>> _pending = [];
    private PartitionOwnership _ownership = null!;
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private OutputPublisher? _publisher;
    private OutputTailReader? _tails;

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
        _identity = _services.GetRequiredService<RedisIdentityStore>();
        _resolver = _services.GetRequiredService<IdentityResolver>();
        _rules.Reloaded += description =>
        {
            _metrics.Staging.CountReload(ok: true);
            _logger.LogInformation("Stage rules reloaded: {Rules}", description);
        };
        _rules.ReloadFailed += ex =>
        {
            _metrics.Staging.CountReload(ok: false);
            _logger.LogError("Stage rules file changed but cannot be used; the previous rules stay: {Problems}", ex.Message);
        };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        Exception? fatal = null;
        try
        {
            Resolve();
            _logger.LogInformation("librdkafka: {Librdkafka}", Librdkafka.Current);
            if (!KafkaSetup.WaitForTopics(_kafka, _logger, ct))
            {
                return;
            }
            _logger.LogInformation(
                "Staging '{Input}' into '{Staged}', '{Transitions}' and '{Conversions}' as group '{Group}', instance '{Instance}' ({Mode}); rules: {Rules}",
                _kafka.TouchpointsTopic, _kafka.StagedTopic, _kafka.TransitionsTopic, _kafka.ConversionsTopic, _kafka.GroupId, _options.InstanceId,
                _kafka.Transactional ? "transactional" : "idempotent, not transactional", _rules.Current.Engine.Source);
            _tails = new OutputTailReader(_kafka);
            _ownership = new PartitionOwnership(_kafka, _store, _tails, _metrics, _logger, ct);
            _publisher = new OutputPublisher(_kafka, _options.InstanceId, _logger);
            _consumer = KafkaSetup.CreateInputConsumer(_kafka, _logger, OnAssigned, OnRevoked);
            _consumer.Subscribe(_kafka.TouchpointsTopic);
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
                if (_ownership.RecoveryNeeded)
                {
                    _pending.Clear();
                    _ownership.Recover(_consumer!);
                }
                Collect(ct);
                _status.Running(_ownership.Count);
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
                _publisher!.AbortQuietly();
                return;
            }
            catch (Exception ex) when (!IsFatal(ex))
            {
                failures++;
                _status.BatchFailed(ex);
                _metrics.Failures.Inc(MetricsRegistry.Labels(("error", ex.GetType().Name)));
                _logger.LogWarning(ex, "Batch failed ({Failures} in a row); resuming from the stored state", failures);
                _publisher!.AbortQuietly();
                _pending.Clear();
                _ownership.RecoverAll();
                ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 7)))));
            }
        }
    }

    /// <summary>Fatal: another instance uses this transactional id, or the client cannot go on. The process stops; readiness says why.</summary>
    private static bool IsFatal(Exception ex) =>
        ex is KafkaException { Error.IsFatal: true } || ex is KafkaException { Error.Code: ErrorCode.ProducerFenced or ErrorCode.TransactionalIdAuthorizationFailed };

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        var result = _ownership.Assign(partitions);
        _status.Running(_ownership.Count);
        return result;
    }

    private void OnRevoked(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _pending.RemoveAll(r => r.Partition.Value == tp.Partition.Value);
        }
        _ownership.Revoke(partitions);
        _status.Running(_ownership.Count);
    }

    /// <summary>Reads a batch: up to MaxBatchSize records of the partitions being staged, waiting at most MaxBatchWaitMs after the first.</summary>
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
            if (!r.IsPartitionEOF && _ownership.IsStaging(r.Partition.Value))
            {
                _pending.Add(r);
            }
        }
    }

    private void StagePending(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var journeys = _rules.Current;
        var slices = new List<(OwnedPartition Run, BatchOutcome Outcome, long LastOffset)>();
        var identity = new BatchIdentity();
        var stager = new IdentityStager(journeys, _resolver);
        foreach (var group in _pending.GroupBy(r => r.Partition.Value))
        {
            var run = _ownership[group.Key];
            var records = group.Select(r => new InputRecord(r.Partition.Value, r.Offset.Value, r.Message.Value)).ToList();
            var parsed = BatchStager.Parse(records);
            var states = new Dictionary<string, JourneyState?>(StringComparer.Ordinal);
            var keys = parsed.Where(p => p.Key is not null).Select(p => p.Key!).Distinct(StringComparer.Ordinal).ToList();
            _store.LoadAsync(run.Claim, keys, states, ct).GetAwaiter().GetResult();
            identity.Visitors = states;
            _identity.LoadAsync(parsed, states, identity, stager).GetAwaiter().GetResult();
            var outcome = BatchStager.Stage(journeys, parsed, states, run.StagedTail, run.TransitionsTail, run.ConversionsTail, _resolver, identity);
            slices.Add((run, outcome, records[^1].Offset));
        }

        // 1. Publish the outputs and the input offsets in one transaction.
        _publisher!.Begin();
        foreach (var (_, outcome, _) in slices)
        {
            foreach (var output in outcome.Outputs)
            {
                _publisher.Publish(output, ct);
            }
        }
        _publisher.AwaitDelivery(ct);
        var offsets = slices.Select(s => new TopicPartitionOffset(_kafka.TouchpointsTopic, s.Run.Claim.Partition, s.LastOffset + 1)).ToList();
        _publisher.CommitTransaction(offsets, _consumer!);

        // 2. Save identity (persons, index, unmatched events): before the partitions' states, so a crash in between
        //    replays the batch on persons that already hold its touches (found as duplicates, nothing published twice).
        var conflicts = _identity.SaveAsync(identity).GetAwaiter().GetResult();
        if (conflicts > 0)
        {
            _metrics.IdentityConflicts.Inc(by: conflicts);
        }

        // 3. Save the new states with the applied offset, atomically per partition and fenced by epoch.
        foreach (var (run, outcome, lastOffset) in slices)
        {
            if (!_store.SaveAsync(run.Claim, lastOffset, outcome.Changed, ct).GetAwaiter().GetResult())
            {
                _ownership.GiveUpFenced(_consumer!, run.Claim.Partition);
            }
        }
        if (!_kafka.Transactional)
        {
            _consumer!.Commit(offsets);
        }
        _pending.Clear();

        foreach (var (_, outcome, _) in slices)
        {
            _metrics.CountStaged(outcome, _publisher.TopicOf);
        }
        var t = identity.Tally;
        _metrics.Staging.CountIdentity(t.Linked, t.Merged, t.Junk, t.CapRefused, t.Relinked, t.Matched, t.Unmatched, t.Rematched);
        _metrics.Batches.Inc();
        _metrics.BatchSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private void Shutdown()
    {
        _publisher?.AbortQuietly();
        try
        {
            _consumer?.Close(); // leaves the group at once, so the partitions move without waiting for the session timeout
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning(ex, "Closing the Kafka consumer failed");
        }
        _consumer?.Dispose();
        _publisher?.Dispose();
        _tails?.Dispose();
    }
}
