using TouchpointTracker.Messaging;
using System.Globalization;
using Confluent.Kafka;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Collector.Forwarding;

/// <summary>An entry of a batch (by index) that can never be forwarded, and why.</summary>
internal readonly record struct PoisonEntry(int Index, string Reason, string Detail);

/// <summary>
/// Finds the entries of one shard that can never be forwarded (no payload, larger than Kafka accepts, no
/// site and visitor to key them by) and moves those, and the ones Kafka rejected, to the shard's
/// dead-letter stream, so one bad entry never blocks the shard.
/// </summary>
internal sealed class DeadLetterWriter(ForwarderContext ctx, int shard)
{
    private readonly RedisKey _stream = ctx.Map.Stream(shard);
    private readonly RedisValue _group = ctx.RedisOptions.ConsumerGroup;
    private readonly RedisValue _consumer = ctx.Consumer;

    /// <summary>
    /// Sets <paramref name="messages"/>[i] to the Kafka message of each entry that can be forwarded and adds
    /// i to <paramref name="forwardable"/>; adds the others to <paramref name="poison"/>. Stream order is kept.
    /// </summary>
    public void Screen(StreamEntry[] entries, Message<byte[], byte[]>?[] messages, List<int> forwardable, List<PoisonEntry> poison)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            // The message objects of the previous batch are reused: the producer copies key and value when it
            // takes a message, and the previous batch's reports have all arrived before the next batch is read.
            var message = messages[i];
            messages[i] = null;
            var payload = entries[i][RedisShardMap.PayloadField];
            if (payload.IsNull)
            {
                poison.Add(new(i, "missing_payload", $"the entry has no '{RedisShardMap.PayloadField}' field"));
                continue;
            }
            var bytes = (byte[])payload!;
            if (bytes.Length > ctx.KafkaOptions.MaxMessageBytes)
            {
                poison.Add(new(i, "too_large", string.Create(CultureInfo.InvariantCulture, $"{bytes.Length} bytes; Kafka:MaxMessageBytes is {ctx.KafkaOptions.MaxMessageBytes}")));
                continue;
            }
            var key = TouchpointKey.TryRead(bytes, out var reason, out var detail);
            if (key is null)
            {
                poison.Add(new(i, reason!, detail!));
                continue;
            }
            message ??= new Message<byte[], byte[]>();
            message.Key = key;
            message.Value = bytes;
            messages[i] = message;
            forwardable.Add(i);
        }
    }

    /// <summary>Copies entries that can never be forwarded to the shard's dead-letter stream and acknowledges them, atomically.</summary>
    public async Task WriteAsync(IDatabase db, StreamEntry[] entries, List<PoisonEntry> poison)
    {
        var tx = db.CreateTransaction();
        var now = ctx.Clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        var dead = ctx.Map.DeadLetter(shard);
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
                maxLength: ctx.RedisOptions.DeadLetterMaxLength, useApproximateMaxLength: true);
            _ = tx.StreamAcknowledgeAsync(_stream, _group, entry.Id);
        }
        if (!await tx.ExecuteAsync())
        {
            throw new RedisException("the dead-letter transaction was not executed");
        }
        foreach (var (index, reason, detail) in poison)
        {
            ctx.Metrics.DeadLettered.Inc(MetricsRegistry.Labels(("reason", reason)));
            ctx.Logger.LogWarning("Shard {Shard}: entry {Id} moved to {DeadLetter}: {Reason} ({Detail})", shard, entries[index].Id, (string?)dead, reason, detail);
        }
    }
}
