using System.Net;
using System.Text.RegularExpressions;
using TouchpointTracker.Testing;

namespace TouchpointTracker.Collector.Tests;

/// <summary>
/// /metrics of the real collector (embedded mode, Kestrel on a free port) serves Prometheus text through
/// OpenTelemetry's exporter, with the names docs/operations.md and its alerts use.
/// </summary>
public sealed partial class MetricsEndpointTests
{
    /// <summary>Names docs/operations.md documents that an embedded-mode collector exports once it took and refused a beacon.</summary>
    private static readonly (string Name, string Type)[] Documented =
    [
        ("tt_accepted_events_total", "counter"),
        ("tt_rejected_batches_total", "counter"),
        ("tt_rejected_events_total", "counter"),
        ("tt_collect_duration_seconds", "histogram"),
        ("tt_buffer_depth", "gauge"),
        ("tt_buffer_capacity", "gauge"),
        ("tt_forwarded_events_total", "counter"),
        ("tt_stage_transitions_total", "counter"),
    ];

    // A sample line of the text format 0.0.4: name, optional labels (the exporter writes `{}` for none, which the
    // format allows), a value, no timestamp.
    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)?\})? (?:[-+]?[0-9.eE+-]+|NaN|[+-]Inf)$""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    private CollectorHost _host = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await CollectorHost.StartAsync();
        _http = _host.CreateClient();
        using var accepted = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/landing?utm_source=news")));
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        using var refused = await _http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/", site: "no-such-site")));
        Assert.That((int)refused.StatusCode, Is.GreaterThanOrEqualTo(400));
        await WaitForAsync(text => text.Contains("tt_stage_transitions_total{", StringComparison.Ordinal));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Test]
    public async Task Metrics_are_prometheus_text_with_the_documented_names()
    {
        using var response = await _http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        var types = TypeLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(response.Content.Headers.ContentType?.Parameters.Select(p => p.ToString()), Does.Contain("version=0.0.4"));
            foreach (var (name, type) in Documented)
            {
                Assert.That(text, Does.Contain($"# HELP {name} "), $"{name} has help");
                Assert.That(types.GetValueOrDefault(name), Is.EqualTo(type), $"{name} is a {type}");
                var sample = type == "histogram" ? name + "_bucket{" : name;
                Assert.That(text.Split('\n').Any(l => l.StartsWith(sample, StringComparison.Ordinal) && Sample().IsMatch(l)), $"{name} has a sample");
            }
            Assert.That(text, Does.Contain("tt_accepted_events_total{site=\"demo\"} 1\n"), "labels as documented, no scope labels, no timestamp");
            Assert.That(text, Does.Contain("tt_collect_duration_seconds_bucket{le=\"+Inf\"} "));
            Assert.That(text, Does.Match(@"\ntt_collect_duration_seconds_count(\{\})? 2\n"));
            Assert.That(text, Does.Contain("# TYPE http_server_request_duration_seconds histogram"), "ASP.NET Core instrumentation");
            Assert.That(text, Does.Match("# TYPE dotnet_gc_[a-z_]+ "), "runtime instrumentation");
        });
    }

    [Test]
    public async Task Every_line_is_a_help_or_type_comment_or_a_sample()
    {
        var text = await _http.GetStringAsync("/metrics");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var typed = TypeLine().Matches(text).Select(m => m.Groups[1].Value).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(lines.Where(l => !l.StartsWith("# HELP ", StringComparison.Ordinal) && !l.StartsWith("# TYPE ", StringComparison.Ordinal) && !Sample().IsMatch(l)),
                Is.Empty, "lines that are neither comments nor samples");
            Assert.That(typed, Is.Unique, "each metric has one definition");
            Assert.That(text, Does.Not.Contain("otel_scope_"));
            Assert.That(text, Does.Not.Contain("target_info"));
        });
    }

    [Test]
    public async Task A_second_collector_in_the_same_process_exports_only_its_own_counts()
    {
        await using var other = await CollectorHost.StartAsync();
        using var http = other.CreateClient();

        var text = await http.GetStringAsync("/metrics");

        Assert.That(text, Does.Not.Contain("tt_accepted_events_total{"), "the first collector's counts are not the second's");
    }

    [Test]
    public async Task Kestrels_memory_pool_and_the_routers_match_counter_are_exported_only_when_asked_for()
    {
        var text = await _http.GetStringAsync("/metrics");
        await using var detailed = await CollectorHost.StartAsync(new Dictionary<string, string?> { ["Metrics:AspNetCoreDetail"] = "true" });
        using var http = detailed.CreateClient();
        using var accepted = await http.PostAsync("/collect", Beacons.AsText(Beacons.Pageview("https://a.example/")));
        var detail = await http.GetStringAsync("/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Not.Contain("aspnetcore_memory_pool_"), "memory pool, by default");
            Assert.That(text, Does.Not.Contain("aspnetcore_routing_match_attempts"), "routing matches, by default");
            Assert.That(text, Does.Contain("http_server_request_duration_seconds_bucket{"), "the request duration stays");
            Assert.That(text, Does.Contain("http_server_active_requests"), "the active requests stay");
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(detail, Does.Contain("aspnetcore_routing_match_attempts_total{"), "routing matches, when asked for");
            Assert.That(detail, Does.Contain("aspnetcore_memory_pool_"), "memory pool, when asked for");
        });
    }

    private async Task WaitForAsync(Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string text;
        do
        {
            text = await _http.GetStringAsync("/metrics");
            if (condition(text))
            {
                return;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail("metrics did not show the beacon being staged:\n" + text);
    }
}
