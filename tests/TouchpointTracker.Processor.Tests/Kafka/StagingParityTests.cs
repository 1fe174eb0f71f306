using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Embedded;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using TouchpointTracker.Processor.Tests.Support;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Processor.Tests.Kafka;

/// <summary>
/// The collector's embedded mode and the Kafka processor are two hosts of one staging path: with the same
/// <c>Journeys:*</c> settings they stage the same enriched input identically and export the same metrics.
/// </summary>
[NonParallelizable]
public sealed class StagingParityTests
{
    /// <summary>Shorter sessions and late window than the defaults, so a host that ignored them would differ.</summary>
    private static readonly Dictionary<string, string?> Journeys = new()
    {
        ["Journeys:SessionTimeoutMinutes"] = "7",
        ["Journeys:LateEventWindowMinutes"] = "45",
        ["Journeys:InactivityDays"] = "20",
        ["Journeys:ReloadIntervalSeconds"] = "0",
    };

    private static readonly string[] StagingMetrics = ["tt_processor_events_total", "tt_stage_transitions_total", "tt_late_events_total"];

    [Test]
    public async Task Embedded_mode_and_processor_stage_the_same_input_identically_with_the_same_journey_settings()
    {
        var stream = Workload.Generate(visitors: 150, seed: 11);
        var settings = new JourneyOptions { SessionTimeoutMinutes = 7, LateEventWindowMinutes = 45, InactivityDays = 20 }.ToSettings();
        var reference = Run(stream, settings);
        var withDefaults = Run(stream, JourneySettings.Default);
        Assert.That(reference.Select(Workload.Describe), Is.Not.EqualTo(withDefaults.Select(Workload.Describe)),
            "the chosen settings must change the staging of this stream, or the test could not tell a host that ignores them");

        // The Kafka processor.
        await using var env = await KafkaEnvironment.StartAsync(partitions: 2);
        env.Produce(stream);
        var processorSettings = env.ProcessorSettings("parity");
        foreach (var (key, value) in Journeys)
        {
            processorSettings[key] = value;
        }
        await using var processor = await ProcessorHost.StartAsync(processorSettings);
        var (fromProcessor, _) = env.ReadOutputs(reference.Count, 0, TimeSpan.FromSeconds(60));

        // The embedded mode, fed the same enriched touchpoints through its buffer.
        var embeddedSettings = new Dictionary<string, string?>(Journeys) { ["Journeys:InspectCapacity"] = "100000" };
        await using var collector = await CollectorHost.StartAsync(embeddedSettings);
        var buffer = collector.Services.GetRequiredService<InMemoryEventBuffer>();
        foreach (var chunk in stream.Select(Copy).Chunk(100))
        {
            Assert.That(await buffer.AppendAsync(chunk, CancellationToken.None), Is.EqualTo(AppendOutcome.Stored));
        }
        var log = collector.Services.GetRequiredService<StagedEventLog>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (log.Written < reference.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        var fromEmbedded = log.Latest(int.MaxValue);

        Assert.Multiple(() =>
        {
            var expected = reference.Select(Workload.Describe).Order(StringComparer.Ordinal).ToList();
            Assert.That(fromProcessor.Select(Workload.Describe).Order(StringComparer.Ordinal), Is.EqualTo(expected), "processor");
            Assert.That(fromEmbedded.Select(Workload.Describe).Order(StringComparer.Ordinal), Is.EqualTo(expected), "embedded mode");
        });

        using var processorHttp = new HttpClient { BaseAddress = processor.BaseAddress };
        using var collectorHttp = collector.CreateClient();
        var processorMetrics = MetricNames(await processorHttp.GetStringAsync("/metrics"));
        var embeddedMetrics = MetricNames(await collectorHttp.GetStringAsync("/metrics"));
        Assert.Multiple(() =>
        {
            foreach (var name in StagingMetrics)
            {
                Assert.That(processorMetrics, Does.Contain(name), "processor");
                Assert.That(embeddedMetrics, Does.Contain(name), "embedded mode");
            }
        });
    }

    private static List<Touchpoint> Run(IEnumerable<Touchpoint> stream, JourneySettings settings)
    {
        var runner = new JourneyRunner(new JourneyProcessor(StageEngine.CreateDefault(), settings));
        foreach (var tp in stream)
        {
            runner.Apply(Copy(tp));
        }
        return runner.Staged;
    }

    private static Touchpoint Copy(Touchpoint tp) =>
        System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tp, ContractsJsonContext.Default.Touchpoint), ContractsJsonContext.Default.Touchpoint)!;

    /// <summary>The metric families a Prometheus scrape declares (its <c># TYPE</c> lines).</summary>
    private static HashSet<string> MetricNames(string exposition) =>
        Regex.Matches(exposition, @"^# TYPE (\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
}
