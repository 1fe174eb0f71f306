using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>infra/nginx/nginx.conf and its test variant, read as nginx reads them.</summary>
public sealed class NginxTests
{
    private const string NginxBinary = "/usr/sbin/nginx";
    private static readonly CollectorOptions Paths = new();

    /// <summary>The test template rendered the way the scale-out test does (see its header).</summary>
    public static string RenderTemplate(string prefix, int listenPort, IEnumerable<int> upstreamPorts, string serverParameters = "max_fails=1 fail_timeout=5s")
    {
        var template = Repo.Read(Deployment.NginxTemplate);
        var upstreams = string.Join(" ", upstreamPorts.Select(p => $"server 127.0.0.1:{p} {serverParameters};"));
        var rendered = template
            .Replace("${PREFIX}", prefix, StringComparison.Ordinal)
            .Replace("${LISTEN_PORT}", listenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("${UPSTREAMS}", upstreams, StringComparison.Ordinal);
        Assert.That(rendered, Does.Not.Contain("${"), "the template uses only ${PREFIX}, ${LISTEN_PORT} and ${UPSTREAMS}");
        return rendered;
    }

    private static IEnumerable<(string Name, NginxDirective Http)> Configs()
    {
        yield return ("nginx.conf", NginxConf.Parse(Repo.Read(Deployment.NginxConf)).Only("http"));
        yield return ("nginx.test.conf.template", NginxConf.Parse(RenderTemplate("/tmp/tt", 18080, [18081, 18082])).Only("http"));
    }

    private static IEnumerable<TestCaseData> Both() => Configs().Select(c => new TestCaseData(c.Http).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(Both))]
    public void Upstream_holds_the_collectors_with_passive_health_and_keepalive(NginxDirective http)
    {
        var upstream = http.Only("upstream");
        var servers = upstream.Children("server").ToList();
        Assert.That(servers, Has.Count.GreaterThanOrEqualTo(2), "two collectors at least");
        foreach (var s in servers)
        {
            Assert.That(s.Args.Skip(1), Has.Some.StartsWith("max_fails=").And.Some.StartsWith("fail_timeout="), $"{s}: passive health check parameters");
            Assert.That(s.Args.Skip(1), Has.None.EqualTo("backup").And.None.EqualTo("down"));
        }
        Assert.That(upstream.Child("keepalive")?.Args.Single(), Is.Not.Null.And.Not.EqualTo("0"), "idle keep-alive connections to the collectors");
        Assert.That(upstream.Child("zone"), Is.Not.Null, "shared passive-health state across workers");

        var proxyPasses = http.Descendants().Where(d => d.Name == "proxy_pass").ToList();
        Assert.That(proxyPasses, Is.Not.Empty);
        Assert.That(proxyPasses.Select(p => p.Args.Single()), Is.All.EqualTo("http://" + upstream.Args.Single()), "every proxied location goes to the collectors' upstream");
    }

    [TestCaseSource(nameof(Both))]
    public void Every_proxied_location_forwards_client_headers_over_keepalive_connections(NginxDirective http)
    {
        foreach (var location in ProxiedLocations(http))
        {
            var headers = location.Effective("proxy_set_header").ToDictionary(h => h.Args[0], h => h.Args.Count > 1 ? h.Args[1] : "", StringComparer.OrdinalIgnoreCase);
            Assert.Multiple(() =>
            {
                Assert.That(headers.GetValueOrDefault("X-Forwarded-For"), Is.EqualTo("$proxy_add_x_forwarded_for").Or.EqualTo("$remote_addr"), $"{location}: X-Forwarded-For (the client IP: geo and rate limit)");
                Assert.That(headers.GetValueOrDefault("X-Forwarded-Proto"), Is.EqualTo("$scheme"), $"{location}: X-Forwarded-Proto (Secure cookies)");
                Assert.That(headers.GetValueOrDefault("Host"), Is.EqualTo("$host"), $"{location}: Host");
                Assert.That(headers, Does.ContainKey("Connection").WithValue(""), $"{location}: an empty Connection header, or upstream keep-alive does not work");
                Assert.That(location.Effective("proxy_http_version").SingleOrDefault()?.Args.Single(), Is.EqualTo("1.1"), $"{location}: HTTP/1.1 to the upstream (keep-alive)");
            });
        }
    }

    [TestCaseSource(nameof(Both))]
    public void Collect_is_retried_on_the_next_collector_and_the_reason_is_written_down(NginxDirective http)
    {
        var server = http.Only("server");
        var collect = NginxConf.SelectLocation(server, Paths.CollectPath);
        Assert.That(collect, Is.Not.Null);
        Assert.That(collect!.Child("proxy_pass"), Is.Not.Null, $"{Paths.CollectPath} is proxied");
        var retry = collect.Effective("proxy_next_upstream").Single().Args;
        Assert.That(retry, Is.SupersetOf(new[] { "error", "timeout", "http_502", "http_503" }));
        Assert.That(retry, Does.Not.Contain("off"));
        if (retry.Contains("non_idempotent"))
        {
            // POST retries are only safe because events carry ids and are deduplicated downstream: say so.
            var conf = Repo.Read(Deployment.NginxConf);
            var nginxCollect = NginxConf.SelectLocation(NginxConf.Parse(conf).Only("http").Only("server"), Paths.CollectPath)!;
            var why = string.Join(' ', nginxCollect.Comments);
            Assert.That(why, Does.Contain("id").And.Contain("duplicate").IgnoreCase, "nginx.conf explains above the location why retrying POST /collect is safe");
        }
        var tries = collect.Effective("proxy_next_upstream_tries").SingleOrDefault()?.Args.Single();
        Assert.That(tries, Is.Not.Null.And.Not.EqualTo("0"), "bound the retries (0 means unlimited)");
        Assert.That(collect.Effective("proxy_request_buffering").SingleOrDefault()?.Args.Single() ?? "on", Is.EqualTo("on"), "an unbuffered body cannot be sent to a second collector");
    }

    [TestCaseSource(nameof(Both))]
    public void Body_limit_is_the_collectors_limit(NginxDirective http)
    {
        var server = http.Only("server");
        var collect = NginxConf.SelectLocation(server, Paths.CollectPath)!;
        var limit = collect.Effective("client_max_body_size").Single().Args.Single();
        Assert.That(NginxConf.Size(limit), Is.EqualTo(Paths.MaxBodyBytes), "client_max_body_size = Collector:MaxBodyBytes");
        var buffer = collect.Effective("client_body_buffer_size").SingleOrDefault()?.Args.Single();
        Assert.That(buffer, Is.Not.Null);
        Assert.That(NginxConf.Size(buffer!), Is.GreaterThanOrEqualTo(Paths.MaxBodyBytes), "beacons stay in memory");
    }

    [TestCaseSource(nameof(Both))]
    public void Offline_events_take_their_own_body_limit_and_are_retried(NginxDirective http)
    {
        var server = http.Only("server");
        var offline = NginxConf.SelectLocation(server, Paths.OfflineEventsPath);
        Assert.That(offline, Is.Not.Null);
        Assert.That(offline!.Args[0], Is.Not.EqualTo("/"), "a location of its own: the beacons' 64k limit stays on every other path");
        Assert.That(offline.Child("proxy_pass"), Is.Not.Null);
        var limit = NginxConf.Size(offline.Effective("client_max_body_size").Single().Args.Single());
        Assert.That(limit, Is.EqualTo(new TouchpointTracker.Collector.Offline.OfflineOptions().MaxBodyBytes), "client_max_body_size = Offline:MaxBodyBytes");
        Assert.That(NginxConf.Size(offline.Effective("client_body_buffer_size").Single().Args.Single()), Is.GreaterThanOrEqualTo(limit), "kept in memory, so a retry can resend it");
        Assert.That(offline.Effective("proxy_next_upstream").Single().Args, Does.Contain("non_idempotent"), "a 503 (full buffer) or a dead collector is retried on the next");
        Assert.That(server.Effective("client_max_body_size").Single().Args.Single(), Is.EqualTo("64k"), "the server-wide limit stays the beacons'");
    }

    [TestCaseSource(nameof(Both))]
    public void Tag_is_proxied_with_its_caching_headers_untouched(NginxDirective http)
    {
        var server = http.Only("server");
        var tagPath = Paths.TagPath;
        var fullPath = tagPath[..^".js".Length] + ".full.js";
        var tag = NginxConf.SelectLocation(server, tagPath);
        Assert.That(tag, Is.Not.Null);
        Assert.That(NginxConf.SelectLocation(server, fullPath), Is.SameAs(tag), "tt.js and tt.full.js share the location");
        Assert.That(tag!.Args[0], Is.Not.EqualTo("/"), "a location of its own, not the catch-all");
        Assert.That(tag.Child("proxy_pass"), Is.Not.Null);
        foreach (var overriding in new[] { "expires", "add_header", "proxy_hide_header", "proxy_ignore_headers", "etag" })
        {
            Assert.That(tag.Effective(overriding), Is.Empty, $"{overriding} would change the collector's ETag/Cache-Control");
        }
        Assert.That(tag.Effective("gzip").SingleOrDefault()?.Args.Single() ?? "off", Is.EqualTo("off"), "the collector compresses the tag itself");
    }

    [TestCaseSource(nameof(Both))]
    public void Metrics_and_readiness_are_not_exposed_publicly(NginxDirective http)
    {
        var server = http.Only("server");
        foreach (var path in new[] { Paths.MetricsPath, Paths.ReadinessPath })
        {
            var location = NginxConf.SelectLocation(server, path);
            Assert.That(location, Is.Not.Null);
            Assert.That(location!.Child("proxy_pass"), Is.Null, $"{path} is for Prometheus and the orchestrator");
            Assert.That(location.Child("return")?.Args[0], Is.EqualTo("404").Or.EqualTo("403"));
        }
        var liveness = NginxConf.SelectLocation(server, "/anything-else");
        Assert.That(liveness?.Child("proxy_pass"), Is.Not.Null, "other paths (moved Collector:*Path, GET /collect?d=) reach the collectors");
    }

    [Test]
    public void Template_serves_exactly_what_nginx_conf_serves()
    {
        var configs = Configs().ToDictionary(c => c.Name, c => c.Http);
        string Shape(NginxDirective http)
        {
            var server = http.Only("server");
            var upstream = http.Only("upstream");
            var lines = server.Descendants().Where(d => d.Name != "listen").Select(d => $"{Path(d)} {string.Join(' ', d.Args)}")
                .Concat(upstream.Descendants().Where(d => d.Name != "server").Select(d => $"upstream/{d.Name} {string.Join(' ', d.Args)}"))
                .Concat(http.Children("gzip").Concat(http.Children("log_format")).Select(d => $"http/{d.Name} {string.Join(' ', d.Args)}"));
            return string.Join('\n', lines);
        }
        static string Path(NginxDirective d)
        {
            var parts = new List<string>();
            for (var x = d; x is not null && x.Name != "server"; x = x.Parent)
            {
                parts.Insert(0, x.Name == "location" ? $"location[{string.Join(' ', x.Args)}]" : x.Name);
            }
            return string.Join('/', parts);
        }
        Assert.That(Shape(configs["nginx.test.conf.template"]), Is.EqualTo(Shape(configs["nginx.conf"])), "keep the two server blocks identical");
    }

    [Test]
    public void Template_keeps_every_writable_path_under_the_prefix()
    {
        var root = NginxConf.Parse(RenderTemplate("/prefix-under-test", 18080, [18081, 18082]));
        var http = root.Only("http");
        var server = http.Only("server");
        Assert.That(server.Only("listen").Args.Single(), Is.EqualTo("127.0.0.1:18080"), "loopback only, on the rendered port");
        var paths = new[] { root.Only("pid"), root.Only("error_log") }
            .Concat(new[] { "access_log", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path" }.Select(http.Only))
            .ToList();
        foreach (var d in paths)
        {
            Assert.That(d.Args[0], Does.StartWith("/prefix-under-test/"), $"{d.Name} must be under ${{PREFIX}} to run unprivileged");
        }
        Assert.That(root.Child("daemon"), Is.Null, "the test passes -g 'daemon off;'; a daemon directive here would be a duplicate");
        Assert.That(root.Child("user"), Is.Null, "unprivileged nginx cannot switch users");
        Assert.That(server.Descendants().Where(d => d.Name is "access_log" && d.Args[0] != "off").Select(d => d.Args[0]), Is.All.StartsWith("/prefix-under-test/"));
    }

    [Test]
    public void Rendered_template_passes_nginx_t()
    {
        RequireNginx();
        var prefix = Directory.CreateTempSubdirectory("tt-nginx-t-").FullName;
        try
        {
            var conf = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(conf, RenderTemplate(prefix, Processes.FreePort(), [Processes.FreePort(), Processes.FreePort()]));
            var result = Processes.Run(NginxBinary, ["-t", "-p", prefix, "-c", conf, "-g", "daemon off;"]);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
            Assert.That(result.StdErr, Does.Contain("test is successful"));
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Test]
    public void Production_config_passes_nginx_t_with_local_upstreams()
    {
        RequireNginx();
        var prefix = Directory.CreateTempSubdirectory("tt-nginx-prod-t-").FullName;
        try
        {
            // The compose host names do not resolve here: point the upstream servers at loopback, and keep
            // nginx's temp and pid files under the prefix; everything else is tested as shipped.
            var text = System.Text.RegularExpressions.Regex.Replace(Repo.Read(Deployment.NginxConf), @"server\s+[A-Za-z0-9_.-]+:(\d+)", "server 127.0.0.1:$1");
            var temps = string.Join(' ', new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }.Select(t => $"{t}_temp_path {prefix}/{t};"));
            text = text.Replace("http {", "http {\n" + temps, StringComparison.Ordinal);
            Assert.That(text, Does.Contain(temps));
            var conf = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(conf, text);
            var result = Processes.Run(NginxBinary, ["-t", "-p", prefix, "-c", conf, "-g", $"pid {prefix}/nginx.pid;"]);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Test]
    public void Nginx_t_rejects_a_broken_render()
    {
        // The nginx -t tests above can fail: a template rendered without upstreams is refused.
        RequireNginx();
        var prefix = Directory.CreateTempSubdirectory("tt-nginx-bad-").FullName;
        try
        {
            var conf = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(conf, RenderTemplate(prefix, Processes.FreePort(), []));
            var result = Processes.Run(NginxBinary, ["-t", "-p", prefix, "-c", conf, "-g", "daemon off;"]);
            Assert.That(result.ExitCode, Is.Not.EqualTo(0), result.ToString());
            Assert.That(result.StdErr, Does.Contain("no servers are inside upstream"));
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    internal static void RequireNginx()
    {
        if (!File.Exists(NginxBinary))
        {
            Assert.Ignore($"{NginxBinary} is not installed (apt-get install nginx; tests/run-all.sh does)");
        }
    }

    private static IEnumerable<NginxDirective> ProxiedLocations(NginxDirective http)
    {
        var locations = http.Only("server").Children("location").Where(l => l.Child("proxy_pass") is not null).ToList();
        Assert.That(locations, Is.Not.Empty);
        return locations;
    }
}
