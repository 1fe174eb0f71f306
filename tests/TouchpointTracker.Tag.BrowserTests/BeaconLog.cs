using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>One POST the browser made to the collect URL: the body the tag sent and what became of it.</summary>
public sealed class SentBeacon
{
    internal SentBeacon(IRequest request, string body)
    {
        Request = request;
        Body = body;
        Json = JsonNode.Parse(body)!;
        ResourceType = request.ResourceType;
    }

    public IRequest Request { get; }
    public string Body { get; }
    public JsonNode Json { get; }
    /// <summary>"fetch" for <c>fetch(..., {keepalive})</c>, "ping" for <c>navigator.sendBeacon</c>.</summary>
    public string ResourceType { get; }
    /// <summary>The HTTP status the browser saw (null while pending, or when the request failed).</summary>
    public int? Status { get; internal set; }
    /// <summary>The network error (offline...), if the request failed.</summary>
    public string? Failure { get; internal set; }

    public bool Accepted => Status is >= 200 and < 300;

    public IEnumerable<JsonNode> Events => Json["events"]!.AsArray().Select(e => e!);
}

/// <summary>Any request of the browser context (URL, method, body): to prove what never left the page.</summary>
public sealed record SeenRequest(string Url, string Method, string? Body);

/// <summary>
/// Everything a browser context sent: the tag's beacons to the collect URL (with their outcome) and every
/// request at all. Events come from Playwright's dispatcher thread, so every list is read under a lock.
/// </summary>
public sealed class BeaconLog
{
    private readonly Lock _lock = new();
    private readonly List<SentBeacon> _beacons = [];
    private readonly List<SeenRequest> _requests = [];
    private readonly string _collectUrl;

    public BeaconLog(IBrowserContext context, string collectUrl)
    {
        _collectUrl = collectUrl;
        context.Request += (_, r) => OnRequest(r);
        context.Response += (_, r) => Update(r.Request, b => b.Status = r.Status);
        context.RequestFailed += (_, r) => Update(r, b => b.Failure = r.Failure ?? "failed");
    }

    public IReadOnlyList<SentBeacon> Beacons
    {
        get
        {
            lock (_lock)
            {
                return [.. _beacons];
            }
        }
    }

    public IReadOnlyList<SeenRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Every event of every beacon, with the beacon that carried it (retries repeat events).</summary>
    public IReadOnlyList<(SentBeacon Beacon, JsonNode Event)> SentEvents =>
        Beacons.SelectMany(b => b.Events.Select(e => (b, e))).ToList();

    /// <summary>Waits (up to 20 s) until the beacons sent so far satisfy <paramref name="done"/>.</summary>
    public async Task<IReadOnlyList<SentBeacon>> WaitAsync(Func<IReadOnlyList<SentBeacon>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var beacons = Beacons;
            if (done(beacons))
            {
                return beacons;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"within 20 s the tag did not send {what}; sent: [{string.Join(", ", beacons.Select(b => b.Body))}]");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Waits for the first sent event matching <paramref name="match"/>.</summary>
    public async Task<(SentBeacon Beacon, JsonNode Event)> WaitForEventAsync(Func<JsonNode, bool> match, string what)
    {
        await WaitAsync(bs => bs.Any(b => b.Events.Any(match)), what);
        return SentEvents.First(x => match(x.Event));
    }

    private void OnRequest(IRequest request)
    {
        var body = request.PostData;
        lock (_lock)
        {
            _requests.Add(new SeenRequest(request.Url, request.Method, body));
            if (request.Method == "POST" && request.Url == _collectUrl && body is not null)
            {
                _beacons.Add(new SentBeacon(request, body));
            }
        }
    }

    private void Update(IRequest request, Action<SentBeacon> change)
    {
        lock (_lock)
        {
            foreach (var b in _beacons.Where(b => ReferenceEquals(b.Request, request)))
            {
                change(b);
            }
        }
    }
}
