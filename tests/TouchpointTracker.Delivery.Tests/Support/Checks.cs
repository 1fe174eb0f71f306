using System.Net;

namespace TouchpointTracker.Delivery.Tests.Support;

/// <summary>Assertions shared by the end-to-end tests.</summary>
public static class Checks
{
    /// <summary>
    /// Every acknowledged event is in Kafka, and per visitor the first Kafka occurrence of each acknowledged
    /// event follows the order the visitor's batches were acknowledged in (repeats are allowed: at-least-once).
    /// </summary>
    public static async Task EverythingAcknowledgedArrivesInOrder(VisitorLoad load, TopicReader reader, TimeSpan timeout)
    {
        var acked = load.AllAcked();
        Assert.That(acked, Is.Not.Empty, "the load produced no acknowledged events");
        Assert.That(acked.Distinct().Count(), Is.EqualTo(acked.Count), "event ids are unique by construction");
        var missing = await reader.WaitForAsync(acked, timeout);
        Assert.That(missing, Is.Empty, $"{missing.Count} of {acked.Count} acknowledged events never reached Kafka (first: {(missing.Count > 0 ? missing[0] : "")})");
        Assert.That(reader.Problems, Is.Empty);
        var distinctInKafka = acked.Count(reader.Contains);
        Assert.That(distinctInKafka, Is.EqualTo(acked.Count), "distinct acknowledged ids in Kafka == acknowledged count");

        foreach (var visitor in load.VisitorIds)
        {
            var expected = load.AckedOf(visitor);
            var ackedSet = expected.ToHashSet(StringComparer.Ordinal);
            var firstOccurrences = reader.EventsOf(visitor).Distinct(StringComparer.Ordinal).Where(ackedSet.Contains).ToList();
            Assert.That(firstOccurrences, Is.EqualTo(expected), $"visitor {visitor}: Kafka order differs from acknowledgement order");
        }
    }

    public static async Task<(HttpStatusCode Status, string Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls readiness until <paramref name="condition"/> holds; returns the last answer.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> WaitForReadinessAsync(
        HttpClient client, Func<HttpStatusCode, string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            (HttpStatusCode, string) last;
            try
            {
                last = await ReadyAsync(client);
            }
            catch (HttpRequestException ex)
            {
                last = (0, ex.Message);
            }
            if (condition(last.Item1, last.Item2) || DateTime.UtcNow > deadline)
            {
                return last;
            }
            await Task.Delay(100);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout} waiting for {what}");
            }
            await Task.Delay(100);
        }
    }
}
