using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using TouchpointTracker.Testing;

namespace TouchpointTracker.ScaleOut.Tests.Support;

/// <summary>
/// Concurrent HTTP clients sending the tag's beacons through the load balancer until a number of events
/// has been handed out. Each client plays its own share of the visitors (one batch at a time per client,
/// so a visitor's batches go out in order), retries a batch on network errors, 429 and 5xx (honouring
/// Retry-After, bounded) until a 2xx or the give-up deadline, and records the id of every event a 2xx
/// acknowledged (minus any the answer lists as rejected).
/// </summary>
public sealed class BeaconLoad : IDisposable
{
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(3);

    private readonly HttpClient _http;
    private readonly ConcurrentQueue<string> _acked = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private long _handedOut;
    private long _acknowledged;
    private long _requests;
    private long _retried;
    private long _transportErrors;
    private long _status429;
    private long _status5xx;
    private long _refused4xx;
    private long _rejectedEvents;
    private long _gaveUpEvents;

    public BeaconLoad(Uri endpoint)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = endpoint,
            Timeout = TimeSpan.FromSeconds(20),
        };
    }

    public const string Site = "shop";
    public int Clients { get; init; } = 16;
    public int Visitors { get; init; } = 3000;
    public int TargetEvents { get; init; } = 24_000;
    public int MaxEventsPerBatch { get; init; } = 10;
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..6];

    /// <summary>Events handed to clients so far (sent at least once, or about to be).</summary>
    public long HandedOut => Math.Min(Interlocked.Read(ref _handedOut), TargetEvents);
    public long Acknowledged => Interlocked.Read(ref _acknowledged);
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>Requests sent again after a network error, a 429 or a 5xx.</summary>
    public long Retried => Interlocked.Read(ref _retried);
    public long TransportErrors => Interlocked.Read(ref _transportErrors);
    public long Status429 => Interlocked.Read(ref _status429);
    public long Status5xx => Interlocked.Read(ref _status5xx);
    /// <summary>Batches refused for good (4xx other than 429): the test's beacons are valid, so this stays 0.</summary>
    public long Refused4xx => Interlocked.Read(ref _refused4xx);
    /// <summary>Events listed as rejected in a 2xx answer.</summary>
    public long RejectedEvents => Interlocked.Read(ref _rejectedEvents);
    /// <summary>Events of batches still unacknowledged at the give-up deadline (not expected downstream).</summary>
    public long GaveUpEvents => Interlocked.Read(ref _gaveUpEvents);
    public IReadOnlyCollection<string> Problems => _problems;

    public IReadOnlyCollection<string> AcknowledgedIds() => [.. _acked];

    /// <summary>Runs every client until the target is handed out and acknowledged, or <paramref name="giveUp"/> fires.</summary>
    public Task RunAsync(CancellationToken giveUp) =>
        Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c, giveUp), CancellationToken.None)));

    private sealed class Visitor(string id)
    {
        public string Id { get; } = id;
        public string SessionId { get; set; } = "";
        public int SessionNumber { get; set; }
        public int Batches { get; set; }
        public int Pages { get; set; }
        public string? LandingUrl { get; set; }
        public string? LandingReferrer { get; set; }
        public bool Landing { get; set; }
    }

    private async Task ClientAsync(int client, CancellationToken giveUp)
    {
        var random = new Random(HashCode.Combine(RunId, client));
        var visitors = Enumerable.Range(0, Visitors).Where(i => i % Clients == client)
            .Select(i => new Visitor($"v-{RunId}-{i:D5}")).ToArray();
        while (!giveUp.IsCancellationRequested)
        {
            var count = 1 + random.Next(MaxEventsPerBatch);
            var end = Interlocked.Add(ref _handedOut, count);
            if (end - count >= TargetEvents)
            {
                return;
            }
            count = (int)Math.Min(count, TargetEvents - (end - count));
            var visitor = visitors[random.Next(visitors.Length)];
            var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString()).ToArray();
            var body = Beacon(visitor, ids, random);
            await SendUntilAcknowledgedAsync(body, ids, random, giveUp);
        }
    }

    private async Task SendUntilAcknowledgedAsync(string body, string[] ids, Random random, CancellationToken giveUp)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 0; ; attempt++)
        {
            if (giveUp.IsCancellationRequested)
            {
                Interlocked.Add(ref _gaveUpEvents, ids.Length);
                return;
            }
            if (attempt > 0)
            {
                Interlocked.Increment(ref _retried);
            }
            Interlocked.Increment(ref _requests);
            TimeSpan? retryAfter = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "collect")
                {
                    Content = new StringContent(body, Encoding.UTF8, "text/plain"),
                };
                request.Headers.TryAddWithoutValidation("User-Agent", Chromium.DesktopUserAgent);
                request.Headers.TryAddWithoutValidation("Origin", "https://shop.example.com");
                request.Headers.TryAddWithoutValidation("Accept-Language", "en-GB,en;q=0.9");
                using var response = await _http.SendAsync(request, giveUp);
                var status = (int)response.StatusCode;
                if (status is >= 200 and < 300)
                {
                    var text = await response.Content.ReadAsStringAsync(giveUp);
                    Acknowledge(ids, text);
                    return;
                }
                if (status == 429)
                {
                    Interlocked.Increment(ref _status429);
                }
                else if (status >= 500)
                {
                    Interlocked.Increment(ref _status5xx);
                }
                else
                {
                    Interlocked.Increment(ref _refused4xx);
                    _problems.Enqueue($"{status}: {await response.Content.ReadAsStringAsync(giveUp)}");
                    return;
                }
                retryAfter = response.Headers.RetryAfter switch
                {
                    { Delta: { } delta } => delta,
                    { Date: { } date } => date - DateTimeOffset.UtcNow,
                    _ => null,
                };
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref _transportErrors);
            }
            catch (OperationCanceledException) when (!giveUp.IsCancellationRequested)
            {
                Interlocked.Increment(ref _transportErrors); // the client's own timeout
            }
            catch (OperationCanceledException)
            {
                Interlocked.Add(ref _gaveUpEvents, ids.Length);
                return;
            }
            var pause = retryAfter is { } ra
                ? TimeSpan.FromTicks(Math.Clamp(ra.Ticks, TimeSpan.FromMilliseconds(100).Ticks, MaxRetryAfter.Ticks))
                : backoff + TimeSpan.FromMilliseconds(random.Next(50));
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            try
            {
                await Task.Delay(pause, giveUp);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Add(ref _gaveUpEvents, ids.Length);
                return;
            }
        }
    }

    private void Acknowledge(string[] ids, string answer)
    {
        var rejected = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(answer);
            if (doc.RootElement.TryGetProperty("rejected", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var r in list.EnumerateArray())
                {
                    if (r.TryGetProperty("id", out var id) && id.GetString() is { } s)
                    {
                        rejected.Add(s);
                    }
                    _problems.Enqueue("rejected in a 2xx: " + r.GetRawText());
                }
            }
        }
        catch (JsonException)
        {
            _problems.Enqueue("unreadable 2xx answer: " + answer);
        }
        var accepted = 0;
        foreach (var id in ids)
        {
            if (rejected.Contains(id))
            {
                continue;
            }
            _acked.Enqueue(id);
            accepted++;
        }
        Interlocked.Add(ref _acknowledged, accepted);
        Interlocked.Add(ref _rejectedEvents, ids.Length - accepted);
    }

    private static readonly (string Url, string? Referrer)[] Landings =
    [
        ("https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=Cj0KCQiA{0}", "https://www.google.com/"),
        ("https://shop.example.com/blog/choosing-trail-shoes", "https://www.google.com/search?q=how+to+choose+trail+running+shoes"),
        ("https://shop.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=launch", null),
        ("https://shop.example.com/compare/trail-vs-road", "https://www.bing.com/search?q=trail+vs+road+shoes"),
        ("https://shop.example.com/products/trail-{0}?fbclid=IwAR{0}", "https://l.facebook.com/"),
        ("https://shop.example.com/", null),
        ("https://shop.example.com/pricing", "https://duckduckgo.com/"),
    ];

    private static readonly string[] Pages =
    [
        "/", "/blog/choosing-trail-shoes", "/blog/marathon-training-plan", "/compare/trail-vs-road", "/products/trail-{0}",
        "/products/road-{0}", "/pricing", "/contact", "/cart", "/checkout",
    ];

    /// <summary>A beacon as the tag builds it: landing context, pageviews, custom events, engagement.</summary>
    private static string Beacon(Visitor v, IReadOnlyList<string> ids, Random random)
    {
        if (v.Batches == 0 || random.Next(12) == 0)
        {
            v.SessionNumber++;
            v.SessionId = $"s-{v.Id}-{v.SessionNumber}";
            var landing = Landings[random.Next(Landings.Length)];
            v.LandingUrl = string.Format(CultureInfo.InvariantCulture, landing.Url, random.Next(1000, 9999));
            v.LandingReferrer = landing.Referrer;
            v.Landing = true;
        }
        v.Batches++;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sb = new StringBuilder(512 + (ids.Count * 400));
        sb.Append(CultureInfo.InvariantCulture, $$"""{"v":1,"site":"{{Site}}","vid":"{{v.Id}}","sid":"{{v.SessionId}}","sn":{{v.SessionNumber}},"land":{"url":{{Json(v.LandingUrl)}},"ref":{{Json(v.LandingReferrer)}}},""");
        sb.Append("""
            "ctx":{"sw":1440,"sh":900,"lang":"en-GB","tz":"Europe/London"},"events":[
            """);
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            var ts = now - ((ids.Count - i) * 750L);
            string url;
            string? referrer;
            var kind = v.Landing ? 0 : random.Next(10);
            if (v.Landing)
            {
                url = v.LandingUrl!;
                referrer = v.LandingReferrer;
                v.Landing = false;
            }
            else
            {
                url = "https://shop.example.com" + string.Format(CultureInfo.InvariantCulture, Pages[random.Next(Pages.Length)], random.Next(100, 999));
                referrer = "https://shop.example.com/";
            }
            switch (kind)
            {
                case 7:
                    sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"{{{ids[i]}}}","type":"event","name":"add_to_cart","ts":{{{ts}}},"url":{{{Json(url)}}},"props":{"sku":"SKU-{{{random.Next(100, 999)}}}","price":{{{random.Next(20, 200)}}}.9,"currency":"EUR"}}""");
                    break;
                case 8:
                    sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"{{{ids[i]}}}","type":"engagement","ts":{{{ts}}},"url":{{{Json(url)}}},"props":{"engaged_ms":{{{random.Next(1000, 90_000)}}},"scroll_pct":{{{random.Next(10, 100)}}}}}""");
                    break;
                case 9 when random.Next(4) == 0:
                    sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"{{{ids[i]}}}","type":"event","name":"signup","ts":{{{ts}}},"url":"https://shop.example.com/signup","props":{"plan":"pro"}}""");
                    break;
                default:
                    v.Pages++;
                    sb.Append(CultureInfo.InvariantCulture, $$"""{"id":"{{ids[i]}}","type":"pageview","ts":{{ts}},"url":{{Json(url)}},"ref":{{Json(referrer)}},"title":"Example Shop page {{v.Pages}}"}""");
                    break;
            }
        }
        sb.Append(CultureInfo.InvariantCulture, $$"""],"sent":{{now}}}""");
        return sb.ToString();
    }

    private static string Json(string? value) => value is null ? "null" : JsonSerializer.Serialize(value);

    public void Dispose() => _http.Dispose();
}
