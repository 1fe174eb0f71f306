using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>The settings check the compose and Kubernetes tests rely on: it must refuse what the services would.</summary>
public sealed class ServiceSettingsTests
{
    private static readonly Dictionary<string, string> DistributedCollector = new(StringComparer.Ordinal)
    {
        ["Redis__Configuration"] = "redis:6379,abortConnect=false",
        ["Kafka__BootstrapServers"] = "kafka:9092",
    };

    private static Dictionary<string, string> With(string key, string value) => new(DistributedCollector) { [key] = value };

    [Test]
    public void Finds_the_documented_sections_of_each_service()
    {
        Assert.That(ServiceSettings.OptionsOf(Service.Collector).Select(o => o.Section),
            Is.SupersetOf(new[] { "Collector", "Buffer", "Journeys", "Edge", "Redis", "Kafka", "Forwarder", "Shutdown" }));
        Assert.That(ServiceSettings.OptionsOf(Service.Processor).Select(o => o.Section),
            Is.SupersetOf(new[] { "Processor", "Kafka", "Redis", "Journeys", "Shutdown" }));
    }

    [Test]
    public void Accepts_valid_settings()
    {
        var env = With("Collector__Sites__shop__Domains__0", "shop.example");
        env["Kafka__Properties__security.protocol"] = "SASL_SSL";
        env["Edge__TrustedProxies__0"] = "10.0.0.0/8";
        env["Logging__LogLevel__Default"] = "Warning";
        env["ASPNETCORE_URLS"] = "http://+:8080";
        Assert.That(ServiceSettings.Check(Service.Collector, env, "test").Problems, Is.Empty);
    }

    [TestCase("Kafka__BootstrapServer", "kafka:9092", "BootstrapServer", TestName = "A misspelt key is refused")]
    [TestCase("Kafak__BootstrapServers", "kafka:9092", "Kafak", TestName = "An unknown section is refused")]
    [TestCase("Processor__InstanceId", "p-1", "Processor", TestName = "A processor section on the collector is refused")]
    [TestCase("Redis__Shards", "0", "Redis:Shards", TestName = "An out-of-range value is refused")]
    [TestCase("Redis__Shards", "four", "Redis:Shards", TestName = "A value of the wrong type is refused")]
    [TestCase("Kafka__Compression", "brotli", "Kafka:Compression", TestName = "A value the options reject is refused")]
    [TestCase("Shutdown__DrainSeconds", "0", "DrainSeconds", TestName = "A shared (ServiceDefaults) setting is checked too")]
    [TestCase("Logging__Format", "json", "Logging__Format", TestName = "An unknown logging setting is refused")]
    [TestCase("REDIS_URL", "redis:6379", "REDIS_URL", TestName = "A variable that is not a setting is refused")]
    public void Refuses(string key, string value, string mentioned)
    {
        var problems = ServiceSettings.Check(Service.Collector, With(key, value), "test").Problems;
        Assert.That(problems, Has.Some.Contains(mentioned));
    }

    [Test]
    public void Refuses_a_processor_without_its_required_settings()
    {
        var problems = ServiceSettings.Check(Service.Processor, new Dictionary<string, string>(), "test").Problems;
        Assert.That(problems, Has.Some.Contains("Kafka:BootstrapServers").And.Some.Contains("Redis:Configuration"));
    }

    [Test]
    public void The_touchpoints_topic_has_one_name_in_both_services_and_the_old_processor_key_is_refused_by_name()
    {
        var env = new Dictionary<string, string>
        {
            ["Redis__Configuration"] = "redis:6379",
            ["Kafka__BootstrapServers"] = "kafka:9092",
            ["Kafka__TouchpointsTopic"] = "tt.touchpoints",
        };
        Assert.That(ServiceSettings.Check(Service.Processor, env, "test").Problems, Is.Empty);
        Assert.That(ServiceSettings.Check(Service.Collector, env, "test").Problems, Is.Empty);
        env["Kafka__InputTopic"] = "tt.touchpoints";
        Assert.That(ServiceSettings.Check(Service.Processor, env, "test").Problems, Has.Some.Contains("Kafka:TouchpointsTopic"));
    }
}
