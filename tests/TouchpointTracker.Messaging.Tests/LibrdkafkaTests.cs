using System.Runtime.InteropServices;
using TouchpointTracker.Messaging;

namespace TouchpointTracker.Messaging.Tests;

/// <summary>
/// Which librdkafka the shared loader (collector/TouchpointTracker.Messaging/Librdkafka.cs) picks, and why it
/// passes a path over. No broker needed. The loader pins nothing off Linux. How the processor refuses a
/// Kafka:LibrdkafkaPath that cannot serve: tests/TouchpointTracker.Processor.Tests/Configuration.
/// </summary>
public sealed class LibrdkafkaTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("tt-librdkafka-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>A library every .NET process on Linux has, which is not librdkafka.</summary>
    private static string NotLibrdkafka => Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");

    [Test, Platform(Include = "Linux")]
    public void Confluent_Kafka_runs_on_a_bundled_build_with_the_required_export()
    {
        var path = Librdkafka.LoadedPath; // pinned by NativeKafkaSetup
        Assert.That(path, Is.Not.Null, $"nothing pinned: {Librdkafka.Current}");
        Assert.Multiple(() =>
        {
            Assert.That(path, Does.StartWith(Path.Combine(AppContext.BaseDirectory, "runtimes")), Librdkafka.Current!.ToString());
            Assert.That(Exports(path!, Librdkafka.RequiredExport), Is.True);
            Assert.That(Confluent.Kafka.Library.Version, Is.GreaterThanOrEqualTo(0x02010000), $"Confluent.Kafka bound librdkafka {Confluent.Kafka.Library.VersionString}");
        });
    }

    [Test, Platform(Include = "Linux")]
    public void An_explicit_path_that_loads_is_taken_first()
    {
        var bundled = Librdkafka.Inspect(null).Path;
        Assert.That(bundled, Is.Not.Null);
        var custom = Path.Combine(_dir, "librdkafka.so.1");
        File.CreateSymbolicLink(custom, bundled!); // the same file: not a second copy of the library in the process

        var choice = Librdkafka.Inspect(custom);

        Assert.Multiple(() =>
        {
            Assert.That(choice.Path, Is.EqualTo(custom));
            Assert.That(choice.PassedOver, Is.Empty);
        });
    }

    [Test, Platform(Include = "Linux")]
    public void A_missing_explicit_file_is_passed_over_and_reported()
    {
        var missing = Path.Combine(_dir, "librdkafka.so");

        var choice = Librdkafka.Inspect(missing);

        Assert.That(choice.PassedOver, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(choice.PassedOver[0], Does.StartWith(missing).And.Contain("no such file"));
            Assert.That(choice.Path, Is.Not.Null.And.Not.EqualTo(missing), choice.ToString());
            Assert.That(Exports(choice.Path!, Librdkafka.RequiredExport), Is.True);
            Assert.That(choice.ToString(), Does.StartWith(choice.Path!).And.Contain(missing));
        });
    }

    [Test, Platform(Include = "Linux")]
    public void A_file_that_does_not_load_or_lacks_the_export_is_passed_over_with_the_reason()
    {
        var text = Path.Combine(_dir, "librdkafka.so");
        File.WriteAllText(text, "not a shared library");

        var notLoading = Librdkafka.Inspect(text);
        var tooOld = Librdkafka.Inspect(NotLibrdkafka);

        Assert.Multiple(() =>
        {
            Assert.That(notLoading.PassedOver[0], Does.StartWith(text).And.Contain("does not load"));
            Assert.That(notLoading.Path, Is.Not.Null.And.Not.EqualTo(text));
            Assert.That(tooOld.PassedOver[0], Does.StartWith(NotLibrdkafka).And.Contain("does not export " + Librdkafka.RequiredExport));
            Assert.That(tooOld.Path, Is.Not.Null.And.Not.EqualTo(NotLibrdkafka));
        });
    }

    private static bool Exports(string path, string symbol)
    {
        var handle = NativeLibrary.Load(path);
        try
        {
            return NativeLibrary.TryGetExport(handle, symbol, out _);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }
}
