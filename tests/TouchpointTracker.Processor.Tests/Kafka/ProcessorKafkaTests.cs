using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.State;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// The processor against a real Redis and librdkafka's mock Kafka cluster: every event staged once, as
/// the in-memory reference stages it, through crashes and shared partitions. Every message read from
/// the output topics is validated against docs/schemas.
/// </summary>
[NonParallelizable]
public sealed class ProcessorKafkaTests
{
    private KafkaEnvironment _env = null!;

    [SetUp]
    public async Task StartEnvironment() => _env = await KafkaEnvironment.StartAsync(partitions: 4);

    [TearDown]
    public async Task StopEnvironment() => await _env.DisposeAsync();

    [Test]
    public async Task Stages_the_stream_once_as_the_reference_engine_does_and_reports_ready()
    {
        var stream = Workload.Generate(visitors: 120, seed: 1);
        var expected = Workload.Expected(stream);
        _env.Produce(stream);

        await using var processor = await ProcessorHost.StartAsync(_env.ProcessorSettings("p1"));
        var (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(60));

        Workload.AssertSameAsExpected(expected, staged, transitions);
        using var http = new HttpClient { BaseAddress = processor.BaseAddress };
        using var ready = await http.GetAsync("/readyz");
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Multiple(() =>
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(metrics, Does.Contain("tt_processor_events_total{outcome=\"duplicate\"}"));
            Assert.That(metrics, Does.Contain("tt_processor_events_total{outcome=\"bot\"}"));
            // Prometheus text with the names docs/operations.md documents, each defined once.
            foreach (var (name, type) in new[]
            {
                ("tt_processor_events_total", "counter"), ("tt_processor_batches_total", "counter"),
                ("tt_processor_published_total", "counter"), ("tt_processor_partition_claims_total", "counter"),
                ("tt_stage_transitions_total", "counter"), ("tt_processor_batch_seconds", "histogram"),
            })
            {
                Assert.That(metrics, Does.Contain($"# HELP {name} "));
                Assert.That(metrics.Split('\n').Count(l => l == $"# TYPE {name} {type}"), Is.EqualTo(1), $"{name} is one {type}");
            }
            Assert.That(metrics, Does.Contain("tt_processor_batch_seconds_bucket{le=\"+Inf\"} "));
            Assert.That(metrics, Does.Not.Contain("otel_scope_"));
        });
    }

    [Test]
    public async Task A_processor_killed_mid_stream_resumes_with_no_duplicate_and_no_lost_transition()
    {
        var stream = Workload.Generate(visitors: 500, seed: 7);
        var expected = Workload.Expected(stream);
        using var stop = new CancellationTokenSource();
        var feeding = Task.Run(() => _env.Produce(stream, ratePerSecond: 600, stop.Token));
        var settings = _env.ProcessorSettings("killed", maxBatch: 40);
        var killedAt = new List<long>();
        var claims = new List<string>();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var before = _env.CountOf(KafkaEnvironment.Staged);
                await using var victim = await ProcessorProcess.StartAsync(settings);
                var watch = Stopwatch.StartNew();
                while (_env.CountOf(KafkaEnvironment.Staged) < before + 250)
                {
                    Assert.That(victim.HasExited, Is.False, "the processor exited on its own:\n" + victim.Output);
                    Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), "the processor staged nothing new:\n" + victim.Output);
                    await Task.Delay(20);
                }
                victim.Kill(); // SIGKILL, in the middle of whatever batch it is in
                killedAt.Add(_env.CountOf(KafkaEnvironment.Staged));
                claims.AddRange(victim.Output.Split('\n').Where(l => l.Contains(": claimed", StringComparison.Ordinal)));
            }
            await feeding;

            await using var survivor = await ProcessorProcess.StartAsync(settings);
            var (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(120));
            claims.AddRange(survivor.Output.Split('\n').Where(l => l.Contains(": claimed", StringComparison.Ordinal)));
            TestContext.Out.WriteLine(string.Join(Environment.NewLine, claims.Select(c => c.Trim())));
            TestContext.Out.WriteLine($"{stream.Count} input events, {expected.Staged.Count} staged, {expected.Transitions.Count} transitions; killed at {string.Join(", ", killedAt)} staged");

            Assert.That(killedAt, Has.All.LessThan(expected.Staged.Count), "every kill happened mid-stream");
            Workload.AssertSameAsExpected(expected, staged, transitions);
            var conversions = KafkaEnvironment.ExpectedConversions(expected);
            Assert.That(conversions, Is.Not.Empty);
            Assert.That(_env.ReadConversions(conversions.Count, TimeSpan.FromSeconds(60)).Select(c => c.ConversionId), Is.EquivalentTo(conversions),
                "each conversion record once, through the kills");
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    [Test]
    public async Task A_failure_after_the_kafka_commit_and_before_the_state_save_publishes_nothing_twice()
    {
        var stream = Workload.Generate(visitors: 150, seed: 3);
        var expected = Workload.Expected(stream);
        _env.Produce(stream);
        FaultyStateStore? faulty = null;

        await using var processor = await ProcessorHost.StartAsync(_env.ProcessorSettings("faulty", maxBatch: 50), services =>
            services.AddSingleton<IJourneyStateStore>(sp =>
            {
                var redis = new RedisJourneyStateStore(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), "tt:journey", "tt-processor", KafkaEnvironment.Input, TimeSpan.FromDays(31), TimeProvider.System);
                return faulty = new FaultyStateStore(redis, 3, 7, 8);
            }));
        var (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(60));

        Workload.AssertSameAsExpected(expected, staged, transitions);
        Assert.Multiple(() =>
        {
            Assert.That(faulty!.Failed, Is.EqualTo(3));
            Assert.That(processor.Total("tt_processor_batch_failures_total"), Is.EqualTo(3));
            Assert.That(processor.Total("tt_processor_replayed_outputs_total"), Is.GreaterThan(0), "the replayed batches' outputs were recognised as published");
        });
    }

    [Test]
    public async Task Two_processors_share_the_partitions_and_agree_with_one()
    {
        var first = Workload.Generate(visitors: 200, seed: 11, visitorPrefix: "a");
        var second = Workload.Generate(visitors: 200, seed: 12, visitorPrefix: "b");
        _env.Produce(first);

        await using var one = await ProcessorHost.StartAsync(_env.ProcessorSettings("one", maxBatch: 50));
        var until = DateTime.UtcNow.AddSeconds(60);
        while (_env.CountOf(KafkaEnvironment.Staged) < 200 && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }
        var two = await ProcessorHost.StartAsync(_env.ProcessorSettings("two", maxBatch: 50)); // a rebalance moves partitions, with their state
        try
        {
            until = DateTime.UtcNow.AddSeconds(60);
            while (two.Total("tt_processor_partition_claims_total") == 0 && DateTime.UtcNow < until)
            {
                await Task.Delay(20);
            }
            Assert.That(two.Total("tt_processor_partition_claims_total"), Is.GreaterThan(0), "the second processor got partitions");
            _env.Produce(second, ratePerSecond: 1500);
            var expected = Workload.Expected([.. first, .. second]);
            var (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(90));
            Workload.AssertSameAsExpected(expected, staged, transitions);
            Assert.Multiple(() =>
            {
                Assert.That(one.Total("tt_processor_published_total"), Is.GreaterThan(0), "the first processor published");
                Assert.That(two.Total("tt_processor_published_total"), Is.GreaterThan(0), "the second processor published");
            });

            // One leaves (cleanly): the other takes every partition over and goes on from the stored state.
            await two.DisposeAsync();
            var third = Workload.Generate(visitors: 100, seed: 13, start: Touch.T0.AddDays(2), visitorPrefix: "a");
            _env.Produce(third);
            expected = Workload.Expected([.. first, .. second, .. third]);
            (staged, transitions) = _env.ReadOutputs(expected.Staged.Count, expected.Transitions.Count, TimeSpan.FromSeconds(90));
            Workload.AssertSameAsExpected(expected, staged, transitions);
        }
        finally
        {
            await two.DisposeAsync();
        }
    }

    /// <summary>
    /// The widest crash window (after the Kafka commit, before the state save) with the in-process state cache in
    /// front of Redis, as the processor runs by default: the failed batches are replayed from Redis, not from states
    /// the failed batch had already changed in memory, and nothing is published twice.
    /// </summary>
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
