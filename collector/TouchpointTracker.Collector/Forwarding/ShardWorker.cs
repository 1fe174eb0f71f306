using System.Globalization;
using Confluent.Kafka;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.ServiceDefaults;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>What every shard worker of a process shares.</summary>
internal sealed record ForwarderContext(
    IConnectionMultiplexer Redis,
    RedisShardMap Map,
    RedisOptions RedisOptions,
    KafkaOptions KafkaOptions,
    ForwarderOptions Options,
    KafkaProducerHost Kafka,
    KafkaDeliveryState Delivery,
    ForwarderMetrics Metrics,
    string Consumer,
    TimeProvider Clock,
    ILogger Logger);

/// <summary>
/// Forwards one shard while this process holds the shard's lease: reads a batch from the consumer group,
/// produces it, waits for every delivery report, acknowledges, and only then reads the next batch, so one
/// visitor's events reach Kafka in stream order. Before reading new entries it re-reads its own pending
/// ones (after an error) and claims those another consumer left pending (after a crash), oldest first.
/// </summary>
internal sealed class ShardWorker : IDisposable
{
    private readonly ForwarderContext _ctx;
    private readonly int _shard;
    private readonly RedisKey _stream;
    private readonly RedisValue _group;
    private readonly RedisValue _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private DeliveryBatch _delivery = new();
    private readonly Backoff _backoff;
    private readonly LogThrottle _throttle;
    private readonly List<int> _attempt = [];
    private readonly List<int> _ack = [];
    private readonly List<int> _dead = [];
    private readonly List<int> _retry = [];
    private readonly List<(int Index, string Reason, string Detail)> _poison = [];
    private Message<byte[], byte[]>?[] _messages = [];
    private EntryOutcome[] _outcomes = [];
    private long _nextTrim;
    private long _nextClaimCheck;
    private long _nextConsumerCleanup;
    private RedisValue _claimCursor = "0-0";

    public ShardWorker(ForwarderContext ctx, int shard)
    {
        _ctx = ctx;
        _shard = shard;
        _stream = ctx.Map.Stream(shard);
        _group = ctx.RedisOptions.ConsumerGroup;
        _consumer = ctx.Consumer;
        _backoff = new Backoff(TimeSpan.FromMilliseconds(ctx.Options.RetryBackoffMinMs), TimeSpan.FromMilliseconds(ctx.Options.RetryBackoffMaxMs));
        _throttle = new LogThrottle(TimeSpan.FromSeconds(10), ctx.Clock);
    }

    public int Shard => _shard;
    public Task Completion { get; private set; } = Task.CompletedTask;
    public bool StopRequested => _stop.IsCancellationRequested;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Finish the batch in hand (ack it), then stop.</summary>
    public void RequestStop() => _stop.Cancel();

    /// <summary>Stop now; the batch in hand stays pending in Redis for whoever forwards the shard next.</summary>
    public void Abort()
    {
        _stop.Cancel();
        _abort.Cancel();
    }

    public void Dispose()
    {
        _stop.Dispose();
        _abort.Dispose();
    }

    public void AbortAfter(TimeSpan delay)
    {
        _stop.Cancel();
        _abort.CancelAfter(delay);
    }

    private async Task RunAsync()
    {
        var recover = true; // own pending entries first: after a restart of this worker they are the oldest
        var claiming = true; // then entries other consumers left pending
        var db = _ctx.Redis.GetDatabase();
        var abort = _abort.Token;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                StreamEntry[] entries;
                if (recover)
                {
                    entries = await db.StreamReadGroupAsync(_stream, _group, _consumer, "0", _ctx.Options.BatchSize);
                    if (entries.Length == 0)
                    {
                        recover = false;
                        continue;
                    }
                }
                else if (claiming || Now() >= _nextClaimCheck)
                {
                    var (claimed, othersHold) = await ClaimAsync(db);
                    if (claimed.Length == 0)
                    {
                        claiming = othersHold;
                        _nextClaimCheck = Now() + Ticks(Math.Max(1_000, _ctx.Options.ClaimIdleMs / 2));
                        if (othersHold)
                        {
                            // Another consumer still holds older entries of this shard; reading newer ones now
                            // would put them ahead of those. Wait until they can be claimed.
                            await Task.Delay(Math.Min(_ctx.Options.ClaimIdleMs / 4, 500), _stop.Token);
                        }
                        continue;
                    }
                    _ctx.Metrics.Claimed.Inc(by: claimed.Length);
                    _ctx.Logger.LogInformation("Shard {Shard}: claimed {Count} entries another forwarder left pending", _shard, claimed.Length);
                    entries = claimed;
                }
                else
                {
                    entries = await db.StreamReadGroupAsync(_stream, _group, _consumer, StreamPosition.NewMessages, _ctx.Options.BatchSize);
                    if (entries.Length == 0)
                    {
                        await MaybeTrimAsync(db);
                        await Task.Delay(_ctx.Options.PollIntervalMs, _stop.Token);
                        continue;
                    }
                }
                await ForwardAsync(db, entries, abort);
                await MaybeTrimAsync(db);
                _backoff.Reset();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested || abort.IsCancellationRequested)
            {
                break;
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // Redis lost the group (restarted without persistence): create it at the stream's start.
                await Forwarder.EnsureGroupAsync(db, _stream, _group);
                recover = true;
                claiming = true;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                _ctx.Metrics.RedisErrors.Inc();
                Log(LogLevel.Warning, ex, "Shard {Shard}: Redis error, the batch will be read again", _shard);
                recover = true;
                claiming = true;
                if (!await DelayAsync(_backoff.Next(), abort))
                {
                    break;
                }
            }
            catch (Exception ex)
            {
                Log(LogLevel.Error, ex, "Shard {Shard}: unexpected forwarder error, retrying", _shard);
                recover = true;
                claiming = true;
                if (!await DelayAsync(_backoff.Next(), abort))
                {
                    break;
                }
            }
            finally
            {
                _ctx.Delivery.BatchFinished(_shard);
            }
        }
    }

    /// <summary>
    /// XAUTOCLAIM entries idle longer than the claim time. Returns what was claimed, and whether other
    /// consumers still hold pending entries that are not idle long enough yet.
    /// </summary>
    private async Task<(StreamEntry[] Claimed, bool OthersHold)> ClaimAsync(IDatabase db)
    {
        while (true)
        {
            var result = await db.StreamAutoClaimAsync(_stream, _group, _consumer, _ctx.Options.ClaimIdleMs, _claimCursor, _ctx.Options.BatchSize);
            _claimCursor = result.IsNull ? "0-0" : result.NextStartId;
            if (!result.IsNull && result.ClaimedEntries.Length > 0)
            {
                return (result.ClaimedEntries, true);
            }
            if (result.IsNull || _claimCursor == "0-0")
            {
                break; // scanned the whole pending list
            }
        }
        var pending = await db.StreamPendingAsync(_stream, _group);
        var othersHold = pending.Consumers?.Any(c => c.Name != _consumer && c.PendingMessageCount > 0) ?? false;
        if (!othersHold && Now() >= _nextConsumerCleanup)
        {
            _nextConsumerCleanup = Now() + Ticks(60_000);
            await RemoveGoneConsumersAsync(db);
        }
        return ([], othersHold);
    }

    /// <summary>Deletes consumers of crashed or stopped instances once they hold nothing and have long been silent.</summary>
    private async Task RemoveGoneConsumersAsync(IDatabase db)
    {
        var silentFor = Math.Max(10L * _ctx.Options.ClaimIdleMs, 600_000L);
        foreach (var c in await db.StreamConsumerInfoAsync(_stream, _group))
        {
            if (c.Name != _consumer && c.PendingMessageCount == 0 && c.IdleTimeInMilliseconds > silentFor)
            {
                await db.StreamDeleteConsumerAsync(_stream, _group, c.Name);
            }
        }
    }

    private async Task ForwardAsync(IDatabase db, StreamEntry[] entries, CancellationToken abort)
    {
        var n = entries.Length;
        if (_messages.Length < n)
        {
            _messages = new Message<byte[], byte[]>?[n];
            _outcomes = new EntryOutcome[n];
        }
        _attempt.Clear();
        _poison.Clear();
        for (var i = 0; i < n; i++)
        {
            _messages[i] = null;
            var payload = entries[i][RedisShardMap.PayloadField];
            if (payload.IsNull)
            {
                _poison.Add((i, "missing_payload", $"the entry has no '{RedisShardMap.PayloadField}' field"));
                continue;
            }
            var bytes = (byte[])payload!;
            if (bytes.Length > _ctx.KafkaOptions.MaxMessageBytes)
            {
                _poison.Add((i, "too_large", string.Create(CultureInfo.InvariantCulture, $"{bytes.Length} bytes; Kafka:MaxMessageBytes is {_ctx.KafkaOptions.MaxMessageBytes}")));
                continue;
            }
            var key = TouchpointKey.TryRead(bytes, out var reason, out var detail);
            if (key is null)
            {
                _poison.Add((i, reason!, detail!));
                continue;
            }
            _messages[i] = new Message<byte[], byte[]> { Key = key, Value = bytes };
            _attempt.Add(i);
        }
        if (_poison.Count > 0)
        {
            await DeadLetterAsync(db, entries, _poison);
        }

        _ctx.Delivery.BatchStarted(_shard);
        while (_attempt.Count > 0)
        {
            ProduceAttempt(entries.Length);
            await WaitForReportsAsync(abort);
            ReadOutcomes();

            _ack.Clear();
            _dead.Clear();
            _retry.Clear();
            RetryPlan.Split(_attempt, i => _outcomes[i], i => TouchpointKey.ToText(_messages[i]!.Key), _ack, _dead, _retry);
            if (_ack.Count > 0)
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
            if (_dead.Count > 0)
            {
                _poison.Clear();
                foreach (var i in _dead)
                {
                    var e = _delivery.ErrorOf(i);
                    _poison.Add((i, "rejected_by_kafka", e is null ? "rejected" : $"{e.Code}: {e.Reason}"));
                }
                await DeadLetterAsync(db, entries, _poison);
            }
            if (_retry.Count == 0)
            {
                break;
            }
            var fatal = false;
            Error? first = null;
            foreach (var i in _retry)
            {
                if (_delivery.ErrorOf(i) is { } e)
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
            Log(fatal ? LogLevel.Error : LogLevel.Warning, null,
                "Shard {Shard}: {Count} entries not delivered ({Error}); producing them again in {Delay} ms", _shard, _retry.Count, description, (int)wait.TotalMilliseconds);
            await Task.Delay(wait, abort);
            _attempt.Clear();
            _attempt.AddRange(_retry);
        }
    }

    private void ProduceAttempt(int capacity)
    {
        var producer = _ctx.Kafka.Producer;
        var topic = _ctx.Kafka.Topic;
        _delivery.Begin(capacity, _attempt.Count);
        Error? refused = null;
        foreach (var i in _attempt)
        {
            if (refused is not null)
            {
                // Not handed to the producer, so it cannot overtake the refused entry: retried after it.
                _delivery.Complete(i, refused);
                continue;
            }
            try
            {
                producer.Produce(topic, _messages[i]!, _delivery.HandlerFor(i));
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
    private async Task WaitForReportsAsync(CancellationToken abort)
    {
        try
        {
            await _delivery.Completion.WaitAsync(TimeSpan.FromMilliseconds(_ctx.KafkaOptions.MessageTimeoutMs + 30_000), abort);
        }
        catch (TimeoutException)
        {
            var abandoned = _delivery;
            _delivery = new DeliveryBatch();
            _delivery.Begin(abandoned.Capacity, 0);
            foreach (var i in _attempt)
            {
                _delivery.Set(i, abandoned.Reported(i) ? abandoned.ErrorOf(i) : new Error(ErrorCode.Local_MsgTimedOut, "no delivery report"));
            }
        }
    }

    private void ReadOutcomes()
    {
        foreach (var i in _attempt)
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

    /// <summary>Copies entries that can never be forwarded to the shard's dead-letter stream and acknowledges them, atomically.</summary>
    private async Task DeadLetterAsync(IDatabase db, StreamEntry[] entries, List<(int Index, string Reason, string Detail)> poison)
    {
        var tx = db.CreateTransaction();
        var now = _ctx.Clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        var dead = _ctx.Map.DeadLetter(_shard);
        foreach (var (index, reason, detail) in poison)
        {
            var entry = entries[index];
            var payload = entry[RedisShardMap.PayloadField];
            _ = tx.StreamAddAsync(dead,
                [
                    new NameValueEntry("id", entry.Id),
                    new NameValueEntry("reason", reason),
                    new NameValueEntry("detail", detail.Length > 1000 ? detail[..1000] : detail),
                    new NameValueEntry("at", now),
                    new NameValueEntry("consumer", _consumer),
                    new NameValueEntry(RedisShardMap.PayloadField, payload.IsNull ? RedisValue.EmptyString : payload),
                ],
                maxLength: _ctx.RedisOptions.DeadLetterMaxLength, useApproximateMaxLength: true);
            _ = tx.StreamAcknowledgeAsync(_stream, _group, entry.Id);
        }
        if (!await tx.ExecuteAsync())
        {
            throw new RedisException("the dead-letter transaction was not executed");
        }
        foreach (var (index, reason, detail) in poison)
        {
            _ctx.Metrics.DeadLettered.Inc(MetricsRegistry.Labels(("reason", reason)));
            _ctx.Logger.LogWarning("Shard {Shard}: entry {Id} moved to {DeadLetter}: {Reason} ({Detail})", _shard, entries[index].Id, (string?)dead, reason, detail);
        }
    }

    /// <summary>Trims acknowledged entries: never past the oldest pending entry, never past entries not yet read.</summary>
    private async Task MaybeTrimAsync(IDatabase db)
    {
        if (Now() < _nextTrim)
        {
            return;
        }
        _nextTrim = Now() + Ticks(_ctx.Options.TrimIntervalMs);
        // Group info first, pending second: anything read in between is newer than the last-delivered id
        // seen here, so it stays above the bound either way.
        var groups = await db.StreamGroupInfoAsync(_stream);
        var info = groups.FirstOrDefault(g => g.Name == (string?)_group);
        if (info.Name is null)
        {
            return;
        }
        var pending = await db.StreamPendingAsync(_stream, _group);
        var minId = StreamTrimPolicy.ChooseMinId(
            pending.PendingMessageCount > 0 ? RedisStreamId.ParseOrNull(pending.LowestPendingMessageId) : null,
            RedisStreamId.ParseOrNull(info.LastDeliveredId));
        if (minId is { } bound)
        {
            var trimmed = await db.StreamTrimByMinIdAsync(_stream, bound.ToString(), useApproximateMaxLength: true);
            if (trimmed > 0)
            {
                _ctx.Metrics.Trimmed.Inc(by: trimmed);
            }
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Log(LogLevel level, Exception? ex, string message, params object?[] args)
    {
        if (_throttle.ShouldLog(out _))
        {
#pragma warning disable CA2254 // the template is a constant at every call site
            _ctx.Logger.Log(level, ex, message, args);
#pragma warning restore CA2254
        }
    }

    private long Now() => _ctx.Clock.GetTimestamp();

    private long Ticks(long milliseconds) => milliseconds * _ctx.Clock.TimestampFrequency / 1000;
}
