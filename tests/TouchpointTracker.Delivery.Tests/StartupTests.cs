using Microsoft.Extensions.Options;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Delivery.Tests;

/// <summary>Bad or missing settings stop the collector at start-up with a message naming the setting.</summary>
public sealed class StartupTests
{
    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    [Test]
    public void Redis_without_Kafka_names_the_missing_Kafka_setting()
    {
        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => CollectorHost.StartAsync(Settings(("Redis:Configuration", "127.0.0.1:1"))));
        Assert.That(ex!.Message, Does.Contain("Kafka:BootstrapServers").And.Contain("Kafka__BootstrapServers"));
    }

    [Test]
    public void Kafka_without_Redis_names_the_missing_Redis_setting()
    {
        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => CollectorHost.StartAsync(Settings(("Kafka:BootstrapServers", "127.0.0.1:1"))));
        Assert.That(ex!.Message, Does.Contain("Redis:Configuration").And.Contain("Redis__Configuration"));
    }

    [TestCase("Redis:Shards", "0", "Redis:Shards")]
    [TestCase("Redis:HighWaterMark", "5", "Redis:HighWaterMark")]
    [TestCase("Kafka:Compression", "brotli", "Kafka:Compression")]
    [TestCase("Kafka:TouchpointsTopic", "bad topic", "Kafka:TouchpointsTopic")]
    [TestCase("Kafka:Properties:acks", "1", "Kafka:Properties:acks")]
    [TestCase("Kafka:LibrdkafkaPath", "/nonexistent/librdkafka.so", "Kafka:LibrdkafkaPath: no file at '/nonexistent/librdkafka.so'")]
    [TestCase("Forwarder:BatchSize", "0", "Forwarder:BatchSize")]
    [TestCase("Forwarder:RetryBackoffMaxMs", "50", "Forwarder:RetryBackoffMaxMs")]
    public void An_invalid_setting_stops_the_start_and_is_named(string key, string value, string named)
    {
        var settings = Settings(("Redis:Configuration", "127.0.0.1:1,abortConnect=false,connectTimeout=200"), ("Kafka:BootstrapServers", "127.0.0.1:1"), (key, value));
        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => CollectorHost.StartAsync(settings));
        Assert.That(ex!.Message, Does.Contain(named));
    }
}
