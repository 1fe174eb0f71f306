using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using TouchpointTracker.Messaging;
using TouchpointTracker.Processor.Configuration;

namespace TouchpointTracker.Processor.Tests.Configuration;

/// <summary>
/// The processor refuses a Kafka:LibrdkafkaPath that cannot serve, naming the setting. Which library the
/// loader picks and why: tests/TouchpointTracker.Messaging.Tests/LibrdkafkaTests.cs.
/// </summary>
public sealed class LibrdkafkaPathTests
{
    /// <summary>A library every .NET process on Linux has, which is not librdkafka.</summary>
    private static string NotLibrdkafka => Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");

    [Test]
    public void The_processor_refuses_a_library_path_with_no_file_naming_the_setting()
    {
        var missing = Path.Combine(Path.GetTempPath(), "tt-librdkafka-" + Guid.NewGuid().ToString("N"), "librdkafka.so");
        Assert.That(Problems(missing), Has.Exactly(1).Contains($"Kafka:LibrdkafkaPath: no file at '{missing}'"));
    }

    [Test, Platform(Include = "Linux")]
    public void The_processor_refuses_a_library_path_that_is_not_a_recent_librdkafka()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Problems(NotLibrdkafka), Has.Exactly(1).Contains("Kafka:LibrdkafkaPath: does not export " + Librdkafka.RequiredExport));
            Assert.That(Problems(Librdkafka.LoadedPath), Is.Empty); // pinned by NativeKafkaSetup
        });
    }

    private static List<string?> Problems(string? librdkafkaPath)
    {
        var options = new KafkaOptions { BootstrapServers = "127.0.0.1:9092", LibrdkafkaPath = librdkafkaPath };
        return options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage).ToList();
    }
}
