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

    private YNode Workload(Service s) => _workloads.Single(w => w.Service == s).Workload;

    private ServiceSettings Settings(YNode workload, Service service) =>
        ServiceSettings.Check(service, Deployment.KubeEnvironment(Deployment.Container(workload), _objects, Deployment.NameOf(workload) + "-0"), $"{workload.Path} ({Deployment.NameOf(workload)})");

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
    public void Runs_one_collector_deployment_and_one_processor_workload()
    {
        Assert.That(_workloads.Select(w => w.Service), Is.EquivalentTo(new[] { Service.Collector, Service.Processor }));
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
            Assert.That(paths.Select(p => p.Path), Is.EquivalentTo(new[] { collector.CollectPath, collector.TagPath, TouchpointTracker.Collector.Serving.TagAssets.PathFor(collector.TagPath, "full") }));
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
        Assert.That(pdbs, Has.Count.EqualTo(_workloads.Count));
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
        foreach (var (w, _) in _workloads)
        {
            var labels = Deployment.Labels(w.At("spec", "template", "metadata", "labels"));
            Assert.That(pdbs.Count(p => Deployment.Selects(Deployment.Labels(p.At("spec", "selector", "matchLabels")), labels)), Is.EqualTo(1), $"{Deployment.NameOf(w)} has one PodDisruptionBudget");
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

        var collectorService = services.Single(s => Deployment.Selects(Deployment.Labels(s.At("spec", "selector")), Deployment.Labels(Workload(Service.Collector).At("spec", "template", "metadata", "labels"))));
        var ingresses = _objects.OfKind("Ingress").ToList();
        Assert.That(ingresses, Has.Count.EqualTo(1));
        var backends = ingresses[0].At("spec", "rules")!.Items.SelectMany(r => r.At("http", "paths")!.Items).Select(p => p.At("backend", "service")!).ToList();
        Assert.That(backends, Is.Not.Empty);
        foreach (var b in backends)
        {
            Assert.That(b.Get("name").Str, Is.EqualTo(Deployment.NameOf(collectorService)));
            var portName = b.At("port", "name")?.Scalar;
            Assert.That(collectorService.At("spec", "ports")!.Items.Select(p => p["name"]?.Scalar), Does.Contain(portName));
        }
        var bodySize = Deployment.Labels(ingresses[0].At("metadata", "annotations")).GetValueOrDefault("nginx.ingress.kubernetes.io/proxy-body-size");
        Assert.That(bodySize, Is.Not.Null);
        Assert.That(NginxConf.Size(bodySize!), Is.EqualTo(Settings(Workload(Service.Collector), Service.Collector).Bind<CollectorOptions>().MaxBodyBytes));
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
}
