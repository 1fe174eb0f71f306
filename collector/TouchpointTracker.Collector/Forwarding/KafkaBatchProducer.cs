using TouchpointTracker.Messaging;
using Confluent.Kafka;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Produces one attempt of a shard's batch and waits for every delivery report, then tells how each entry
/// ended. Entries go to the producer in stream order; once it refuses one for a reason that is not the
/// message's own, the later ones are not handed over at all, so none can overtake it.
/// </summary>
internal sealed class KafkaBatchProducer(ForwarderContext ctx)
{
    private DeliveryBatch _delivery = new();
    private EntryOutcome[] _outcomes = [];

    /// <summary>Produces the entries <paramref name="attempt"/> lists (indices into a batch of <paramref name="capacity"/>) and waits for their reports.</summary>
    public async Task ProduceAsync(Message<byte[], byte[]>?[] messages, IReadOnlyList<int> attempt, int capacity, CancellationToken abort)
    {
        if (_outcomes.Length < capacity)
        {
            _outcomes = new EntryOutcome[capacity];
        }
        Produce(messages, attempt, capacity);
        await WaitForReportsAsync(attempt, abort);
        foreach (var i in attempt)
        {
            _outcomes[i] = _delivery.ErrorOf(i) is { } e
                ? KafkaErrorClassifier.Classify(e) switch
                {
                    DeliveryErrorClass.PermanentForMessage => EntryOutcome.Rejected,
                    DeliveryErrorClass.Fatal => EntryOutcome.Fatal,
                    _ => EntryOutcome.Retriable,
                }
                : EntryOutcome.Delivered;
        }
    }

    /// <summary>How entry <paramref name="index"/> of the last attempt ended.</summary>
    public EntryOutcome OutcomeOf(int index) => _outcomes[index];

    /// <summary>Why entry <paramref name="index"/> of the last attempt was not delivered; null when it was.</summary>
    public Error? ErrorOf(int index) => _delivery.ErrorOf(index);

    private void Produce(Message<byte[], byte[]>?[] messages, IReadOnlyList<int> attempt, int capacity)
    {
        var producer = ctx.Kafka.Producer;
        var topic = ctx.Kafka.Topic;
        _delivery.Begin(capacity, attempt.Count);
        Error? refused = null;
        foreach (var i in attempt)
        {
            if (refused is not null)
            {
                // Not handed to the producer, so it cannot overtake the refused entry: retried after it.
                _delivery.Complete(i, refused);
                continue;
            }
            try
            {
                producer.Produce(topic, messages[i]!, _delivery.HandlerFor(i));
            }
            catch (ProduceException<byte[], byte[]> ex)
            {
                _delivery.Complete(i, ex.Error);
                refused = KafkaErrorClassifier.Classify(ex.Error) == DeliveryErrorClass.PermanentForMessage ? null : ex.Error;
            }
            catch (KafkaException ex)
            {
                _delivery.Complete(i, ex.Error);
                refused = ex.Error;
            }
            catch (ObjectDisposedException)
            {
                refused = new Error(ErrorCode.Local_Destroy, "the producer was replaced");
                _delivery.Complete(i, refused);
            }
        }
    }

    /// <summary>
    /// Waits for every report of the attempt. librdkafka reports each message within message.timeout.ms;
    /// the extra bound only guards against reports lost with a replaced producer: those entries count as
    /// timed out, and later reports go to the abandoned batch object.
    /// </summary>
    private async Task WaitForReportsAsync(IReadOnlyList<int> attempt, CancellationToken abort)
    {
        try
        {
            await _delivery.Completion.WaitAsync(TimeSpan.FromMilliseconds(ctx.KafkaOptions.MessageTimeoutMs + 30_000), abort);
        }
        catch (TimeoutException)
        {
            var abandoned = _delivery;
            _delivery = new DeliveryBatch();
            _delivery.Begin(abandoned.Capacity, 0);
            foreach (var i in attempt)
            {
                _delivery.Set(i, abandoned.Reported(i) ? abandoned.ErrorOf(i) : new Error(ErrorCode.Local_MsgTimedOut, "no delivery report"));
            }
        }
    }
}
