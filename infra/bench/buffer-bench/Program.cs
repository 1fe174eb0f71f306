using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Contracts;
using TouchpointTracker.Messaging;
using TouchpointTracker.ServiceDefaults;

// Usage: BufferBench <redis host:port> <redis-server pid> [seconds per round] [callers] [rounds]
// Appends one-event batches of an enriched touchpoint (~1 KB of JSON) from concurrent callers through the collector's
// Redis buffer, alternating AppendCallsInFlight settings round by round (64: every request its own call, as before
// group commit; 2: the default), and prints events/s, the CPU time per event of this process and of redis-server,
// and how many requests each script call carried.
var redis = args[0];
var redisPid = int.Parse(args[1], CultureInfo.InvariantCulture);
var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 5;
var callers = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 32;
var rounds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3;
int[] settings = [64, 2, 1];

var touchpoint = Sample();
var results = settings.ToDictionary(s => s, _ => new List<string>());
for (var round = 0; round < rounds; round++)
{
    foreach (var inFlight in settings)
    {
        var options = Options.Create(new RedisOptions { Configuration = redis, KeyPrefix = $"bb{inFlight}", Shards = 4, HighWaterMark = 1_000_000_000, AppendCallsInFlight = inFlight });
        using var connections = new RedisConnections(options, NullLogger<RedisConnections>.Instance);
        await connections.StartAsync(CancellationToken.None);
        using var metrics = new MetricsRegistry();
        var buffer = new RedisStreamBuffer(connections, new RedisShardMap(options), options, TimeProvider.System, metrics, NullLogger<RedisStreamBuffer>.Instance);
        await RunAsync(buffer, 1.0); // warm-up
        var calls0 = metrics.Counter("tt_buffer_append_calls_total", "").Total;
        var batches0 = metrics.Counter("tt_buffer_append_batches_total", "").Total;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var redis0 = RedisTicks(redisPid);
        var sw = Stopwatch.StartNew();
        var events = await RunAsync(buffer, seconds);
        var elapsed = sw.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / events;
        var redisCpu = (RedisTicks(redisPid) - redis0) * 1e6 / 100 / events;
        var calls = metrics.Counter("tt_buffer_append_calls_total", "").Total - calls0;
        var batches = metrics.Counter("tt_buffer_append_batches_total", "").Total - batches0;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"in flight {inFlight,2}: {events / elapsed,7:F0} events/s, CPU per event: bench process {cpu,5:F1} us, redis-server {redisCpu,5:F1} us; {batches / (double)Math.Max(calls, 1),4:F1} requests per call");
        Console.WriteLine(line);
        results[inFlight].Add(line);
        var db = connections.Ingest.GetDatabase();
        for (var s = 0; s < 4; s++)
        {
            await db.KeyDeleteAsync(RedisShardMap.StreamKey($"bb{inFlight}", s));
        }
    }
}
return;

async Task<long> RunAsync(RedisStreamBuffer buffer, double forSeconds)
{
    var until = Stopwatch.GetTimestamp() + (long)(forSeconds * Stopwatch.Frequency);
    var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
    {
        long n = 0;
        var batch = new Touchpoint[1];
        while (Stopwatch.GetTimestamp() < until)
        {
            var tp = touchpoint.With($"v{c}-{n % 997}", $"{c}-{n}");
            batch[0] = tp;
            if (await buffer.AppendAsync(batch, CancellationToken.None) != AppendOutcome.Stored)
            {
                throw new InvalidOperationException("append refused");
            }
            n++;
        }
        return n;
    })).ToArray();
    return (await Task.WhenAll(tasks)).Sum();
}

static long RedisTicks(int pid)
{
    var f = File.ReadAllText($"/proc/{pid}/stat").Split(' ');
    return long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
}

static Touchpoint Sample()
{
    const string url = "https://shop.example/blog/what-is-a-customer-journey?utm_source=newsletter&utm_medium=email&utm_campaign=launch";
    return new Touchpoint
    {
        SiteId = "demo", SessionId = "s00000001", SessionIndex = 1, Type = "pageview",
        ClientTs = DateTimeOffset.UtcNow, SentTs = DateTimeOffset.UtcNow, ReceivedTs = DateTimeOffset.UtcNow, DerivedTs = DateTimeOffset.UtcNow,
        Page = new PageInfo { Url = url, Host = "shop.example", Path = "/blog/what-is-a-customer-journey", Query = "utm_source=newsletter&utm_medium=email&utm_campaign=launch", Title = "What is a customer journey? A guide for marketers" },
        Referrer = new ReferrerInfo { Url = "https://www.google.com/", Host = "www.google.com", Medium = "search", Source = "google" },
        Landing = new LandingInfo { Url = url, Referrer = "https://www.google.com/" },
        Campaign = new CampaignInfo { Source = "newsletter", Medium = "email", Name = "launch" },
        Channel = "Email",
        Device = new DeviceInfo { Browser = "Chrome", BrowserVersion = "131.0.0", Os = "Windows", OsVersion = "10", Family = "desktop" },
        Geo = new GeoInfo { Country = "FR" },
        Context = new ContextInfo { Screen = "1920x1080", Language = "fr-FR", TimeZone = "Europe/Paris" },
    };
}

internal static class TouchpointCopy
{
    public static Touchpoint With(this Touchpoint t, string visitor, string eventId) => new()
    {
        EventId = eventId, SiteId = t.SiteId, VisitorId = visitor, SessionId = t.SessionId, SessionIndex = t.SessionIndex, Type = t.Type,
        ClientTs = t.ClientTs, SentTs = t.SentTs, ReceivedTs = t.ReceivedTs, DerivedTs = t.DerivedTs, Page = t.Page, Referrer = t.Referrer,
        Landing = t.Landing, Campaign = t.Campaign, Channel = t.Channel, Device = t.Device, Geo = t.Geo, Context = t.Context,
    };
}
