using TouchpointTracker.Messaging;
using TouchpointTracker.Collector.Hosting;
using TouchpointTracker.Infra.Tests.Support;
using TouchpointTracker.ServiceDefaults;
using KafkaOptions = TouchpointTracker.Messaging.KafkaOptions;
using CollectorOptions = TouchpointTracker.Collector.Configuration.CollectorOptions;
using CollectorMode = TouchpointTracker.Collector.Configuration.CollectorMode;
using ProcessorOptions = TouchpointTracker.Processor.Configuration.ProcessorOptions;

namespace TouchpointTracker.Infra.Tests;

/// <summary>infra/k8s: workloads, probes, settings, autoscaling and disruption budgets.</summary>
public sealed class KubernetesTests
{
    private const string Namespace = "touchpointtracker";
    private IReadOnlyList<(string File, YNode Object)> _objects = null!;
    private IReadOnlyList<(YNode Workload, Service Service)> _workloads = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _objects = Deployment.KubeObjects();
        _workloads = Deployment.KubeWorkloads(_objects);
    }

    /// <summary>The collector's workload, or the processor's in the staging role.</summary>
    private YNode Workload(Service s) => _workloads.Single(w => w.Service == s && (s == Service.Collector || Settings(w.Workload, s).IsStaging)).Workload;

    /// <summary>The processor run in the webhooks role.</summary>
    private YNode Webhooks() => _workloads.Single(w => w.Service == Service.Processor && Settings(w.Workload, w.Service).IsWebhooks).Workload;

    /// <summary>The processor run in the analytics role.</summary>
    private YNode Analytics() => _workloads.Single(w => IsAnalytics(w.Workload, w.Service)).Workload;

    private bool IsAnalytics(YNode workload, Service s) => s == Service.Processor && Settings(workload, s).IsAnalytics;

    /// <summary>The API keys' Secret ships a placeholder the service refuses (under 16 characters); settings are checked with it replaced.</summary>
    private const string KeyPlaceholder = "CHANGE_ME";
    private const string RealKey = "0123456789abcdef0123456789abcdef";

    private ServiceSettings Settings(YNode workload, Service service, bool replacePlaceholders = true) =>
        ServiceSettings.Check(service, Environment(workload, replacePlaceholders), $"{workload.Path} ({Deployment.NameOf(workload)})");

    private Dictionary<string, string> Environment(YNode workload, bool replacePlaceholders = true) =>
        Deployment.KubeEnvironment(Deployment.Container(workload), _objects, Deployment.NameOf(workload) + "-0")
            .ToDictionary(e => e.Key, e => replacePlaceholders && e.Key.StartsWith("Analytics__ApiKeys__", StringComparison.Ordinal) && e.Value == KeyPlaceholder ? RealKey : e.Value, StringComparer.Ordinal);

    [Test]
    public void Every_object_is_named_and_namespaced_and_kustomization_lists_every_file()
    {
        Assert.That(_objects, Has.Count.GreaterThanOrEqualTo(8));
        foreach (var (file, o) in _objects)
        {
            Assert.That(o["apiVersion"]?.Scalar, Is.Not.Null.And.Not.Empty, $"{o.Path}: apiVersion");
            Assert.That(o["kind"]?.Scalar, Is.Not.Null.And.Not.Empty, $"{o.Path}: kind");
            Assert.That(Deployment.NameOf(o), Is.Not.Empty);
            if (o["kind"]!.Str != "Namespace")
            {
                Assert.That(o.At("metadata", "namespace")?.Scalar, Is.EqualTo(Namespace), $"{o.Path} ({Deployment.NameOf(o)})");
            }
        }
        var kustomization = YNode.Load(Deployment.K8sDir + "/kustomization.yaml");
        var listed = kustomization.Get("resources").Strings;
        var files = _objects.Select(o => o.File[(Deployment.K8sDir.Length + 1)..]).Distinct();
        Assert.That(listed, Is.EquivalentTo(files), "kubectl apply -k applies every file");
        Assert.That(_objects.OfKind("Namespace").Select(Deployment.NameOf), Is.EqualTo(new[] { Namespace }));
    }

    [Test]
    public void Runs_one_collector_deployment_one_processor_workload_one_analytics_workload_and_one_webhooks_workload()
    {
        Assert.That(_workloads.Select(w => w.Service), Is.EquivalentTo(new[] { Service.Collector, Service.Processor, Service.Processor, Service.Processor }));
        Assert.That(_workloads.Count(w => IsAnalytics(w.Workload, w.Service)), Is.EqualTo(1), "one processor workload runs Processor__Role=analytics");
        Assert.That(_workloads.Count(w => w.Service == Service.Processor && Settings(w.Workload, w.Service).IsWebhooks), Is.EqualTo(1), "one processor workload runs Processor__Role=webhooks");
        Assert.That(Workload(Service.Collector).Get("kind").Str, Is.EqualTo("Deployment"));
        foreach (var (w, s) in _workloads)
        {
            var image = Deployment.Container(w).Get("image").Str;
            Assert.That(image, Does.Contain(":").And.Not.EndWith(":latest"), $"{Deployment.NameOf(w)}: pin the image version");
            Assert.That(Deployment.Labels(w.At("spec", "selector", "matchLabels")), Is.SubsetOf(Deployment.Labels(w.At("spec", "template", "metadata", "labels"))),
                $"{Deployment.NameOf(w)}: the selector matches the pod labels");
        }
    }

    [Test]
    public void Every_setting_is_a_valid_setting_of_its_service_and_the_collectors_are_distributed()
    {
        foreach (var (w, s) in _workloads)
        {
            var env = Deployment.KubeEnvironment(Deployment.Container(w), _objects, Deployment.NameOf(w) + "-0");
            Assert.That(env, Has.Count.GreaterThanOrEqualTo(3), $"{Deployment.NameOf(w)} gets its settings");
            var settings = Settings(w, s);
            Assert.That(settings.Problems, Is.Empty);
            if (s == Service.Collector)
            {
                Assert.That(CollectorServiceExtensions.DetectMode(settings.Configuration), Is.EqualTo(CollectorMode.Distributed),
                    "Redis__Configuration and Kafka__BootstrapServers both set, or the collectors run the embedded mode");
            }
        }
    }

    [Test]
    public void The_collector_believes_forwarded_headers_from_the_pod_network_only_and_one_hop()
    {
        var env = Deployment.KubeEnvironment(Deployment.Container(Workload(Service.Collector)), _objects, "tt-collector-0");
        var trusted = env.Where(kv => kv.Key.StartsWith("Edge__TrustedProxies__", StringComparison.Ordinal)).Select(kv => System.Net.IPNetwork.Parse(kv.Value)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(trusted, Is.Not.Empty, "the ingress controller's pods must be trusted explicitly");
            Assert.That(trusted.Select(n => n.PrefixLength), Has.All.GreaterThanOrEqualTo(12), "no whole private /8");
            Assert.That(env.GetValueOrDefault("Edge__ForwardLimit"), Is.EqualTo("1"));
        });
    }

    [Test]
    public void The_ingress_routes_the_public_paths_only()
    {
        var collector = Settings(Workload(Service.Collector), Service.Collector).Bind<CollectorOptions>();
        var paths = _objects.OfKind("Ingress").SelectMany(i => i.At("spec", "rules")!.Items).SelectMany(r => r.At("http", "paths")!.Items)
            .Select(p => (Path: p.Get("path").Str, Type: p.Get("pathType").Str)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(paths.Select(p => p.Path), Is.EquivalentTo(new[] { collector.CollectPath, collector.TagPath, TouchpointTracker.Collector.Serving.TagAssets.PathFor(collector.TagPath, "full"), collector.OfflineEventsPath, collector.NumbersPath }));
            Assert.That(paths.Select(p => p.Type), Has.All.EqualTo("Exact"), "a Prefix / would publish /metrics and /readyz");
        });
    }

    [Test]
    public void Config_values_are_yaml_strings()
    {
        var checkedValues = 0;
        foreach (var o in _objects.OfKind("ConfigMap").Concat(_objects.OfKind("Secret")))
        {
            foreach (var (key, value) in (o["data"]?.Entries ?? []).Concat(o["stringData"]?.Entries ?? []))
            {
                Assert.That(value.IsPlainNonString, Is.False, $"{value.Path}: quote it, Kubernetes wants a string (got {value.Scalar})");
                checkedValues++;
            }
        }
        foreach (var (w, _) in _workloads)
        {
            foreach (var e in Deployment.Container(w)["env"]?.Items ?? [])
            {
                Assert.That(e["value"]?.IsPlainNonString ?? false, Is.False, $"{e.Path}: quote the value");
            }
        }
        Assert.That(checkedValues, Is.GreaterThan(5));
    }

    [Test]
    public void Probes_ask_the_configured_health_paths_on_the_image_port()
    {
        foreach (var (w, s) in _workloads)
        {
            var settings = Settings(w, s);
            var (liveness, readiness, metrics) = s == Service.Collector
                ? (settings.Bind<CollectorOptions>().LivenessPath, settings.Bind<CollectorOptions>().ReadinessPath, settings.Bind<CollectorOptions>().MetricsPath)
                : (settings.Bind<ProcessorOptions>().LivenessPath, settings.Bind<ProcessorOptions>().ReadinessPath, settings.Bind<ProcessorOptions>().MetricsPath);
            var c = Deployment.Container(w);
            var name = Deployment.NameOf(w);
            void Probe(string probe, string expectedPath, bool required)
            {
                var p = c[probe];
                if (p is null && !required)
                {
                    return;
                }
                Assert.That(p, Is.Not.Null, $"{name}: {probe}");
                Assert.That(p!.At("httpGet", "path")?.Str, Is.EqualTo(expectedPath), $"{name}: {probe} path");
                Assert.That(Deployment.ResolvePort(c, p.At("httpGet", "port")!.Str), Is.EqualTo(Deployment.ServicePort), $"{name}: {probe} port");
            }
            Probe("readinessProbe", readiness, required: true);
            Probe("livenessProbe", liveness, required: true);
            Probe("startupProbe", liveness, required: false);
            Assert.That(liveness, Is.Not.EqualTo(readiness), "liveness must not depend on Redis or Kafka");

            Assert.That((c["ports"]?.Items ?? []).Select(p => p.Get("containerPort").Number), Does.Contain(Deployment.ServicePort), $"{name}: the port the image listens on");
            var annotations = Deployment.Labels(w.At("spec", "template", "metadata", "annotations"));
            Assert.That(annotations.GetValueOrDefault("prometheus.io/path"), Is.EqualTo(metrics), $"{name}: scrape the metrics path");
            Assert.That(annotations.GetValueOrDefault("prometheus.io/port"), Is.EqualTo(Deployment.ServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    [Test]
    public void Pods_get_longer_to_stop_than_the_service_drains()
    {
        foreach (var (w, s) in _workloads)
        {
            var shutdown = Settings(w, s).Bind<ShutdownOptions>();
            var grace = Deployment.PodSpec(w)["terminationGracePeriodSeconds"];
            Assert.That(grace, Is.Not.Null, $"{Deployment.NameOf(w)}: the default 30 s is not enough");
            Assert.That(grace!.Number, Is.GreaterThan(shutdown.ReadinessGraceSeconds + shutdown.DrainSeconds),
                $"{Deployment.NameOf(w)}: terminationGracePeriodSeconds must exceed Shutdown:ReadinessGraceSeconds + Shutdown:DrainSeconds");
            Assert.That(grace.Number, Is.GreaterThan(shutdown.DrainSeconds));
            Assert.That(Deployment.Container(w).At("lifecycle", "preStop"), Is.Null, "readiness turns red on SIGTERM: no preStop sleep needed");
        }
    }

    [Test]
    public void Containers_have_requests_and_limits_and_run_unprivileged()
    {
        foreach (var (w, _) in _workloads)
        {
            var c = Deployment.Container(w);
            var name = Deployment.NameOf(w);
            foreach (var resource in new[] { "cpu", "memory" })
            {
                var request = c.At("resources", "requests", resource)?.Str;
                var limit = c.At("resources", "limits", resource)?.Str;
                Assert.That(request, Is.Not.Null, $"{name}: requests.{resource}");
                Assert.That(limit, Is.Not.Null, $"{name}: limits.{resource}");
                Assert.That(Deployment.Quantity(limit!), Is.GreaterThanOrEqualTo(Deployment.Quantity(request!)), $"{name}: limits.{resource} >= requests.{resource}");
            }
            Assert.That(Deployment.PodSpec(w).At("securityContext", "runAsNonRoot")?.Str, Is.EqualTo("true"), $"{name}: runAsNonRoot");
            Assert.That(c.At("securityContext", "allowPrivilegeEscalation")?.Str, Is.EqualTo("false"), $"{name}: allowPrivilegeEscalation");
            if (c.At("securityContext", "readOnlyRootFilesystem")?.Str == "true")
            {
                Assert.That((c["volumeMounts"]?.Items ?? []).Select(m => m.Get("mountPath").Str), Does.Contain("/tmp"), $"{name}: .NET needs a writable /tmp");
            }
        }
    }

    [Test]
    public void Collector_autoscales_on_cpu_and_nothing_else_sets_its_replicas()
    {
        var collector = Workload(Service.Collector);
        var hpas = _objects.OfKind("HorizontalPodAutoscaler").ToList();
        Assert.That(hpas, Has.Count.EqualTo(1));
        var hpa = hpas[0];
        Assert.That(hpa.Get("apiVersion").Str, Is.EqualTo("autoscaling/v2"));
        var target = hpa.At("spec", "scaleTargetRef")!;
        Assert.Multiple(() =>
        {
            Assert.That(target.Get("kind").Str, Is.EqualTo(collector.Get("kind").Str));
            Assert.That(target.Get("name").Str, Is.EqualTo(Deployment.NameOf(collector)));
            Assert.That(target.Get("apiVersion").Str, Is.EqualTo(collector.Get("apiVersion").Str));
        });
        var cpu = hpa.At("spec", "metrics")!.Items.SingleOrDefault(m => m.At("resource", "name")?.Scalar == "cpu");
        Assert.That(cpu, Is.Not.Null, "scale on CPU");
        Assert.That(cpu!.At("resource", "target", "type")!.Str, Is.EqualTo("Utilization"));
        Assert.That(cpu.At("resource", "target", "averageUtilization")!.Number, Is.InRange(30, 90));
        Assert.That(Deployment.Container(collector).At("resources", "requests", "cpu"), Is.Not.Null, "CPU utilisation is relative to the request");
        var min = hpa.At("spec", "minReplicas")!.Number;
        Assert.That(min, Is.GreaterThanOrEqualTo(2), "one collector must survive an eviction");
        Assert.That(hpa.At("spec", "maxReplicas")!.Number, Is.GreaterThan(min));
        Assert.That(collector.At("spec", "replicas"), Is.Null, "the HPA owns the replica count; `replicas` here would reset it on every apply");
        Assert.That(collector.At("spec", "strategy", "rollingUpdate", "maxUnavailable")?.Str, Is.EqualTo("0"), "roll out without losing capacity");
    }

    [Test]
    public void Every_workload_has_a_disruption_budget_that_selects_it_alone()
    {
        var pdbs = _objects.OfKind("PodDisruptionBudget").ToList();
        // The analytics workload runs one replica: a budget would protect nothing or block drains (analytics.yaml).
        var budgeted = _workloads.Where(w => !IsAnalytics(w.Workload, w.Service)).ToList();
        Assert.That(pdbs, Has.Count.EqualTo(budgeted.Count));
        foreach (var pdb in pdbs)
        {
            var selector = Deployment.Labels(pdb.At("spec", "selector", "matchLabels"));
            var selected = _workloads.Where(w => Deployment.Selects(selector, Deployment.Labels(w.Workload.At("spec", "template", "metadata", "labels")))).ToList();
            Assert.That(selected, Has.Count.EqualTo(1), $"{Deployment.NameOf(pdb)}: selects the pods of exactly one workload");
            Assert.That(pdb.At("spec", "minAvailable") is not null ^ pdb.At("spec", "maxUnavailable") is not null, Is.True, $"{Deployment.NameOf(pdb)}: minAvailable or maxUnavailable");
            if (pdb.At("spec", "maxUnavailable") is { } max)
            {
                Assert.That(max.Str, Is.Not.EqualTo("0").And.Not.EqualTo("0%"), "a budget of 0 blocks node drains forever");
            }
        }
        foreach (var (w, s) in _workloads)
        {
            var labels = Deployment.Labels(w.At("spec", "template", "metadata", "labels"));
            Assert.That(pdbs.Count(p => Deployment.Selects(Deployment.Labels(p.At("spec", "selector", "matchLabels")), labels)), Is.EqualTo(IsAnalytics(w, s) ? 0 : 1),
                $"{Deployment.NameOf(w)} has {(IsAnalytics(w, s) ? "no" : "one")} PodDisruptionBudget");
        }
    }

    [Test]
    public void Services_and_the_ingress_reach_the_pods_on_a_real_port()
    {
        var services = _objects.OfKind("Service").ToList();
        foreach (var svc in services)
        {
            var selector = Deployment.Labels(svc.At("spec", "selector"));
            var targets = _workloads.Where(w => Deployment.Selects(selector, Deployment.Labels(w.Workload.At("spec", "template", "metadata", "labels")))).ToList();
            Assert.That(targets, Has.Count.EqualTo(1), $"Service {Deployment.NameOf(svc)} selects one workload's pods");
            foreach (var port in svc.At("spec", "ports")!.Items)
            {
                Assert.That(Deployment.ResolvePort(Deployment.Container(targets[0].Workload), port.Get("targetPort").Str), Is.EqualTo(Deployment.ServicePort));
            }
        }
        var processor = Workload(Service.Processor);
        if (processor.Get("kind").Str == "StatefulSet")
        {
            var governing = services.SingleOrDefault(s => Deployment.NameOf(s) == processor.At("spec", "serviceName")?.Scalar);
            Assert.That(governing, Is.Not.Null, "the StatefulSet's serviceName is a Service");
            Assert.That(governing!.At("spec", "clusterIP")?.Str, Is.EqualTo("None"), "a headless Service governs a StatefulSet");
        }

        var analytics = Analytics();
        var analyticsService = services.SingleOrDefault(s => Deployment.NameOf(s) == analytics.At("spec", "serviceName")?.Scalar);
        Assert.That(analyticsService, Is.Not.Null, "the analytics StatefulSet's serviceName is a Service");
        Assert.That(Deployment.Selects(Deployment.Labels(analyticsService!.At("spec", "selector")), Deployment.Labels(analytics.At("spec", "template", "metadata", "labels"))), Is.True);
        Assert.That(analyticsService.At("spec", "type")?.Scalar ?? "ClusterIP", Is.EqualTo("ClusterIP"), "reachable inside the cluster only");

        var collectorService = services.Single(s => Deployment.Selects(Deployment.Labels(s.At("spec", "selector")), Deployment.Labels(Workload(Service.Collector).At("spec", "template", "metadata", "labels"))));
        // Two Ingresses, each with the body limit of the paths it routes: the beacons' 64k for /collect and the
        // tag, Offline:MaxBodyBytes for the offline events API.
        var collectorSettings = Settings(Workload(Service.Collector), Service.Collector);
        var collectorOptions = collectorSettings.Bind<CollectorOptions>();
        var offlineLimit = collectorSettings.Bind<TouchpointTracker.Collector.Offline.OfflineOptions>().MaxBodyBytes;
        var ingresses = _objects.OfKind("Ingress").ToList();
        Assert.That(ingresses, Has.Count.EqualTo(2));
        foreach (var ingress in ingresses)
        {
            var paths = ingress.At("spec", "rules")!.Items.SelectMany(r => r.At("http", "paths")!.Items).ToList();
            Assert.That(paths, Is.Not.Empty);
            foreach (var b in paths.Select(p => p.At("backend", "service")!))
            {
                Assert.That(b.Get("name").Str, Is.EqualTo(Deployment.NameOf(collectorService)));
                var portName = b.At("port", "name")?.Scalar;
                Assert.That(collectorService.At("spec", "ports")!.Items.Select(p => p["name"]?.Scalar), Does.Contain(portName));
            }
            var bodySize = Deployment.Labels(ingress.At("metadata", "annotations")).GetValueOrDefault("nginx.ingress.kubernetes.io/proxy-body-size");
            Assert.That(bodySize, Is.Not.Null);
            var serves = paths.Select(p => p.Get("path").Str).ToList();
            var expected = serves.Contains(collectorOptions.OfflineEventsPath) ? offlineLimit : collectorOptions.MaxBodyBytes;
            if (serves.Contains(collectorOptions.OfflineEventsPath))
            {
                Assert.That(serves, Is.EqualTo(new[] { collectorOptions.OfflineEventsPath }), "the offline API's limit applies to it alone");
            }
            Assert.That(NginxConf.Size(bodySize!), Is.EqualTo(expected), $"body limit of the Ingress serving {string.Join(", ", serves)}");
        }
    }

    [Test]
    public void Processors_consume_what_collectors_forward_and_fit_the_partitions()
    {
        var collector = Settings(Workload(Service.Collector), Service.Collector);
        var processorWorkload = Workload(Service.Processor);
        var processor = Settings(processorWorkload, Service.Processor);
        Assert.That(processor.Bind<KafkaOptions>().TouchpointsTopic, Is.EqualTo(collector.Bind<KafkaOptions>().TouchpointsTopic));
        Assert.That(processor.Bind<KafkaOptions>().BootstrapServers, Is.EqualTo(collector.Bind<KafkaOptions>().BootstrapServers));
        var replicas = processorWorkload.At("spec", "replicas")?.Number ?? 1;
        Assert.That(replicas, Is.LessThanOrEqualTo(collector.Bind<KafkaOptions>().TouchpointsPartitions), "processors beyond the partition count sit idle");
    }

    [Test]
    public void Each_processor_has_a_stable_instance_id_of_its_own()
    {
        var processor = Workload(Service.Processor);
        var env = Deployment.Container(processor)["env"]?.Items ?? [];
        var instance = env.SingleOrDefault(e => e.Get("name").Str == "Processor__InstanceId");
        Assert.That(instance, Is.Not.Null, "Processor:InstanceId names the Kafka transactional id");
        Assert.That(instance!.At("valueFrom", "fieldRef", "fieldPath")?.Str, Is.EqualTo("metadata.name"), "one per pod: the pod name");
        Assert.That(processor.Get("kind").Str, Is.EqualTo("StatefulSet"), "pod names survive restarts only in a StatefulSet, so a restarted processor fences its previous run");
        Assert.That(Settings(processor, Service.Processor).Bind<ProcessorOptions>().InstanceId, Is.EqualTo(Deployment.NameOf(processor) + "-0"));
    }

    // ---------------------------------------------------------------- the analytics role

    [Test]
    public void Analytics_runs_one_replica_in_the_analytics_role_with_its_data_on_a_claimed_volume()
    {
        var w = Analytics();
        var settings = Settings(w, Service.Processor);
        Assert.Multiple(() =>
        {
            Assert.That(w.Get("kind").Str, Is.EqualTo("StatefulSet"), "at most one pod at a time, and the same volume each time");
            Assert.That(w.At("spec", "replicas")?.Number, Is.EqualTo(1), "DuckDB has one writer: exactly one replica");
            Assert.That(w.At("spec", "podManagementPolicy")?.Scalar ?? "OrderedReady", Is.EqualTo("OrderedReady"));
            Assert.That(Environment(w)["Processor__Role"], Is.EqualTo(ProcessorOptions.AnalyticsRole));
            Assert.That(_objects.OfKind("HorizontalPodAutoscaler").Select(h => h.At("spec", "scaleTargetRef", "name")?.Scalar), Has.None.EqualTo(Deployment.NameOf(w)), "nothing scales it");
        });

        // Analytics:Path lies on a volume mount, and that volume is a claim of the StatefulSet (not an emptyDir).
        var path = settings.Bind<TouchpointTracker.Analytics.AnalyticsOptions>().Path;
        Assert.That(path, Does.StartWith("/"), "an absolute path: the working directory /app is read-only");
        var mount = (Deployment.Container(w)["volumeMounts"]?.Items ?? []).Select(m => (Name: m.Get("name").Str, Path: m.Get("mountPath").Str.TrimEnd('/')))
            .Where(m => path.StartsWith(m.Path + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Path.Length).FirstOrDefault();
        Assert.That(mount.Name, Is.Not.Null, $"Analytics:Path {path} is on no volume mount: the data would die with the pod");
        Assert.That(Path.GetDirectoryName(path), Is.EqualTo(mount.Path), "the file and its .wal in the mounted folder");
        var claims = (w.At("spec", "volumeClaimTemplates")?.Items ?? []).ToList();
        var claim = claims.SingleOrDefault(c => c.At("metadata", "name")?.Scalar == mount.Name);
        Assert.That(claim, Is.Not.Null, $"the volume '{mount.Name}' is a volumeClaimTemplate");
        Assert.That(claim!.At("spec", "accessModes")!.Strings, Does.Contain("ReadWriteOnce"));
        Assert.That(Deployment.Quantity(claim.At("spec", "resources", "requests", "storage")!.Str), Is.GreaterThanOrEqualTo(4.0 * 1024 * 1024 * 1024), "a year of a mid-size site is ~4 GB");
        Assert.That(Deployment.PodSpec(w).At("securityContext", "fsGroup")?.Str, Is.EqualTo(Deployment.PodSpec(w).At("securityContext", "runAsGroup")?.Str), "the non-root user can write the volume");
        Assert.That(w.At("spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted")?.Scalar ?? "Retain", Is.EqualTo("Retain"), "deleting the StatefulSet keeps the data");
    }

    [Test]
    public void Analytics_reads_the_topics_the_processors_write_in_a_group_of_its_own()
    {
        var processor = Settings(Workload(Service.Processor), Service.Processor);
        var analytics = Settings(Analytics(), Service.Processor);
        var (p, a) = (processor.Bind<KafkaOptions>(), analytics.Bind<KafkaOptions>());
        Assert.Multiple(() =>
        {
            Assert.That(a.BootstrapServers, Is.EqualTo(p.BootstrapServers));
            Assert.That(a.StagedTopic, Is.EqualTo(p.StagedTopic));
            Assert.That(a.TransitionsTopic, Is.EqualTo(p.TransitionsTopic));
            Assert.That(analytics.Bind<TouchpointTracker.Processor.Analytics.AnalyticsSinkOptions>().GroupId, Is.Not.EqualTo(p.GroupId),
                "its own consumer group, or it would take partitions from the processors");
        });
    }

    [Test]
    public void Analytics_api_keys_come_from_a_secret_whose_placeholder_the_service_refuses()
    {
        var w = Analytics();
        var env = Environment(w, replacePlaceholders: false);
        var keys = env.Where(e => e.Key.StartsWith("Analytics__ApiKeys__", StringComparison.Ordinal)).ToList();
        Assert.That(keys, Is.Not.Empty, "a key for the site(s) the collectors accept");
        var secrets = _objects.OfKind("Secret").Where(s => Deployment.DataOf(s).Keys.Any(k => k.StartsWith("Analytics__ApiKeys__", StringComparison.Ordinal))).ToList();
        Assert.That(secrets, Has.Count.EqualTo(1), "API keys live in a Secret");
        Assert.That(_objects.OfKind("ConfigMap").SelectMany(c => Deployment.DataOf(c).Keys), Has.None.StartsWith("Analytics__ApiKeys__"), "never in a ConfigMap");
        Assert.That(ServiceSettings.Check(Service.Processor, env, "unchanged Secret").Problems, Has.Some.Contains("Analytics:ApiKeys:"),
            "an unchanged Secret stops the service instead of serving data under a published key");

        var collectorSites = Settings(Workload(Service.Collector), Service.Collector).Bind<CollectorOptions>().Sites.Keys;
        var keyedSites = keys.Select(k => k.Key.Split("__")[2]).Distinct();
        Assert.That(keyedSites, Is.SubsetOf(collectorSites), "keys for sites the collectors accept");
    }

    [Test]
    public void No_ingress_publishes_the_analytics_api_or_dashboard()
    {
        var analyticsServices = _objects.OfKind("Service")
            .Where(s => Deployment.Selects(Deployment.Labels(s.At("spec", "selector")), Deployment.Labels(Analytics().At("spec", "template", "metadata", "labels"))))
            .Select(Deployment.NameOf).ToList();
        var backends = _objects.OfKind("Ingress").SelectMany(i => i.At("spec", "rules")!.Items).SelectMany(r => r.At("http", "paths")!.Items)
            .Select(p => p.At("backend", "service", "name")?.Scalar).ToList();
        Assert.That(backends.Intersect(analyticsServices), Is.Empty, "docs/operations.md says how to expose it behind authentication");
        Assert.That(analyticsServices.Select(n => _objects.OfKind("Service").Single(s => Deployment.NameOf(s) == n).At("spec", "type")?.Scalar ?? "ClusterIP"), Has.All.EqualTo("ClusterIP"));
    }

    // ---------------------------------------------------------------- the webhooks role

    /// <summary>What the optional Secret tt-webhooks-sites holds for a site, as docs/operations.md says to create it.</summary>
    private static readonly (string Key, string Value)[] ExampleSite =
    [
        ("Webhooks__Sites__shop__Url", "https://crm.example/hooks/tt"),
        ("Webhooks__Sites__shop__Secret", RealKey),
    ];

    [Test]
    public void Webhooks_reads_the_conversions_the_processors_write_in_a_group_of_its_own()
    {
        var processor = Settings(Workload(Service.Processor), Service.Processor);
        var analytics = Settings(Analytics(), Service.Processor);
        var webhooks = Settings(Webhooks(), Service.Processor);
        var (p, w) = (processor.Bind<KafkaOptions>(), webhooks.Bind<KafkaOptions>());
        var options = webhooks.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>();
        Assert.Multiple(() =>
        {
            Assert.That(Environment(Webhooks())["Processor__Role"], Is.EqualTo(ProcessorOptions.WebhooksRole));
            Assert.That(w.BootstrapServers, Is.EqualTo(p.BootstrapServers));
            Assert.That(w.ConversionsTopic, Is.EqualTo(p.ConversionsTopic), "it reads what the processors publish");
            Assert.That(new[] { options.GroupId, p.GroupId, analytics.Bind<TouchpointTracker.Processor.Analytics.AnalyticsSinkOptions>().GroupId }, Is.Unique,
                "its own consumer group, or it would take partitions from another role");
            Assert.That(options.DeadLetterTopic, Is.Not.EqualTo(w.ConversionsTopic).And.Not.EqualTo(p.StagedTopic).And.Not.EqualTo(p.TransitionsTopic));
            Assert.That(w.ReplicationFactor, Is.EqualTo(p.ReplicationFactor), "the dead-letter topic it creates is as durable as the processors' outputs");
        });
    }

    [Test]
    public void Webhooks_runs_a_deployment_within_the_partitions_without_a_service_or_an_ingress()
    {
        var w = Webhooks();
        var collector = Settings(Workload(Service.Collector), Service.Collector).Bind<KafkaOptions>();
        Assert.Multiple(() =>
        {
            // No transactional producer: no instance id to keep, so no StatefulSet needed.
            Assert.That(w.Get("kind").Str, Is.EqualTo("Deployment"));
            Assert.That(Deployment.Container(w)["env"]?.Items.Select(e => e.Get("name").Str) ?? [], Has.None.EqualTo("Processor__InstanceId"));
            var replicas = w.At("spec", "replicas")?.Number ?? 1;
            Assert.That(replicas, Is.InRange(1, collector.TouchpointsPartitions), "tt.conversions has as many partitions as tt.touchpoints: more pods would sit idle");
            Assert.That(_objects.OfKind("Service").Where(s => Deployment.Selects(Deployment.Labels(s.At("spec", "selector")), Deployment.Labels(w.At("spec", "template", "metadata", "labels")))), Is.Empty,
                "it only calls out: nothing routes to it");
            Assert.That(_objects.OfKind("HorizontalPodAutoscaler").Select(h => h.At("spec", "scaleTargetRef", "name")?.Scalar), Has.None.EqualTo(Deployment.NameOf(w)));
        });
    }

    [Test]
    public void Webhook_sites_come_from_an_optional_secret_and_the_role_idles_without_one()
    {
        var w = Webhooks();
        var refs = (Deployment.Container(w)["envFrom"]?.Items ?? []).Select(f => f["secretRef"]).Where(r => r is not null).ToList();
        Assert.That(refs, Has.Count.EqualTo(1), "the sites' URLs and secrets come from one Secret");
        Assert.That(refs[0]!["optional"]?.Scalar, Is.EqualTo("true"), "optional: the role starts without any site");
        var secretName = refs[0]!.Get("name").Str;
        Assert.That(_objects.OfKind("Secret").Select(Deployment.NameOf), Has.None.EqualTo(secretName),
            "not shipped: kubectl apply -k would overwrite the one the operator created");
        Assert.That(_objects.OfKind("ConfigMap").SelectMany(c => Deployment.DataOf(c).Keys), Has.None.StartsWith("Webhooks__Sites__"), "never a URL or secret in a ConfigMap");
        Assert.That(_objects.OfKind("Secret").SelectMany(c => Deployment.DataOf(c).Keys), Has.None.StartsWith("Webhooks__Sites__"), "nor a published one in a shipped Secret");

        // Without the Secret: valid, no site, every record skipped.
        var idle = Settings(w, Service.Processor);
        Assert.That(idle.Problems, Is.Empty);
        Assert.That(idle.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>().Sites, Is.Empty);

        // With the Secret as documented: the site binds and validates; a URL without its secret stops the role at start.
        var env = Environment(w);
        foreach (var (k, v) in ExampleSite)
        {
            env[k] = v;
        }
        var configured = ServiceSettings.Check(Service.Processor, env, "with tt-webhooks-sites");
        Assert.That(configured.Problems, Is.Empty);
        Assert.That(configured.Bind<TouchpointTracker.Processor.Webhooks.WebhookOptions>().Sites.Keys, Is.EquivalentTo(new[] { "shop" }));
        env.Remove("Webhooks__Sites__shop__Secret");
        Assert.That(ServiceSettings.Check(Service.Processor, env, "half a site").Problems, Has.Some.Contains("Webhooks:Sites:shop:Secret"));
    }
}
