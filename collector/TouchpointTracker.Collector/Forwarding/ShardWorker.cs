using StackExchange.Redis;

namespace TouchpointTracker.Collector.Forwarding;

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
    private readonly Backoff _backoff;
    private readonly LogThrottle _throttle;
    private readonly BatchForwarder _forwarder;
    private readonly PendingEntryClaimer _claimer;
    private readonly GoneConsumerCleaner _cleaner;
    private readonly StreamTrimmer _trimmer;
    private long _nextClaimCheck;

    public ShardWorker(ForwarderContext ctx, int shard)
    {
        _ctx = ctx;
        _shard = shard;
        _stream = ctx.Map.Stream(shard);
        _group = ctx.RedisOptions.ConsumerGroup;
        _consumer = ctx.Consumer;
        _backoff = new Backoff(TimeSpan.FromMilliseconds(ctx.Options.RetryBackoffMinMs), TimeSpan.FromMilliseconds(ctx.Options.RetryBackoffMaxMs));
        _throttle = new LogThrottle(TimeSpan.FromSeconds(10), ctx.Clock);
        _forwarder = new BatchForwarder(ctx, shard, _backoff, _throttle);
        _claimer = new PendingEntryClaimer(ctx, _stream);
        _cleaner = new GoneConsumerCleaner(ctx, _stream);
        _trimmer = new StreamTrimmer(ctx, _stream);
    }

    public Task Completion { get; private set; } = Task.CompletedTask;

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
        var partial = false; // the last read of new entries returned less than a batch
        long readAt = 0;
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
                else if (claiming || _ctx.Reached(_nextClaimCheck))
                {
                    var (claimed, othersHold) = await _claimer.ClaimAsync(db);
                    if (claimed.Length == 0)
                    {
                        if (!othersHold)
                        {
                            await _cleaner.MaybeRemoveAsync(db);
                        }
                        claiming = othersHold;
                        _nextClaimCheck = _ctx.TimestampIn(Math.Max(1_000, _ctx.Options.ClaimIdleMs / 2));
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
                    readAt = _ctx.Clock.GetTimestamp();
                    entries = await db.StreamReadGroupAsync(_stream, _group, _consumer, StreamPosition.NewMessages, _ctx.Options.BatchSize);
                    if (entries.Length == 0)
                    {
                        await _trimmer.MaybeTrimAsync(db);
                        await Task.Delay(_ctx.Options.PollIntervalMs, _stop.Token);
                        continue;
                    }
                    partial = entries.Length < _ctx.Options.BatchSize;
                }
                await _forwarder.ForwardAsync(db, entries, abort);
                await _trimmer.MaybeTrimAsync(db);
                _backoff.Reset();
                if (partial)
                {
                    // The shard had less than a batch: let the next one gather for the rest of Forwarder:FillWaitMs.
                    partial = false;
                    var wait = TimeSpan.FromMilliseconds(_ctx.Options.FillWaitMs) - _ctx.Clock.GetElapsedTime(readAt);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _stop.Token);
                    }
                }
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
                _throttle.Log(_ctx.Logger, LogLevel.Warning, ex, "Shard {Shard}: Redis error, the batch will be read again", _shard);
                recover = true;
                claiming = true;
                if (!await DelayAsync(_backoff.Next(), abort))
                {
                    break;
                }
            }
            catch (Exception ex)
            {
                _throttle.Log(_ctx.Logger, LogLevel.Error, ex, "Shard {Shard}: unexpected forwarder error, retrying", _shard);
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

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken ct)
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
}
