using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TouchpointTracker.Collector.Offline;
using TouchpointTracker.Delivery.Tests.Support;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>
/// Offline events' <c>Idempotency-Key</c> in the distributed mode: two collectors share one Redis, so a retry that the
/// load balancer sends to the other collector gets the first answer back and stores nothing.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OfflineIdempotencyDistributedTests
{
    private const string ServerKey = "s1-server-key-0123456789";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        // What is stored is read from the buffer: nothing is forwarded.
        ["Forwarder:Enabled"] = "false",
        [$"Collector:Sites:{PipelineEnvironment.Site}:ServerKeys:0"] = ServerKey,
    };

    private static async Task<(HttpStatusCode Status, string Body, bool Replayed)> PostAsync(HttpClient http, string body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/offline-events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerKey);
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Contains("Idempotent-Replayed"));
    }

    private static string Call(string id) =>
        $$"""{"event_id":"{{id}}","type":"call","occurred_at":"{{DateTimeOffset.UtcNow.AddMinutes(-5):yyyy-MM-ddTHH:mm:ssZ}}","visitor_id":"v-idem","source":"Google Ads"}""";

    private static async Task<long> BufferedAsync(PipelineEnvironment env)
    {
        long n = 0;
        for (var shard = 0; shard < env.Shards; shard++)
        {
            n += await env.RedisDb().StreamLengthAsync(PipelineEnvironment.StreamKey(shard));
        }
        return n;
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task A_retry_that_reaches_the_other_collector_gets_the_first_answer_and_stores_nothing()
    {
        await using var env = await PipelineEnvironment.StartAsync(brokers: 1);
        await using var a = await env.StartCollectorAsync(Settings);
        await using var b = await env.StartCollectorAsync(Settings);
        using var httpA = a.CreateClient();
        using var httpB = b.CreateClient();

        var first = await PostAsync(httpA, $$"""{"events":[{{Call("c-1")}},{{Call("c-2")}}]}""", "upload-1");
        // The retry differs (a third event): the first answer comes back from the other collector all the same.
        var retry = await PostAsync(httpB, $$"""{"events":[{{Call("c-1")}},{{Call("c-2")}},{{Call("c-3")}}]}""", "upload-1");
        // Another key is another request: processed by the other collector.
        var other = await PostAsync(httpB, $$"""{"events":[{{Call("c-4")}}]}""", "upload-2");
        var kept = await env.RedisDb().StringGetAsync(RedisIdempotencyStore.KeyOf("tt", PipelineEnvironment.Site, "upload-1"));
        var ttl = await env.RedisDb().KeyTimeToLiveAsync(RedisIdempotencyStore.KeyOf("tt", PipelineEnvironment.Site, "upload-1"));

        Assert.Multiple(async () =>
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK), first.Body);
            Assert.That(first.Replayed, Is.False);
            Assert.That(first.Body, Does.Contain("\"accepted\""));
            Assert.That(retry.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(retry.Replayed, Is.True, "the other collector replays the first answer");
            Assert.That(retry.Body, Is.EqualTo(first.Body));
            Assert.That(other.Replayed, Is.False);
            Assert.That((string?)kept, Is.EqualTo(first.Body), "the answer is kept once, in Redis");
            Assert.That(ttl, Is.Not.Null.And.GreaterThan(TimeSpan.FromHours(23)), "kept for Offline:IdempotencyHours (24)");
            Assert.That(await BufferedAsync(env), Is.EqualTo(3), "c-1, c-2 from the first request and c-4; the retry stored nothing");
        });
    }
}
