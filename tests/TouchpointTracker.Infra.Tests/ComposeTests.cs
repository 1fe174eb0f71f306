using TouchpointTracker.Messaging;
using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.Infra.Tests.Support;
using TouchpointTracker.ServiceDefaults;
using CollectorOptions = TouchpointTracker.Collector.Configuration.CollectorOptions;
using KafkaOptions = TouchpointTracker.Messaging.KafkaOptions;
using ProcessorOptions = TouchpointTracker.Processor.Configuration.ProcessorOptions;

namespace TouchpointTracker.Infra.Tests;

/// <summary>infra/docker-compose.yml: the services, their settings and how they wait for each other.</summary>
public sealed class ComposeTests
{
    private YNode _compose = null!;
    private List<(string Name, YNode Node, Service? Runs)> _services = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _compose = YNode.Load(Deployment.ComposeFile);
        _services = Deployment.ComposeServices(_compose).Select(e => (e.Key, e.Value, Deployment.ServiceOf(e.Value))).ToList();
    }

    private IEnumerable<(string Name, YNode Node)> Running(Service s) => _services.Where(x => x.Runs == s).Select(x => (x.Name, x.Node));

    private static bool IsAnalytics(YNode node, Service? runs) =>
        runs == Service.Processor && ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), "").IsAnalytics;

    private static bool IsWebhooks(YNode node, Service? runs) =>
        runs == Service.Processor && ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), "").IsWebhooks;

    /// <summary>Whether a service uses Redis: the collectors and the processors in the staging role.</summary>
    private static bool UsesRedis(YNode node, Service? runs) =>
        runs == Service.Collector || (runs == Service.Processor && ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), "").IsStaging);

    /// <summary>The processors in the staging role (the default).</summary>
    private IEnumerable<(string Name, YNode Node)> Staging() => Running(Service.Processor).Where(p => UsesRedis(p.Node, Service.Processor));

    /// <summary>The processors in the webhooks role.</summary>
    private IEnumerable<(string Name, YNode Node)> WebhooksServices() => Running(Service.Processor).Where(p => IsWebhooks(p.Node, Service.Processor));

    /// <summary>The processors in the analytics role.</summary>
    private IEnumerable<(string Name, YNode Node)> AnalyticsServices() => Running(Service.Processor).Where(p => IsAnalytics(p.Node, Service.Processor));

    private (string Name, YNode Node) ByImage(string image)
    {
        var found = _services.Where(s => (s.Node["image"]?.Scalar ?? "").StartsWith(image + ":", StringComparison.Ordinal)).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"one service runs the image {image}");
        return (found[0].Name, found[0].Node);
    }

    [Test]
    public void Runs_kafka_redis_nginx_two_collectors_and_the_processor()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Running(Service.Collector).Count(), Is.GreaterThanOrEqualTo(2), "at least two collectors behind the load balancer");
            Assert.That(Running(Service.Processor).Count(), Is.GreaterThanOrEqualTo(1));
            ByImage("apache/kafka");
            ByImage("redis");
            ByImage("nginx");
        });
    }

    [Test]
    public void Builds_our_images_from_the_repository_root_with_our_dockerfiles()
    {
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            var build = node.Get("build");
            var context = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Repo.PathOf(Deployment.ComposeFile))!, build.Get("context").Str));
            Assert.That(context.TrimEnd(Path.DirectorySeparatorChar), Is.EqualTo(Repo.Root.TrimEnd(Path.DirectorySeparatorChar)), $"{name}: the build context is the repository root (the Dockerfiles COPY from there)");
            Assert.That(build.Get("dockerfile").Str, Is.EqualTo(Deployment.DockerfileOf(runs!.Value)));
            Assert.That(File.Exists(Path.Combine(context, build.Get("dockerfile").Str)), Is.True);
        }
    }

    [Test]
    public void Third_party_images_are_pinned()
    {
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is null))
        {
            var image = node.Get("image").Str;
            Assert.That(image, Does.Contain(":"), $"{name}: pin a version");
            Assert.That(image, Does.Not.EndWith(":latest"), $"{name}: pin a version");
        }
    }

    [Test]
    public void Every_environment_variable_is_a_valid_setting_of_its_service()
    {
        var checkedServices = 0;
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            var env = Deployment.ComposeEnvironment(node);
            Assert.That(env, Is.Not.Empty, $"{name} has an environment");
            var settings = ServiceSettings.Check(runs!.Value, env, $"{Deployment.ComposeFile} {name}");
            Assert.That(settings.Problems, Is.Empty);
            checkedServices++;
        }
        Assert.That(checkedServices, Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public void Collectors_believe_forwarded_headers_from_nginx_alone_and_one_hop()
    {
        var (_, nginx) = ByImage("nginx");
        var nginxAddress = System.Net.IPAddress.Parse(nginx.At("networks", "default", "ipv4_address")?.Str ?? throw new AssertionException("nginx needs a fixed ipv4_address"));
        foreach (var (name, node) in Running(Service.Collector))
        {
            var env = Deployment.ComposeEnvironment(node);
            var trusted = env.Where(kv => kv.Key.StartsWith("Edge__TrustedProxies__", StringComparison.Ordinal)).Select(kv => System.Net.IPNetwork.Parse(kv.Value)).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(trusted, Is.Not.Empty, $"{name}: the default (loopback only) would see every client as nginx");
                Assert.That(trusted.All(n => n.Contains(nginxAddress) && n.PrefixLength == 32), Is.True, $"{name}: nginx's address only, not the whole network");
                Assert.That(env.GetValueOrDefault("Edge__ForwardLimit"), Is.EqualTo("1"), name);
            });
        }
    }

    [Test]
    public void Collectors_run_the_distributed_mode()
    {
        foreach (var (name, node) in Running(Service.Collector))
        {
            var settings = ServiceSettings.Check(Service.Collector, Deployment.ComposeEnvironment(node), name);
            Assert.That(CollectorServiceExtensions.DetectMode(settings.Configuration), Is.EqualTo(Collector.Configuration.CollectorMode.Distributed),
                $"{name} needs both Redis__Configuration and Kafka__BootstrapServers, or it runs the embedded mode");
        }
    }

    [Test]
    public void Collectors_and_processors_meet_on_the_same_topic_kafka_and_redis()
    {
        var collectors = Running(Service.Collector).Select(c => ServiceSettings.Check(Service.Collector, Deployment.ComposeEnvironment(c.Node), c.Name)).ToList();
        var processors = Staging().Select(p => ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(p.Node), p.Name)).ToList();
        Assert.That(processors, Is.Not.Empty);
        var topic = collectors.Select(c => c.Bind<KafkaOptions>().TouchpointsTopic).Distinct().Single();
        var brokers = collectors.Select(c => c.Bind<KafkaOptions>().BootstrapServers).Distinct().Single();
        foreach (var p in processors)
        {
            Assert.That(p.Bind<KafkaOptions>().TouchpointsTopic, Is.EqualTo(topic), "the processor consumes what the collectors forward");
            Assert.That(p.Bind<KafkaOptions>().BootstrapServers, Is.EqualTo(brokers));
        }
        var instanceIds = processors.Select(p => p.Bind<ProcessorOptions>().InstanceId).ToList();
        Assert.That(instanceIds, Is.Unique, "each processor needs its own Processor__InstanceId (its Kafka transactional id)");
        Assert.That(processors.Count, Is.LessThanOrEqualTo(collectors[0].Bind<KafkaOptions>().TouchpointsPartitions));
    }

    [Test]
    public void Redis_persists_with_aof_every_second_and_never_evicts()
    {
        var redis = ByImage("redis").Node;
        var command = redis.Get("command");
        var words = command.IsSequence ? command.Strings.ToList() : Dockerfile.Words(command.Str).ToList();
        string? ValueOf(string flag) => words.IndexOf(flag) is var i and >= 0 && i + 1 < words.Count ? words[i + 1] : null;
        Assert.Multiple(() =>
        {
            Assert.That(ValueOf("--appendonly"), Is.EqualTo("yes"));
            Assert.That(ValueOf("--appendfsync"), Is.EqualTo("everysec"));
            Assert.That(ValueOf("--maxmemory-policy"), Is.EqualTo("noeviction"), "an evicting Redis would drop buffered events silently");
        });
        Assert.That(redis["volumes"]?.Strings ?? [], Has.Some.EndsWith(":/data"), "the AOF lives on a volume");
    }

    [Test]
    public void Kafka_runs_kraft_with_listeners_the_services_can_reach()
    {
        var kafka = ByImage("apache/kafka");
        var env = Deployment.ComposeEnvironment(kafka.Node);
        string Get(string key)
        {
            Assert.That(env, Does.ContainKey(key));
            return env[key];
        }
        static Dictionary<string, string> Listeners(string value) =>
            value.Split(',').Select(l => l.Split("://")).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

        Assert.That(Get("KAFKA_PROCESS_ROLES").Split(','), Is.EquivalentTo(new[] { "broker", "controller" }), "single node in KRaft mode: broker and controller");
        Assert.That(env.Keys, Has.None.StartsWith("KAFKA_ZOOKEEPER"));
        Assert.That(Get("CLUSTER_ID"), Is.Not.Empty);
        var nodeId = Get("KAFKA_NODE_ID");
        var controllerName = Get("KAFKA_CONTROLLER_LISTENER_NAMES");
        var listeners = Listeners(Get("KAFKA_LISTENERS"));
        var advertised = Listeners(Get("KAFKA_ADVERTISED_LISTENERS"));
        var protocols = Listeners(Get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").Replace(":", "://", StringComparison.Ordinal));
        var interBroker = Get("KAFKA_INTER_BROKER_LISTENER_NAME");
        Assert.Multiple(() =>
        {
            Assert.That(listeners.Keys, Is.SubsetOf(protocols.Keys), "every listener has a security protocol");
            Assert.That(listeners, Does.ContainKey(controllerName));
            Assert.That(advertised.Keys, Is.SubsetOf(listeners.Keys), "only existing listeners are advertised");
            Assert.That(advertised, Does.Not.ContainKey(controllerName), "the controller listener is never advertised to clients");
            Assert.That(advertised, Does.ContainKey(interBroker));
        });

        var voters = Get("KAFKA_CONTROLLER_QUORUM_VOTERS").Split(',');
        Assert.That(voters, Has.Length.EqualTo(1));
        var (voterId, voterAddress) = (voters[0].Split('@')[0], voters[0].Split('@')[1]);
        Assert.That(voterId, Is.EqualTo(nodeId));
        Assert.That(voterAddress, Does.EndWith(":" + listeners[controllerName].Split(':')[^1]), "the voter is this node's controller listener");

        // The services bootstrap through an advertised address on the compose network: the broker's
        // hostname (or service name) and the listener's port.
        var hostnames = new[] { kafka.Name, kafka.Node["hostname"]?.Scalar }.Where(h => h is not null).ToList();
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            var bootstrap = Deployment.ComposeEnvironment(node)["Kafka__BootstrapServers"];
            foreach (var server in bootstrap.Split(','))
            {
                Assert.That(advertised.Values, Does.Contain(server), $"{name}: {server} must be an advertised listener");
                Assert.That(hostnames, Does.Contain(server.Split(':')[0]), $"{name}: {server} must name the Kafka service on the compose network");
            }
        }
    }

    [Test]
    public void Kafka_internal_topics_fit_a_single_broker_and_topics_are_not_auto_created()
    {
        var env = Deployment.ComposeEnvironment(ByImage("apache/kafka").Node);
        int Get(string key) => env.TryGetValue(key, out var v) ? int.Parse(v) : int.MaxValue;
        var processors = Running(Service.Processor).Select(p => ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(p.Node), p.Name)).ToList();
        Assert.Multiple(() =>
        {
            // Defaults are 3: on one broker the consumer offsets topic (and thus every consumer group) never comes up.
            Assert.That(Get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), Is.EqualTo(1));
            if (processors.Any(p => p.Bind<KafkaOptions>().Transactional))
            {
                Assert.That(Get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"), Is.EqualTo(1), "the processor is transactional");
                Assert.That(Get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"), Is.EqualTo(1), "the processor is transactional");
            }
            Assert.That(env.GetValueOrDefault("KAFKA_AUTO_CREATE_TOPICS_ENABLE"), Is.EqualTo("false"));
        });
        var collectors = Running(Service.Collector).Select(c => ServiceSettings.Check(Service.Collector, Deployment.ComposeEnvironment(c.Node), c.Name)).ToList();
        Assert.That(collectors.All(c => c.Bind<KafkaOptions>().CreateTopics), Is.True, "with auto-creation off, the forwarder creates tt.touchpoints");
        Assert.That(processors.All(p => p.Bind<KafkaOptions>().CreateTopics), Is.True, "with auto-creation off, the processor creates its outputs");
        Assert.That(ByImage("apache/kafka").Node["volumes"]?.Strings ?? [], Has.Some.EndsWith(":" + env["KAFKA_LOG_DIRS"]), "the log directory is a volume");
    }

    [Test]
    public void Services_wait_for_healthy_dependencies()
    {
        var kafka = ByImage("apache/kafka").Name;
        var redis = ByImage("redis").Name;
        var nginx = ByImage("nginx");
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            // The analytics and webhooks roles use no Redis (ServiceSettings refuses Redis settings on them).
            if (UsesRedis(node, runs))
            {
                Assert.That(Condition(node, redis), Is.EqualTo("service_healthy"), $"{name} waits for Redis");
            }
            Assert.That(Condition(node, kafka), Is.EqualTo("service_healthy"), $"{name} waits for Kafka");
        }
        foreach (var (name, _) in Running(Service.Collector))
        {
            Assert.That(Condition(nginx.Node, name), Is.EqualTo("service_healthy"), $"nginx waits for {name}");
        }
        // A service_healthy dependency needs a health check: in compose, or the image's HEALTHCHECK.
        foreach (var (name, node, _) in _services)
        {
            foreach (var (dependency, how) in node["depends_on"]?.Entries ?? [])
            {
                if (how["condition"]?.Scalar != "service_healthy")
                {
                    continue;
                }
                var target = _services.SingleOrDefault(s => s.Name == dependency);
                Assert.That(target.Node, Is.Not.Null, $"{name} depends on unknown service {dependency}");
                var hasCheck = target.Node["healthcheck"]?["test"] is not null
                    || (target.Runs is { } s && Dockerfile.Load(Deployment.DockerfileOf(s)).Final.All("HEALTHCHECK").Any());
                Assert.That(hasCheck, Is.True, $"{dependency} has no health check, so {name} would wait forever");
            }
        }
    }

    [Test]
    public void Service_health_checks_ask_readiness_on_the_configured_path()
    {
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            var settings = ServiceSettings.Check(runs!.Value, Deployment.ComposeEnvironment(node), name);
            var readiness = runs == Service.Collector ? settings.Bind<CollectorOptions>().ReadinessPath : settings.Bind<ProcessorOptions>().ReadinessPath;
            var test = node.At("healthcheck", "test")?.Strings ?? [];
            Assert.That(test, Is.EqualTo(new[] { "CMD", "tt-healthcheck", readiness }), $"{name}: readiness, through the script the image installs");
        }
    }

    [Test]
    public void Services_get_time_to_drain_before_docker_kills_them()
    {
        foreach (var (name, node, runs) in _services.Where(s => s.Runs is not null))
        {
            var shutdown = ServiceSettings.Check(runs!.Value, Deployment.ComposeEnvironment(node), name).Bind<ShutdownOptions>();
            var grace = node["stop_grace_period"]?.Str;
            Assert.That(grace, Is.Not.Null, $"{name}: docker's default of 10 s cuts the drain short");
            Assert.That(Deployment.ComposeSeconds(grace!), Is.GreaterThan(shutdown.ReadinessGraceSeconds + shutdown.DrainSeconds),
                $"{name}: stop_grace_period must exceed Shutdown:ReadinessGraceSeconds + Shutdown:DrainSeconds");
        }
    }

    [Test]
    public void Nginx_mounts_the_load_balancer_config_whose_upstreams_are_the_collectors()
    {
        var nginx = ByImage("nginx").Node;
        var mount = (nginx["volumes"]?.Strings ?? []).SingleOrDefault(v => v.Split(':')[1] == "/etc/nginx/nginx.conf");
        Assert.That(mount, Is.Not.Null);
        var source = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Repo.PathOf(Deployment.ComposeFile))!, mount!.Split(':')[0]));
        Assert.That(Repo.Relative(source), Is.EqualTo(Deployment.NginxConf));

        var conf = NginxConf.Parse(Repo.Read(Deployment.NginxConf));
        var servers = conf.Only("http").Only("upstream").Children("server").Select(s => s.Args[0]).ToList();
        var collectors = Running(Service.Collector).Select(c => $"{c.Node["hostname"]?.Scalar ?? c.Name}:{Deployment.ServicePort}").ToList();
        Assert.That(servers, Is.EquivalentTo(collectors), "one upstream server per collector service, on the image's port");
        Assert.That(nginx["ports"]?.Strings ?? [], Has.Some.EndsWith(":" + conf.Only("http").Only("server").Only("listen").Args[0]), "the published port reaches nginx's listener");
    }

    private static string? Condition(YNode service, string dependency)
    {
        var dependsOn = service["depends_on"];
        if (dependsOn is null)
        {
            return null;
        }
        if (dependsOn.IsSequence)
        {
            return dependsOn.Strings.Contains(dependency) ? "service_started" : null;
        }
        return dependsOn[dependency]?["condition"]?.Scalar ?? (dependsOn[dependency] is null ? null : "service_started");
    }

    // ---------------------------------------------------------------- the analytics role

    [Test]
    public void One_analytics_service_keeps_its_duckdb_file_on_a_named_volume()
    {
        var analytics = AnalyticsServices().ToList();
        Assert.That(analytics, Has.Count.EqualTo(1), "one service runs Processor__Role=analytics: DuckDB has one writer");
        var (name, node) = analytics[0];
        Assert.That(node.At("deploy", "replicas")?.Number ?? 1, Is.EqualTo(1), $"{name}: one replica");
        Assert.That(Deployment.ComposeEnvironment(node)["Processor__Role"], Is.EqualTo(ProcessorOptions.AnalyticsRole));

        var path = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), name).Bind<TouchpointTracker.Analytics.AnalyticsOptions>().Path;
        Assert.That(path, Does.StartWith("/"), $"{name}: an absolute Analytics:Path on the volume (the working directory /app is the image's)");
        var folder = Path.GetDirectoryName(path)!;
        var mounts = (node["volumes"]?.Strings ?? []).Select(v => v.Split(':')).Select(p => (Source: p[0], Target: p[1].TrimEnd('/'))).ToList();
        var mount = mounts.SingleOrDefault(m => m.Target == folder);
        Assert.That(mount.Source, Is.Not.Null, $"{name}: the folder of Analytics:Path ({folder}) is a volume: the file and its .wal outlive the container");
        Assert.That(_compose.Get("volumes").Entries.Select(e => e.Key), Does.Contain(mount.Source), $"{name}: a named volume, declared at the top level");

        // A fresh named volume takes the owner of the image's folder: the image must create it for its non-root user.
        var runs = Dockerfile.Load(Deployment.DockerfileOf(Service.Processor)).Final.All("RUN").Select(r => Dockerfile.Words(r.Arguments).ToList()).ToList();
        Assert.That(runs.Any(w => w.Contains("mkdir") && w.Contains(folder) && w.Contains("chown")), Is.True,
            $"{Deployment.DockerfileOf(Service.Processor)} creates {folder} owned by the app user, or the service cannot write its volume");
    }

    [Test]
    public void Analytics_reads_what_the_processors_write_with_a_required_api_key_per_site()
    {
        var (name, node) = AnalyticsServices().Single();
        var analytics = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), name);
        var processor = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(Staging().First().Node), "processor");
        var (a, p) = (analytics.Bind<KafkaOptions>(), processor.Bind<KafkaOptions>());
        Assert.Multiple(() =>
        {
            Assert.That(a.BootstrapServers, Is.EqualTo(p.BootstrapServers));
            Assert.That(a.StagedTopic, Is.EqualTo(p.StagedTopic));
            Assert.That(a.TransitionsTopic, Is.EqualTo(p.TransitionsTopic));
            Assert.That(analytics.Bind<TouchpointTracker.Processor.Analytics.AnalyticsSinkOptions>().GroupId, Is.Not.EqualTo(p.GroupId), "a consumer group of its own");
        });

        // A key per site the collectors accept, given by the operator: ${VAR:?...}, never a default in the file.
        var sites = Running(Service.Collector).SelectMany(c => ServiceSettings.Check(Service.Collector, Deployment.ComposeEnvironment(c.Node), c.Name).Bind<CollectorOptions>().Sites.Keys).Distinct().ToList();
        var keys = Deployment.ComposeRawEnvironment(node).Where(e => e.Key.StartsWith("Analytics__ApiKeys__", StringComparison.Ordinal)).ToList();
        Assert.That(keys.Select(k => k.Key.Split("__")[2]).Distinct(), Is.EquivalentTo(sites), $"{name}: a key for each site");
        Assert.That(keys.Select(k => k.Value), Has.All.Match(@"^\$\{[A-Z0-9_]+:\?[^}]+\}$"), $"{name}: keys are required variables (${{NAME:?message}}), not values in the file");
    }

    [Test]
    public void Analytics_is_published_on_the_loopback_only_and_not_through_nginx()
    {
        var (name, node) = AnalyticsServices().Single();
        var ports = node["ports"]?.Strings ?? [];
        Assert.That(ports, Is.Not.Empty, $"{name}: the dashboard is reachable from the host");
        Assert.That(ports, Has.All.StartWith("127.0.0.1:").And.All.EndWith(":" + Deployment.ServicePort), $"{name}: on the host's loopback, to the image's port");
        var conf = NginxConf.Parse(Repo.Read(Deployment.NginxConf));
        var servers = conf.Only("http").Only("upstream").Children("server").Select(s => s.Args[0].Split(':')[0]).ToList();
        Assert.That(servers, Has.None.EqualTo(node["hostname"]?.Scalar ?? name).And.None.EqualTo(name), "the public entry does not route to the analyst's API");
    }

    // ---------------------------------------------------------------- the webhooks role

    [Test]
    public void Webhooks_reads_the_conversions_the_processors_write_in_a_group_of_its_own()
    {
        var webhooks = WebhooksServices().ToList();
        Assert.That(webhooks, Has.Count.EqualTo(1), "one service runs Processor__Role=webhooks");
        var (name, node) = webhooks[0];
        var settings = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), name);
        Assert.That(settings.Problems, Is.Empty);
        var w = settings.Bind<KafkaOptions>();
        var options = settings.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>();
        var groups = new List<string> { options.GroupId };
        foreach (var (pName, pNode) in Staging())
        {
            var p = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(pNode), pName).Bind<KafkaOptions>();
            Assert.Multiple(() =>
            {
                Assert.That(w.ConversionsTopic, Is.EqualTo(p.ConversionsTopic), $"{name} reads what {pName} publishes");
                Assert.That(w.BootstrapServers, Is.EqualTo(p.BootstrapServers));
            });
            groups.Add(p.GroupId);
        }
        foreach (var (aName, aNode) in AnalyticsServices())
        {
            groups.Add(ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(aNode), aName).Bind<TouchpointTracker.Processor.Analytics.AnalyticsSinkOptions>().GroupId);
        }
        Assert.Multiple(() =>
        {
            Assert.That(groups, Is.Unique, $"{name}: a consumer group of its own, or it would take partitions from another role");
            Assert.That(options.DeadLetterTopic, Is.Not.EqualTo(w.ConversionsTopic).And.Not.EqualTo(w.StagedTopic).And.Not.EqualTo(w.TransitionsTopic));
            // Auto-creation is off on the broker: the service creates its dead-letter topic itself.
            Assert.That(w.CreateTopics, Is.True, $"{name}: creates {options.DeadLetterTopic}");
            Assert.That(node["ports"], Is.Null, $"{name}: only calls out, nothing to publish");
            Assert.That(node.At("deploy", "replicas")?.Number ?? 1, Is.EqualTo(1));
        });
    }

    [Test]
    public void Webhook_sites_come_from_the_shell_and_none_is_configured_by_default()
    {
        var (name, node) = WebhooksServices().Single();
        var raw = Deployment.ComposeRawEnvironment(node);
        Assert.That(raw.Keys, Has.None.StartsWith("Webhooks__Sites__"), $"{name}: no URL or secret written in the file");

        // By default (nothing exported) the role binds no site: it starts, skips every record and idles.
        var unset = ServiceSettings.Check(Service.Processor, Deployment.ComposeEnvironment(node), name);
        Assert.That(unset.Problems, Is.Empty);
        Assert.That(unset.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>().Sites, Is.Empty);

        // Each site's URL and secret are passed through, for sites the collectors accept.
        var passed = Deployment.ComposePassThrough(node);
        var sites = Running(Service.Collector).SelectMany(c => ServiceSettings.Check(Service.Collector, Deployment.ComposeEnvironment(c.Node), c.Name).Bind<CollectorOptions>().Sites.Keys).Distinct().ToList();
        var hooked = passed.Where(p => p.StartsWith("Webhooks__Sites__", StringComparison.Ordinal)).Select(p => p.Split("__")).ToList();
        Assert.That(hooked, Is.Not.Empty, $"{name}: the variables that configure a site are listed");
        Assert.That(passed, Has.All.StartWith("Webhooks__Sites__"), $"{name}: only the per-site settings come from the shell");
        Assert.That(hooked.Select(h => h[2]).Distinct(), Is.SubsetOf(sites), "webhooks for sites the collectors accept");
        foreach (var site in hooked.Select(h => h[2]).Distinct())
        {
            Assert.That(hooked.Where(h => h[2] == site).Select(h => h[3]), Is.EquivalentTo(new[] { "Url", "Secret" }), $"{name}: site {site} needs both");
        }

        // Exported, they bind and validate; half of them (a URL without its secret) stops the service at start.
        var set = new Dictionary<string, string>(Deployment.ComposeEnvironment(node));
        foreach (var p in passed)
        {
            set[p] = p.EndsWith("__Url", StringComparison.Ordinal) ? "https://crm.example/hooks/tt" : Deployment.ComposeSecretStandIn;
        }
        var configured = ServiceSettings.Check(Service.Processor, set, name);
        Assert.That(configured.Problems, Is.Empty);
        Assert.That(configured.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>().Sites.Keys, Is.EquivalentTo(hooked.Select(h => h[2]).Distinct()));
        var half = new Dictionary<string, string>(Deployment.ComposeEnvironment(node));
        foreach (var p in passed.Where(p => p.EndsWith("__Url", StringComparison.Ordinal)))
        {
            half[p] = "https://crm.example/hooks/tt";
        }
        Assert.That(ServiceSettings.Check(Service.Processor, half, name).Problems, Has.Some.Contains("Secret"));
    }
}
