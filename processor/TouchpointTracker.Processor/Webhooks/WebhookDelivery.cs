using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Options;
using TouchpointTracker.Messaging;
using TouchpointTracker.Processor.Kafka;
using TouchpointTracker.ServiceDefaults;

namespace TouchpointTracker.Processor.Webhooks;

/// <summary>
/// POSTs each conversion record of <c>tt.conversions</c> to its site's webhook, in its own consumer group. At least
/// once: a partition's offset is committed only up to its oldest record not yet delivered or dead-lettered, so a
/// restart reads again what was pending (and may send again what was delivered just before it: receivers deduplicate
/// on <c>Idempotency-Key</c>, the conversion id). A failing endpoint does not hold the others up: its records wait
/// in memory with exponential back-off (at most <see cref="WebhookOptions.MaxPending"/>), while later records flow.
/// A 4xx answer other than 408 and 429 is final; any failure past <see cref="WebhookOptions.RetryHours"/> sends the
/// record to the dead-letter topic with the reason.
/// </summary>
public sealed class WebhookDelivery(
    IOptions<KafkaOptions> kafka,
    IOptions<WebhookOptions> options,
    MetricsRegistry metrics,
    TimeProvider clock,
    ILogger<WebhookDelivery> logger) : BackgroundService
{
    public const string ReasonHeader = "tt-dead-letter-reason";
    public const string AttemptsHeader = "tt-attempts";
    private readonly Counter _outcomes = metrics.Counter("tt_webhook_deliveries_total",
        "Conversion records by delivery outcome: delivered, retry (a failed attempt to be retried), dead_letter, skipped (no webhook for the site), invalid.");
    private readonly List<Job> _pending = [];
    private readonly Dictionary<TopicPartition, (SortedSet<long> Open, long Next)> _partitions = [];
    private readonly Dictionary<TopicPartition, long> _committed = [];
    private IConsumer<byte[]?, byte[]?>? _consumer;

    private sealed class Job
    {
        public required ConsumeResult<byte[]?, byte[]?> Message;
        public required string Site;
        public required string ConversionId;
        public required WebhookSite Target;
        public int Attempts;
        public DateTimeOffset First;
        public DateTimeOffset Next;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        var k = kafka.Value;
        var o = options.Value;
        EnsureDeadLetterTopic(k, o);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("TouchpointTracker-Webhooks/1");
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfig.Configure(new ProducerConfig { EnableIdempotence = true, Acks = Acks.All }, k, KafkaClients.ServiceName, "webhooks")).Build();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClients.AnalyticsConsumer(k, o.GroupId))
            .SetPartitionsRevokedHandler((c, revoked) =>
            {
                Commit();
                foreach (var p in revoked)
                {
                    _pending.RemoveAll(j => j.Message.TopicPartition == p.TopicPartition);
                    _partitions.Remove(p.TopicPartition);
                    _committed.Remove(p.TopicPartition);
                }
            })
            .Build();
        _consumer = consumer;
        consumer.Subscribe(k.ConversionsTopic);
        logger.LogInformation("Webhooks: delivering '{Topic}' as group '{Group}' to {Sites} site(s); dead letters to '{DeadLetter}'",
            k.ConversionsTopic, o.GroupId, o.Sites.Count, o.DeadLetterTopic);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (_pending.Count < o.MaxPending)
                {
                    try
                    {
                        var r = consumer.Consume(TimeSpan.FromMilliseconds(_pending.Count == 0 ? 200 : 20));
                        if (r is not null && !r.IsPartitionEOF)
                        {
                            Accept(r, o, clock.GetUtcNow());
                        }
                    }
                    catch (ConsumeException ex) when (!ex.Error.IsFatal)
                    {
                        logger.LogWarning("Webhooks: consume error {Reason}; retrying", ex.Error.Reason);
                    }
                }
                else
                {
                    ct.WaitHandle.WaitOne(50);
                }
                DeliverDue(http, producer, o, ct);
                Commit();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            Commit();
            producer.Flush(TimeSpan.FromSeconds(5));
            consumer.Close();
            _consumer = null;
        }
    }

    private void Accept(ConsumeResult<byte[]?, byte[]?> r, WebhookOptions o, DateTimeOffset now)
    {
        if (!_partitions.TryGetValue(r.TopicPartition, out var p))
        {
            p = (new SortedSet<long>(), r.Offset.Value);
        }
        p.Next = r.Offset.Value + 1;
        string? site = null, id = null;
        try
        {
            using var doc = JsonDocument.Parse(r.Message.Value ?? []);
            site = doc.RootElement.TryGetProperty("site_id", out var s) ? s.GetString() : null;
            id = doc.RootElement.TryGetProperty("conversion_id", out var c) ? c.GetString() : null;
        }
        catch (JsonException)
        {
        }
        if (site is null || id is null)
        {
            _outcomes.Inc(MetricsRegistry.Labels(("outcome", "invalid")));
            logger.LogWarning("Webhooks: skipped a message that is not a conversion record at {Position}", r.TopicPartitionOffset);
        }
        else if (!o.Sites.TryGetValue(site, out var target))
        {
            _outcomes.Inc(MetricsRegistry.Labels(("outcome", "skipped")));
        }
        else
        {
            p.Open.Add(r.Offset.Value);
            _pending.Add(new Job { Message = r, Site = site, ConversionId = id, Target = target, First = now, Next = now });
        }
        _partitions[r.TopicPartition] = p;
    }

    private void DeliverDue(HttpClient http, IProducer<byte[]?, byte[]?> producer, WebhookOptions o, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        foreach (var job in _pending.Where(j => j.Next <= now).ToList())
        {
            ct.ThrowIfCancellationRequested();
            job.Attempts++;
            var (ok, final, reason) = Post(http, job, ct);
            if (ok)
            {
                _outcomes.Inc(MetricsRegistry.Labels(("outcome", "delivered")));
                Done(job);
                continue;
            }
            var age = clock.GetUtcNow() - job.First;
            if (final || age >= TimeSpan.FromHours(o.RetryHours))
            {
                var why = final ? reason : $"{reason}; still failing after {job.Attempts} attempts over {age.TotalHours:0.##} h";
                DeadLetter(producer, o, job, why);
                _outcomes.Inc(MetricsRegistry.Labels(("outcome", "dead_letter")));
                logger.LogWarning("Webhooks: conversion {ConversionId} of site {Site} dead-lettered: {Reason}", job.ConversionId, job.Site, why);
                Done(job);
                continue;
            }
            _outcomes.Inc(MetricsRegistry.Labels(("outcome", "retry")));
            var backoff = Math.Min(o.MaxBackoffMs, o.InitialBackoffMs * Math.Pow(2, Math.Min(job.Attempts - 1, 30)));
            job.Next = clock.GetUtcNow().AddMilliseconds(backoff * (0.8 + 0.4 * Random.Shared.NextDouble()));
            logger.LogInformation("Webhooks: conversion {ConversionId} of site {Site}: attempt {Attempt} failed ({Reason}); next in {Backoff} ms",
                job.ConversionId, job.Site, job.Attempts, reason, (long)backoff);
        }
    }

    /// <summary>One attempt: delivered, or why not and whether that is final (a 4xx but 408 and 429).</summary>
    private (bool Ok, bool Final, string Reason) Post(HttpClient http, Job job, CancellationToken ct)
    {
        var body = job.Message.Message.Value ?? [];
        using var request = new HttpRequestMessage(HttpMethod.Post, job.Target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("Idempotency-Key", job.ConversionId);
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(job.Target.Secret!.Trim(), clock.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.Add("X-TT-Delivery-Attempt", job.Attempts.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var response = http.Send(request, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (true, false, "");
            }
            var final = status is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
            return (false, final, $"HTTP {status}");
        }
        catch (HttpRequestException ex)
        {
            return (false, false, "connection failed: " + ex.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, false, $"no answer within {http.Timeout.TotalSeconds:0} s");
        }
    }

    private static void DeadLetter(IProducer<byte[]?, byte[]?> producer, WebhookOptions o, Job job, string reason)
    {
        var source = job.Message;
        producer.Produce(o.DeadLetterTopic, new Message<byte[]?, byte[]?>
        {
            Key = source.Message.Key,
            Value = source.Message.Value,
            Headers =
            [
                new Header(ReasonHeader, Encoding.UTF8.GetBytes(reason)),
                new Header(AttemptsHeader, Encoding.ASCII.GetBytes(job.Attempts.ToString(CultureInfo.InvariantCulture))),
                new Header("tt-source", Encoding.ASCII.GetBytes(source.TopicPartitionOffset.ToString())),
            ],
        });
        producer.Flush(TimeSpan.FromSeconds(30)); // in the topic before the offset moves past it
    }

    private void Done(Job job)
    {
        _pending.Remove(job);
        if (_partitions.TryGetValue(job.Message.TopicPartition, out var p))
        {
            p.Open.Remove(job.Message.Offset.Value);
        }
    }

    /// <summary>Commits, per partition, up to the oldest record still open (or everything read).</summary>
    private void Commit()
    {
        if (_consumer is null)
        {
            return;
        }
        var offsets = new List<TopicPartitionOffset>();
        foreach (var (tp, p) in _partitions)
        {
            var safe = p.Open.Count > 0 ? p.Open.Min : p.Next;
            if (!_committed.TryGetValue(tp, out var done) || done != safe)
            {
                offsets.Add(new TopicPartitionOffset(tp, safe));
            }
        }
        if (offsets.Count == 0)
        {
            return;
        }
        try
        {
            _consumer.Commit(offsets);
            foreach (var o in offsets)
            {
                _committed[o.TopicPartition] = o.Offset.Value;
            }
        }
        catch (KafkaException ex)
        {
            logger.LogWarning("Webhooks: offset commit failed ({Reason}); retried with the next one", ex.Message);
        }
    }

    private void EnsureDeadLetterTopic(KafkaOptions k, WebhookOptions o)
    {
        if (!k.CreateTopics)
        {
            return;
        }
        try
        {
            using var admin = new AdminClientBuilder(KafkaClients.Admin(k)).Build();
            var metadata = admin.GetMetadata(o.DeadLetterTopic, TimeSpan.FromSeconds(10));
            if (metadata.Topics.Any(t => t.Topic == o.DeadLetterTopic && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0))
            {
                return;
            }
            admin.CreateTopicsAsync([new TopicSpecification { Name = o.DeadLetterTopic, NumPartitions = 1, ReplicationFactor = k.ReplicationFactor }]).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is KafkaException or CreateTopicsException)
        {
            logger.LogWarning("Webhooks: could not create the dead-letter topic '{Topic}' ({Reason}); create it, or dead letters fail", o.DeadLetterTopic, ex.Message);
        }
    }
}
