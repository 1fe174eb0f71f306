using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace TouchpointTracker.Delivery.Tests.Support;

/// <summary>
/// Simulated visitors posting beacons concurrently, as the tag does: each visitor sends its batches one
/// after the other to the collectors in turn, keeps a refused batch (503, transport error) and sends it
/// again until a 2xx, and records the event ids of every acknowledged batch in order.
/// </summary>
public sealed class VisitorLoad : IDisposable
{
    private readonly HttpClient[] _clients;
    private readonly ConcurrentDictionary<string, List<string>> _acked = new(StringComparer.Ordinal);
    private long _accepted;
    private long _refused503;
    private long _retryAfterSeen;
    private long _transportErrors;
    private long _otherStatus;

    public VisitorLoad(IEnumerable<Uri> collectors)
    {
        _clients = collectors.Select(u => new HttpClient { BaseAddress = u, Timeout = TimeSpan.FromSeconds(10) }).ToArray();
    }

    public int Visitors { get; init; } = 16;
    public int MaxBatchesPerVisitor { get; init; } = 40;
    public int MaxEventsPerBatch { get; init; } = 10;
    public TimeSpan PauseBetweenBatches { get; init; } = TimeSpan.Zero;
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromMilliseconds(150);
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..6];

    public long AcceptedEvents => Interlocked.Read(ref _accepted);
    public long Refused503 => Interlocked.Read(ref _refused503);
    public long RetryAfterSeen => Interlocked.Read(ref _retryAfterSeen);
    public long TransportErrors => Interlocked.Read(ref _transportErrors);
    public long OtherStatus => Interlocked.Read(ref _otherStatus);

    public IReadOnlyCollection<string> VisitorIds => _acked.Keys.ToList();

    /// <summary>Takes over what another load acknowledged (to check it against Kafka here).</summary>
    public void Adopt(VisitorLoad other)
    {
        foreach (var (visitor, ids) in other._acked)
        {
            _acked[visitor] = [.. ids];
        }
        Interlocked.Add(ref _accepted, other.AcceptedEvents);
    }

    public IReadOnlyList<string> AckedOf(string visitor)
    {
        var list = _acked[visitor];
        lock (list)
        {
            return [.. list];
        }
    }

    public IReadOnlyCollection<string> AllAcked() => _acked.Values.SelectMany(l =>
    {
        lock (l)
        {
            return l.ToArray();
        }
    }).ToList();

    /// <summary>
    /// Runs every visitor until it has sent its batches or <paramref name="stopSending"/> fires; a batch in
    /// hand is still retried until acknowledged or <paramref name="giveUp"/> fires.
    /// </summary>
    public Task RunAsync(CancellationToken stopSending, CancellationToken giveUp) =>
        Task.WhenAll(Enumerable.Range(0, Visitors).Select(i => Task.Run(() => VisitorAsync(i, stopSending, giveUp), CancellationToken.None)));

    private async Task VisitorAsync(int index, CancellationToken stopSending, CancellationToken giveUp)
    {
        var visitor = $"v-{RunId}-{index:D3}";
        var session = $"s-{RunId}-{index:D3}";
        var acked = _acked.GetOrAdd(visitor, _ => []);
        var random = new Random(index);
        var target = index;
        for (var b = 0; b < MaxBatchesPerVisitor && !stopSending.IsCancellationRequested; b++)
        {
            var count = 1 + random.Next(MaxEventsPerBatch);
            var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString()).ToArray();
            var body = Beacon(visitor, session, ids, b);
            while (true)
            {
                if (giveUp.IsCancellationRequested)
                {
                    return;
                }
                var client = _clients[target++ % _clients.Length];
                try
                {
                    using var content = new StringContent(body, Encoding.UTF8, "text/plain");
                    using var response = await client.PostAsync("collect", content, giveUp);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        lock (acked)
                        {
                            acked.AddRange(ids);
                        }
                        Interlocked.Add(ref _accepted, ids.Length);
                        break;
                    }
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref _refused503);
                        if (response.Headers.RetryAfter is not null)
                        {
                            Interlocked.Increment(ref _retryAfterSeen);
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref _otherStatus);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref _transportErrors);
                }
                catch (TaskCanceledException) when (!giveUp.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _transportErrors); // client timeout
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                try
                {
                    await Task.Delay(RetryPause, giveUp);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            if (PauseBetweenBatches > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(PauseBetweenBatches, stopSending);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>A minimal enriched touchpoint (a pageview of the test site), for tests that hand events to the buffer directly.</summary>
    public static Contracts.Touchpoint Touchpoint(string visitor, string id) => new()
    {
        EventId = id,
        SiteId = PipelineEnvironment.Site,
        VisitorId = visitor,
        SessionId = "session-" + visitor,
        Type = "pageview",
        ReceivedTs = DateTimeOffset.UtcNow,
        DerivedTs = DateTimeOffset.UtcNow,
        Page = new Contracts.PageInfo { Url = "https://shop.example.com/", Host = "shop.example.com", Path = "/" },
    };

    /// <summary>A beacon like the tag's: pageviews from a paid-search landing, a custom event now and then.</summary>
    public static string Beacon(string visitor, string session, IReadOnlyList<string> ids, int batch)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sb = new StringBuilder(256 + (ids.Count * 400));
        sb.Append(CultureInfo.InvariantCulture, $$"""{"v":1,"site":"{{PipelineEnvironment.Site}}","vid":"{{visitor}}","sid":"{{session}}","sn":1,""");
        sb.Append("""
            "land":{"url":"https://shop.example.com/spring?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=Cj0KCQiA","ref":"https://www.google.com/"},
            "ctx":{"sw":1440,"sh":900,"lang":"en-GB","tz":"Europe/London"},"events":[
            """);
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            var ts = now - ((ids.Count - i) * 10);
            if ((batch + i) % 5 == 4)
            {
                sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"{{{ids[i]}}}","type":"event","name":"add_to_cart","ts":{{{ts}}},"url":"https://shop.example.com/products/{{{batch}}}-{{{i}}}","props":{"sku":"SKU-{{{batch}}}{{{i}}}","price":49.9,"currency":"EUR"}}""");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $$"""{"id":"{{ids[i]}}","type":"pageview","ts":{{ts}},"url":"https://shop.example.com/products/{{batch}}-{{i}}?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale","ref":"https://www.google.com/search?q=running+shoes","title":"Trail running shoe {{batch}}-{{i}} | Example Shop"}""");
            }
        }
        sb.Append(CultureInfo.InvariantCulture, $$"""],"sent":{{now}}}""");
        return sb.ToString();
    }

    public void Dispose()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }
    }
}
