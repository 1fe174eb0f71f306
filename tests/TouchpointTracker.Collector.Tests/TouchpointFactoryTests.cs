using TouchpointTracker.Collector.Ingest;

namespace TouchpointTracker.Collector.Tests;

public class TouchpointFactoryTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public void Derived_time_removes_the_client_clock_error()
    {
        // The client's clock is a day behind; the event happened 3 s before the batch was sent.
        var sent = Received.AddDays(-1).ToUnixTimeMilliseconds();
        var created = sent - 3_000;

        var derived = TouchpointFactory.DerivedTimestamp(created, sent, Received);

        Assert.That(derived, Is.EqualTo(Received.AddSeconds(-3)));
    }

    [TestCase(null, 1_000L)]
    [TestCase(1_000L, null)]
    [TestCase(2_000L, 1_000L)]
    public void Derived_time_falls_back_to_the_received_time(long? created, long? sent) =>
        Assert.That(TouchpointFactory.DerivedTimestamp(created, sent, Received), Is.EqualTo(Received));
}
