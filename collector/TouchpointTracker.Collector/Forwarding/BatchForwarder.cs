using TouchpointTracker.Messaging;
using Confluent.Kafka;
using StackExchange.Redis;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>
/// Forwards one batch of a shard until nothing of it is left: dead-letters the entries that can never be
/// forwarded, produces the others, acknowledges what Kafka confirmed, dead-letters what it rejected, and
/// produces the rest again after a back-off (<see cref="RetryPlan"/>: a failed entry and every later entry
/// of its key go again, in order). Only aborting the worker leaves entries pending.
/// </summary>
internal sealed class BatchForwarder
{
    private readonly ForwarderContext _ctx;
    private readonly int _shard;
    private readonly RedisKey _stream;
    private readonly RedisValue _group;
    private readonly Backoff _backoff;
    private readonly LogThrottle _throttle;
    private readonly DeadLetterWriter _deadLetters;
    private readonly KafkaBatchProducer _producer;
    private readonly List<int> _attempt = [];
    private readonly List<int> _ack = [];
    private readonly List<int> _dead = [];
    private readonly List<int> _retry = [];
    private readonly List<PoisonEntry> _poison = [];
    private Message<byte[], byte[]>?[] _messages = [];

    /// <param name="backoff">The worker's back-off: reset by the worker after each batch forwarded.</param>
    /// <param name="throttle">The worker's log throttle, shared so one outage is logged at one rate.</param>
    public BatchForwarder(ForwarderContext ctx, int shard, Backoff backoff, LogThrottle throttle)
    {
        _ctx = ctx;
        _shard = shard;
        _stream = ctx.Map.Stream(shard);
        _group = ctx.RedisOptions.ConsumerGroup;
        _backoff = backoff;
        _throttle = throttle;
        _deadLetters = new DeadLetterWriter(ctx, shard);
        _producer = new KafkaBatchProducer(ctx);
    }

    public async Task ForwardAsync(IDatabase db, StreamEntry[] entries, CancellationToken abort)
    {
        if (_messages.Length < entries.Length)
        {
            _messages = new Message<byte[], byte[]>?[entries.Length];
        }
        _attempt.Clear();
        _poison.Clear();
        _deadLetters.Screen(entries, _messages, _attempt, _poison);
        if (_poison.Count > 0)
        {
            await _deadLetters.WriteAsync(db, entries, _poison);
        }

        _ctx.Delivery.BatchStarted(_shard);
        while (_attempt.Count > 0)
        {
            await _producer.ProduceAsync(_messages, _attempt, entries.Length, abort);

            _ack.Clear();
            _dead.Clear();
            _retry.Clear();
            RetryPlan.Split(_attempt, _producer.OutcomeOf, i => TouchpointKey.ToText(_messages[i]!.Key), _ack, _dead, _retry);
            if (_ack.Count > 0)
            {
                await AcknowledgeAsync(db, entries);
            }
            if (_dead.Count > 0)
            {
                _poison.Clear();
                foreach (var i in _dead)
                {
                    var e = _producer.ErrorOf(i);
                    _poison.Add(new(i, "rejected_by_kafka", e is null ? "rejected" : $"{e.Code}: {e.Reason}"));
                }
                await _deadLetters.WriteAsync(db, entries, _poison);
            }
            if (_retry.Count == 0)
            {
                break;
            }
            await BackOffAsync(abort);
            _attempt.Clear();
            _attempt.AddRange(_retry);
        }
    }

    private async Task AcknowledgeAsync(IDatabase db, StreamEntry[] entries)
    {
        var ids = new RedisValue[_ack.Count];
        for (var k = 0; k < ids.Length; k++)
        {
            ids[k] = entries[_ack[k]].Id;
        }
        await db.StreamAcknowledgeAsync(_stream, _group, ids);
        _ctx.Metrics.Forwarded.Inc(by: ids.Length);
        _ctx.Delivery.Delivered();
    }

    /// <summary>Counts and reports the failures of the entries to retry, replaces a fatally failed producer, and waits.</summary>
    private async Task BackOffAsync(CancellationToken abort)
    {
        var fatal = false;
        Error? first = null;
        foreach (var i in _retry)
        {
            if (_producer.ErrorOf(i) is { } e)
            {
                first ??= e;
                var cls = KafkaErrorClassifier.Classify(e);
                fatal |= cls == DeliveryErrorClass.Fatal;
                _ctx.Metrics.DeliveryErrors.Inc(MetricsRegistry.Labels(("code", e.Code.ToString()), ("class", cls.ToString())));
            }
        }
        var description = first is null ? "unknown error" : $"{first.Code}: {first.Reason}";
        _ctx.Delivery.Failed(description, fatal);
        if (fatal)
        {
            _ctx.Kafka.RebuildIfFatal();
        }
        var wait = fatal ? _backoff.Max : _backoff.Next();
        _throttle.Log(_ctx.Logger, fatal ? LogLevel.Error : LogLevel.Warning, null,
            "Shard {Shard}: {Count} entries not delivered ({Error}); producing them again in {Delay} ms", _shard, _retry.Count, description, (int)wait.TotalMilliseconds);
        await Task.Delay(wait, abort);
    }
}
