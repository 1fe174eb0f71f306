using TouchpointTracker.Messaging;
using System.Globalization;
using Confluent.Kafka;
using StackExchange.Redis;
using TouchpointTracker.Processor.Configuration;
using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.Processor.State;

namespace TouchpointTracker.Processor.Staging;

/// <summary>
/// The input partitions this instance stages, and its claim on each. An assigned partition is claimed in
/// the state store (a new owner epoch, which fences the saves of its previous owner) and read from right
/// after the stored state. A partition whose claim or batch failed is claimed again and the consumer moved
/// back before the next batch (<see cref="Recover"/>); one whose save was refused because another instance
/// claimed it is given up (<see cref="GiveUpFenced"/>). Used on the staging loop's thread only (the
/// consumer runs its rebalance callbacks inside Consume).
/// </summary>
internal sealed class PartitionOwnership(
    KafkaOptions kafka,
    IJourneyStateStore store,
    OutputTailReader tails,
    ProcessorMetrics metrics,
    ILogger logger,
    CancellationToken stopping)
{
    private readonly Dictionary<int, OwnedPartition> _owned = [];
    private readonly HashSet<int> _needRecovery = [];

    public int Count => _owned.Count;

    /// <summary>Whether some owned partition must be claimed again before the next batch.</summary>
    public bool RecoveryNeeded => _needRecovery.Count > 0;

    public OwnedPartition this[int partition] => _owned[partition];

    /// <summary>Whether records of <paramref name="partition"/> may be staged: owned, and not waiting to be claimed again.</summary>
    public bool IsStaging(int partition) => _owned.ContainsKey(partition) && !_needRecovery.Contains(partition);

    /// <summary>Rebalance: claims the assigned partitions and returns where to read each from.</summary>
    public List<TopicPartitionOffset> Assign(List<TopicPartition> partitions)
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
                logger.LogWarning(ex, "Partition {Partition}: could not claim it yet", tp.Partition.Value);
                _owned[tp.Partition.Value] = new OwnedPartition(new PartitionClaim(tp.Partition.Value, 0, null), -1, -1);
                _needRecovery.Add(tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, Offset.Unset));
            }
        }
        return result;
    }

    /// <summary>Rebalance: the partitions were revoked or lost.</summary>
    public void Revoke(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _owned.Remove(tp.Partition.Value);
            _needRecovery.Remove(tp.Partition.Value);
            store.Release(tp.Partition.Value);
        }
    }

    /// <summary>After a failed batch: every owned partition is claimed again before the next one.</summary>
    public void RecoverAll()
    {
        foreach (var p in _owned.Keys)
        {
            _needRecovery.Add(p);
        }
    }

    /// <summary>Claims every partition needing it again and moves the consumer back to where its stored state ends.</summary>
    public void Recover(IConsumer<byte[]?, byte[]?> consumer)
    {
        foreach (var partition in _needRecovery.ToList())
        {
            if (!_owned.ContainsKey(partition))
            {
                _needRecovery.Remove(partition);
                continue;
            }
            var run = Claim(partition);
            var tp = new TopicPartition(kafka.TouchpointsTopic, partition);
            Offset start;
            if (run.Claim.AppliedOffset is { } applied)
            {
                start = applied + 1;
            }
            else
            {
                var committed = consumer.Committed([tp], TimeSpan.FromSeconds(10)).Single().Offset;
                start = committed.IsSpecial ? Offset.Beginning : committed;
            }
            consumer.Seek(new TopicPartitionOffset(tp, start));
            _owned[partition] = run;
            _needRecovery.Remove(partition);
        }
    }

    /// <summary>A state save was refused: another instance claimed <paramref name="partition"/>, so this one stops staging it.</summary>
    public void GiveUpFenced(IConsumer<byte[]?, byte[]?> consumer, int partition)
    {
        metrics.Fenced.Inc();
        logger.LogWarning("Partition {Partition} was claimed by another instance; this one stops staging it", partition);
        _owned.Remove(partition);
        store.Release(partition);
        consumer.Pause([new TopicPartition(kafka.TouchpointsTopic, partition)]);
    }

    /// <summary>Claims a partition: new owner epoch, stored offset, and what the outputs already hold.</summary>
    private OwnedPartition Claim(int partition)
    {
        var claim = store.ClaimAsync(partition, stopping).GetAwaiter().GetResult();
        var stagedTail = tails.LastSourceOffset(kafka.StagedTopic, partition, stopping);
        var transitionsTail = tails.LastSourceOffset(kafka.TransitionsTopic, partition, stopping);
        var conversionsTail = tails.LastSourceOffset(kafka.ConversionsTopic, partition, stopping);
        metrics.Claims.Inc();
        logger.LogInformation(
            "Partition {Partition}: claimed (epoch {Epoch}); state applied up to offset {Applied}; outputs published up to offsets {Staged} (staged), {Transitions} (transitions) and {Conversions} (conversions)",
            partition, claim.Epoch, claim.AppliedOffset?.ToString(CultureInfo.InvariantCulture) ?? "none", stagedTail, transitionsTail, conversionsTail);
        return new OwnedPartition(claim, stagedTail, transitionsTail, conversionsTail);
    }
}
