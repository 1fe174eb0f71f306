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
            Is.SupersetOf(new[] { "Processor", "Kafka", "Redis", "Journeys", "Shutdown", "Analytics", "AnalyticsSink" }));
        Assert.That(ServiceSettings.OptionsOf(Service.Processor, "analytics").Select(o => o.Section),
            Is.EquivalentTo(new[] { "Analytics", "AnalyticsSink", "Identity", "Kafka", "Processor", "Shutdown" }), "what AddProcessor binds in the analytics role (Identity: the unmatched events it lists)");
        Assert.That(ServiceSettings.OptionsOf(Service.Processor, "staging").Select(o => o.Section),
            Is.EquivalentTo(new[] { "Identity", "Journeys", "Kafka", "Processor", "Redis", "Shutdown" }), "what AddProcessor binds in the staging role (Identity: the identity resolver)");
        Assert.That(ServiceSettings.OptionsOf(Service.Processor, "webhooks").Select(o => o.Section),
            Is.EquivalentTo(new[] { "Kafka", "Processor", "Shutdown", "Webhooks" }), "what AddProcessor binds in the webhooks role");
    }

    private static Dictionary<string, string> AnalyticsProcessor(params (string Key, string Value)[] more)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Processor__Role"] = "analytics",
            ["Kafka__BootstrapServers"] = "kafka:9092",
            ["Analytics__Path"] = "/var/lib/tt/analytics.duckdb",
            ["Analytics__ApiKeys__shop__0"] = "0123456789abcdef0123",
        };
        foreach (var (k, v) in more)
        {
            env[k] = v;
        }
        return env;
    }

    [Test]
    public void Accepts_an_analytics_processor_without_redis()
    {
        var settings = ServiceSettings.Check(Service.Processor, AnalyticsProcessor(("AnalyticsSink__GroupId", "tt-analytics"), ("Analytics__Sites__shop__TimeZone", "Europe/Paris")), "test");
        Assert.That(settings.Problems, Is.Empty);
        Assert.That(settings.IsAnalytics, Is.True);
    }

    [TestCase("Analytics__ApiKeys__shop__0", "short", "Analytics:ApiKeys:shop:0", TestName = "An API key under 16 characters is refused (AnalyticsOptionsValidator)")]
    [TestCase("Analytics__Sites__shop__TimeZone", "Mars/Olympus", "Mars/Olympus", TestName = "An unknown time zone is refused")]
    [TestCase("Analytics__RetentionDays", "0", "Analytics:RetentionDays", TestName = "An out-of-range retention is refused")]
    [TestCase("Analytics__Pth", "/x", "Pth", TestName = "A misspelt analytics key is refused")]
    [TestCase("AnalyticsSink__GroupId", "a b", "AnalyticsSink:GroupId", TestName = "An invalid sink group id is refused")]
    [TestCase("Redis__Configuration", "redis:6379", "Redis", TestName = "A Redis setting on the analytics role is refused: it would be ignored")]
    [TestCase("Journeys__InactivityWindowMinutes", "30", "Journeys", TestName = "A Journeys setting on the analytics role is refused: it would be ignored")]
    public void Refuses_on_the_analytics_role(string key, string value, string mentioned)
    {
        var problems = ServiceSettings.Check(Service.Processor, AnalyticsProcessor((key, value)), "test").Problems;
        Assert.That(problems, Has.Some.Contains(mentioned));
    }

    [Test]
    public void Refuses_analytics_settings_on_the_staging_role()
    {
        var env = new Dictionary<string, string>
        {
            ["Redis__Configuration"] = "redis:6379",
            ["Kafka__BootstrapServers"] = "kafka:9092",
            ["Analytics__Path"] = "/var/lib/tt/analytics.duckdb",
        };
        Assert.That(ServiceSettings.Check(Service.Processor, env, "test").Problems, Has.Some.Contains("Analytics__Path"));
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
