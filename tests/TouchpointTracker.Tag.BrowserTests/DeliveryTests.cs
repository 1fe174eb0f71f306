using Microsoft.Playwright;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>Lose nothing, count nothing twice: offline (scenario 4) and a busy collector (scenario 5).</summary>
public class DeliveryTests
{
    [Test]
    public async Task Events_tracked_offline_wait_in_the_retry_queue_and_arrive_once_when_back_online()
    {
        await using var s = await TagSession.OpenAsync();
        await s.GotoAsync("/offline.html");
        await s.StagedEventAsync(e => (string?)e["type"] == "pageview", "the page view sent while online");

        await s.Context.SetOfflineAsync(true);
        await s.Tt("'track', 'offline_first', { n: 1 }");
        await s.Tt("'track', 'offline_second'");
        await s.Tt("'flush'");
        // The send fails, then its first retry (after 1 s) fails too.
        await s.Log.WaitAsync(bs => bs.Count(b => b.Failure is not null) >= 2, "a failed send and a failed retry while offline");
        // While the tag backs off, a new batch goes straight to the queue.
        await s.Tt("'track', 'offline_third'");
        await s.Tt("'flush'");
        // The retry queue (localStorage _tt_q) holds the events tracked offline (each retry empties it for a
        // moment and keeps the batches again when they fail, hence the polling).
        await WaitForQueueAsync(s.Page, q => q is not null && q.Contains("offline_first", StringComparison.Ordinal) &&
            q.Contains("offline_second", StringComparison.Ordinal) && q.Contains("offline_third", StringComparison.Ordinal), "holds the three events tracked offline");

        await s.Context.SetOfflineAsync(false);

        string[] names = ["offline_first", "offline_second", "offline_third"];
        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => names.All(n => e.Any(x => (string?)x["name"] == n)), "the three events tracked offline");
        Assert.Multiple(() =>
        {
            Assert.That(staged.Where(e => (string?)e["type"] == "event").Select(e => (string?)e["name"]), Is.EquivalentTo(names));
            Assert.That(staged.Single(e => (string?)e["name"] == "offline_first")["props"]?["n"]?.GetValue<double>(), Is.EqualTo(1));
            // Each event left the browser with one id, kept across attempts: the ids staged are the ids tracked.
            var trackedIds = s.Log.SentEvents.Where(x => names.Contains((string?)x.Event["name"])).Select(x => (string?)x.Event["id"]).Distinct();
            Assert.That(staged.Where(e => (string?)e["type"] == "event").Select(e => (string?)e["event_id"]), Is.EquivalentTo(trackedIds));
        });
        TagSession.AssertStagedOnce(staged);
        await WaitForQueueAsync(s.Page, q => q is null, "is emptied once its batches are accepted");
        s.AssertDeliveredOnce();
    }

    [Test]
    public async Task Batches_refused_with_503_and_Retry_After_are_sent_again_and_arrive_once()
    {
        await using var s = await TagSession.OpenAsync();
        var refused = 0;
        // The collector is busy for the first two beacons: 503 with Retry-After, as it answers when its buffer is full.
        await s.Context.RouteAsync(TagEnvironment.CollectUrl, async route =>
        {
            if (route.Request.Method == "POST" && Interlocked.Increment(ref refused) <= 2)
            {
                await route.FulfillAsync(new RouteFulfillOptions
                {
                    Status = 503,
                    ContentType = "application/problem+json",
                    Body = """{"title":"buffer full","status":503,"reason":"buffer_full"}""",
                    Headers = new Dictionary<string, string>
                    {
                        ["Retry-After"] = "1",
                        ["Access-Control-Allow-Origin"] = "*",
                        ["Access-Control-Expose-Headers"] = "Retry-After",
                    },
                });
            }
            else
            {
                await route.ContinueAsync();
            }
        });

        await s.GotoAsync("/retry.html");
        await s.Tt("'track', 'after_busy', { plan: 'pro' }");

        var staged = await TagEnvironment.WaitForStagedAsync(await s.VisitorAsync(),
            e => e.Any(x => (string?)x["type"] == "pageview") && e.Any(x => (string?)x["name"] == "after_busy"), "the page view and the event");
        var pageviewId = (string?)staged.Single(e => (string?)e["type"] == "pageview")["event_id"];
        var attempts = s.Log.Beacons.Where(b => b.Events.Any(e => (string?)e["id"] == pageviewId)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(attempts.Take(2).Select(b => b.Status), Is.EqualTo(new int?[] { 503, 503 }), "the first two sends were refused");
            Assert.That(attempts.Count(b => b.Accepted), Is.EqualTo(1), "then accepted once");
            // A retried batch keeps its events' id and ts; only "sent" is set again.
            var ts = attempts.Select(b => b.Events.Single(e => (string?)e["id"] == pageviewId)["ts"]!.GetValue<long>()).Distinct();
            Assert.That(ts.Count(), Is.EqualTo(1), "the same ts on every attempt");
            Assert.That(attempts[^1].Json["sent"]!.GetValue<long>(), Is.GreaterThan(attempts[0].Json["sent"]!.GetValue<long>()), "sent is set on each attempt");
            Assert.That(staged.Single(e => (string?)e["name"] == "after_busy")["props"]?["plan"]?.GetValue<string>(), Is.EqualTo("pro"));
        });
        TagSession.AssertStagedOnce(staged);
        await WaitForQueueAsync(s.Page, q => q is null, "is emptied once its batches are accepted");
        s.AssertDeliveredOnce();
    }

    /// <summary>Polls (up to 20 s) the tag's retry queue, localStorage <c>_tt_q</c> (null when empty), until <paramref name="done"/>.</summary>
    private static async Task WaitForQueueAsync(IPage page, Func<string?, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? queue;
        while (!done(queue = await page.EvaluateAsync<string?>("() => localStorage.getItem('_tt_q')")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.That(done(queue), Is.True, $"within 20 s the retry queue never {what}; it holds: {queue}");
    }
}
