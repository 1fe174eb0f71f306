using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Processor.State;
using TouchpointTracker.Processor.Tests.Support;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// The widest crash window (after the Kafka commit, before the state save) with the in-process state cache in front
/// of Redis, as the processor runs by default: the failed batches are replayed from Redis, not from states the
/// failed batch had already changed in memory, and nothing is published twice.
/// </summary>
[NonParallelizable]
public sealed class StateCacheKafkaTests
{
    private KafkaEnvironment _env = null!;

    [SetUp]
    public async Task StartEnvironment() => _env = await KafkaEnvironment.StartAsync(partitions: 4);

    [TearDown]
    public async Task StopEnvironment() => await _env.DisposeAsync();

    [Test]
    public async Task A_failure_after_the_kafka_commit_with_the_state_cache_publishes_nothing_twice()
    {
        var stream = Workload.Generate(visitors: 150, seed: 5);
        var expected = Workload.Expected(stream);
        _env.Produce(stream);
        FaultyStateStore? faulty = null;
        CachingJourneyStateStore? cache = null;

        await using var processor = await ProcessorHost.StartAsync(_env.ProcessorSettings("cached", maxBatch: 50), services =>
            services.AddSingleton<IJourneyStateStore>(sp =>
            {
                var redis = new RedisJourneyStateStore(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), "tt:journey", "tt-processor", KafkaEnvironment.Input, TimeSpan.FromDays(31), TimeProvider.System);
                faulty = new FaultyStateStore(redis, 4, 9, 10);
                return cache = new CachingJourneyStateStore(faulty, 10_000, TimeSpan.FromDays(31), TimeProvider.System);
            }));
        var (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(60));

        Workload.AssertSameAsExpected(expected, staged, transitions);
        Assert.Multiple(() =>
        {
            Assert.That(faulty!.Failed, Is.EqualTo(3));
            Assert.That(processor.Total("tt_processor_batch_failures_total"), Is.EqualTo(3));
            Assert.That(processor.Total("tt_processor_replayed_outputs_total"), Is.GreaterThan(0));
            Assert.That(cache!.Hits, Is.GreaterThan(0), "later batches were served from the cache");
        });
    }
}
