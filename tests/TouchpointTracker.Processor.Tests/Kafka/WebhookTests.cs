using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Conversions;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Processor.Webhooks;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// Webhook delivery of tt.conversions (the processor with <c>Processor:Role=webhooks</c>, out of process) to a real
/// HTTP receiver on Kestrel that fails, then recovers: every record arrives, signed, once per id after the receiver's
/// deduplication, through a SIGKILL of the deliverer while records were still failing; a record refused with a 4xx
/// goes to the dead-letter topic with its reason.
/// </summary>
[NonParallelizable]
public sealed class WebhookTests
{
    private const string Secret = "acme-webhook-secret-0123456789";
    private const string DeadLetter = "tt.conversions.dead-letter";

    private sealed class Receiver : IAsyncDisposable
    {
        public volatile bool Failing = true;
        public readonly ConcurrentDictionary<string, int> Delivered = new();
        public int Attempts;
        public int BadSignatures;
        public readonly WebApplication App;
        public Uri Address = null!;

        public Receiver()
        {
            var builder = WebApplication.CreateBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            App = builder.Build();
            App.MapPost("/hook", async (HttpContext http) =>
            {
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer);
                var body = buffer.ToArray();
                Interlocked.Increment(ref Attempts);
                if (!WebhookSignature.Verify(Secret, http.Request.Headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)))
                {
                    Interlocked.Increment(ref BadSignatures);
                    return Results.StatusCode(401);
                }
                if (Failing)
                {
                    return Results.StatusCode(503);
                }
                // the receiver's deduplication: the idempotency key is the conversion id
                var key = http.Request.Headers["Idempotency-Key"].ToString();
                var id = JsonDocument.Parse(body).RootElement.GetProperty("conversion_id").GetString()!;
                Assert.That(key, Is.EqualTo(id));
                Delivered.AddOrUpdate(key, 1, (_, n) => n + 1);
                return Results.Ok();
            });
            App.MapPost("/refuse", () => Results.BadRequest());
        }

        public async Task StartAsync()
        {
            await App.StartAsync();
            Address = new Uri(App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    private static ConversionRecord Record(string site, int i) => new()
    {
        ConversionId = (site.GetHashCode(StringComparison.Ordinal) & 0xffff).ToString("x4") + i.ToString("x20"),
        Type = "purchase", SiteId = site, VisitorId = "v" + i, JourneyId = "v" + i + ":e", EventId = "e" + i,
        OccurredAt = DateTimeOffset.UtcNow, Value = 10 * i, Currency = "EUR", ReportingValue = 10 * i, ReportingCurrency = "EUR",
        LeadTouch = new TouchSummary { At = DateTimeOffset.UtcNow, Channel = "Direct" }, Sessions = 1, Stage = "decision",
        Identifiers = new() { ["visitor_id"] = "v" + i },
    };

    [Test]
    public async Task Records_reach_a_receiver_that_fails_then_recovers_once_per_id_through_a_restart()
    {
        await using var env = await KafkaEnvironment.StartAsync(partitions: 2);
        env.Cluster.CreateTopic(DeadLetter, env.Partitions); // the helper reads every topic on the environment's partitions
        await using var receiver = new Receiver();
        await receiver.StartAsync();

        var records = Enumerable.Range(1, 8).Select(i => Record("acme", i)).ToList();
        var refused = Record("strict", 99);
        var unconfigured = Record("quiet", 7);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = env.BootstrapServers, EnableIdempotence = true }).Build())
        {
            foreach (var r in records.Append(refused).Append(unconfigured))
            {
                producer.Produce(KafkaEnvironment.Conversions, new Message<string, byte[]>
                {
                    Key = r.SiteId + ":" + r.VisitorId,
                    Value = JsonSerializer.SerializeToUtf8Bytes(r, JourneysJsonContext.Default.ConversionRecord),
                });
            }
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var settings = new Dictionary<string, string?>
        {
            ["Processor:Role"] = "webhooks",
            ["Kafka:BootstrapServers"] = env.BootstrapServers,
            ["Kafka:FetchWaitMaxMs"] = "5",
            ["Kafka:SessionTimeoutMs"] = "6000",
            ["Kafka:CreateTopics"] = "false",
            ["Webhooks:Sites:acme:Url"] = new Uri(receiver.Address, "/hook").ToString(),
            ["Webhooks:Sites:acme:Secret"] = Secret,
            ["Webhooks:Sites:strict:Url"] = new Uri(receiver.Address, "/refuse").ToString(),
            ["Webhooks:Sites:strict:Secret"] = "strict-webhook-secret-0123456789",
            ["Webhooks:InitialBackoffMs"] = "100",
            ["Webhooks:MaxBackoffMs"] = "400",
            ["Webhooks:RetryHours"] = "1",
            ["Shutdown:ReadinessGraceSeconds"] = "0",
        };

        // The receiver is down: every record is tried and retried; then the deliverer is killed.
        await using (var first = await ProcessorProcess.StartAsync(settings))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref receiver.Attempts) < records.Count * 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.That(receiver.Attempts, Is.GreaterThanOrEqualTo(records.Count * 3), "every record retried while the receiver fails:\n" + first.Output);
            Assert.That(receiver.Delivered, Is.Empty);
            first.Kill();
        }

        // The receiver recovers; a new deliverer picks up what was never delivered.
        receiver.Failing = false;
        await using var second = await ProcessorProcess.StartAsync(settings);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (receiver.Delivered.Count < records.Count && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }
        await Task.Delay(1000); // a second delivery of anything would show now
        var dead = env.ReadAll(DeadLetter, 1, TimeSpan.FromSeconds(30));
        TestContext.Out.WriteLine($"{receiver.Attempts} attempts for {records.Count} records; delivered counts: {string.Join(", ", receiver.Delivered.Values)}");
        Assert.Multiple(() =>
        {
            Assert.That(receiver.Delivered.Keys, Is.EquivalentTo(records.Select(r => r.ConversionId)), "each record delivered, none lost:\n" + second.Output);
            Assert.That(receiver.Delivered.Values, Has.All.EqualTo(1), "once per id after the restart (nothing was delivered before it)");
            Assert.That(receiver.BadSignatures, Is.Zero, "every request signed with the site's secret");
            // at least once, like deliveries: dead-lettered before the kill, its offset was held back by the acme records
            // still open on the same partition, so the restart may dead-letter it again (same conversion id)
            Assert.That(dead, Is.Not.Empty, "the record the strict site refused");
            Assert.That(dead.Select(d => JsonDocument.Parse(d.Message.Value).RootElement.GetProperty("conversion_id").GetString()), Has.All.EqualTo(refused.ConversionId));
            Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(WebhookDelivery.ReasonHeader))), Has.All.EqualTo("HTTP 400"));
        });
    }

    [Test]
    public void A_signature_verifies_only_with_the_secret_the_body_and_a_recent_timestamp()
    {
        var body = "{\"conversion_id\":\"x\"}"u8.ToArray();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var header = WebhookSignature.Sign(Secret, now.ToUnixTimeSeconds(), body);
        Assert.Multiple(() =>
        {
            Assert.That(header, Does.Match("^t=1800000000,v1=[0-9a-f]{64}$"));
            Assert.That(WebhookSignature.Verify(Secret, header, body, now.AddSeconds(30), TimeSpan.FromMinutes(5)), Is.True);
            Assert.That(WebhookSignature.Verify("another-secret-0123456789", header, body, now, TimeSpan.FromMinutes(5)), Is.False);
            Assert.That(WebhookSignature.Verify(Secret, header, "{\"conversion_id\":\"y\"}"u8, now, TimeSpan.FromMinutes(5)), Is.False);
            Assert.That(WebhookSignature.Verify(Secret, header, body, now.AddMinutes(10), TimeSpan.FromMinutes(5)), Is.False, "a replay ten minutes later");
            Assert.That(WebhookSignature.Verify(Secret, "v1=abc", body, now, TimeSpan.FromMinutes(5)), Is.False);
        });
    }
}
