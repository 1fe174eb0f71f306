using System.Text;
using System.Text.RegularExpressions;

namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>The deployment files and what ties them together.</summary>
public static partial class Deployment
{
    public const string ComposeFile = "infra/docker-compose.yml";
    public const string NginxConf = "infra/nginx/nginx.conf";
    public const string NginxTemplate = "infra/nginx/nginx.test.conf.template";
    public const string K8sDir = "infra/k8s";
    public const string HealthcheckScript = "infra/docker/tt-healthcheck.sh";

    /// <summary>The port every service image listens on (ASPNETCORE_URLS in the Dockerfiles).</summary>
    public const int ServicePort = 8080;

    public static string DockerfileOf(Service service) => $"infra/docker/{(service == Service.Collector ? "collector" : "processor")}.Dockerfile";

    public static string ProjectOf(Service service) =>
        service == Service.Collector ? "collector/TouchpointTracker.Collector/TouchpointTracker.Collector.csproj" : "processor/TouchpointTracker.Processor/TouchpointTracker.Processor.csproj";

    /// <summary>The file name the image's ENTRYPOINT must start: the assembly that holds the service's options.</summary>
    public static string EntryAssemblyOf(Service service) =>
        ServiceSettings.AssembliesOf(service)[0].GetName().Name + ".dll";

    // ---------------------------------------------------------------- docker-compose

    public static IReadOnlyList<KeyValuePair<string, YNode>> ComposeServices(YNode compose) => compose.Get("services").Entries;

    /// <summary>Which of our services a compose service runs (by the Dockerfile it builds, else its image), or null.</summary>
    public static Service? ServiceOf(YNode composeService)
    {
        var dockerfile = composeService.At("build", "dockerfile")?.Scalar ?? "";
        var image = composeService["image"]?.Scalar ?? "";
        foreach (var s in new[] { Service.Collector, Service.Processor })
        {
            if (dockerfile == DockerfileOf(s) || (dockerfile.Length == 0 && image.Contains(s.ToString(), StringComparison.OrdinalIgnoreCase)))
            {
                return s;
            }
        }
        return null;
    }

    /// <summary>What a compose variable without a default (<c>${NAME:?message}</c>, a secret the operator gives) stands for in the tests.</summary>
    public const string ComposeSecretStandIn = "test-secret-0123456789abcdef";

    /// <summary>Compose interpolation: <c>${NAME:-default}</c> becomes the default, <c>${NAME:?message}</c> (required) <see cref="ComposeSecretStandIn"/>.</summary>
    public static string ComposeInterpolate(string value) =>
        ComposeVariable().Replace(value, m => m.Groups[2].Value is "-" or ":-" ? m.Groups[3].Value : m.Groups[2].Value.Length > 0 ? ComposeSecretStandIn : throw new AssertionException($"'{m.Value}': give a default (:-) or require it (:?)"));

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")]
    private static partial Regex ComposeVariable();

    /// <summary>A compose service's environment (map or KEY=VALUE list form), interpolated (<see cref="ComposeInterpolate"/>).</summary>
    public static Dictionary<string, string> ComposeEnvironment(YNode composeService) =>
        ComposeRawEnvironment(composeService).ToDictionary(e => e.Key, e => ComposeInterpolate(e.Value), StringComparer.Ordinal);

    /// <summary>
    /// The variables a compose service passes through from the shell that runs compose (<c>NAME</c> in the list form,
    /// <c>NAME:</c> with no value in the map form): set in the container only when set there. Not in
    /// <see cref="ComposeRawEnvironment"/>, which is what the service gets when the shell sets none of them.
    /// </summary>
    public static IReadOnlyList<string> ComposePassThrough(YNode composeService)
    {
        var node = composeService["environment"];
        if (node is null)
        {
            return [];
        }
        return node.IsSequence
            ? node.Items.Select(i => i.Str).Where(i => !i.Contains('=', StringComparison.Ordinal)).ToList()
            : node.Entries.Where(e => e.Value.IsNull).Select(e => e.Key).ToList();
    }

    /// <summary>A compose service's environment as written (map or KEY=VALUE list form), pass-through variables left out (<see cref="ComposePassThrough"/>).</summary>
    public static Dictionary<string, string> ComposeRawEnvironment(YNode composeService)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var node = composeService["environment"];
        if (node is null)
        {
            return env;
        }
        if (node.IsSequence)
        {
            foreach (var item in node.Items)
            {
                var eq = item.Str.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    env[item.Str[..eq]] = item.Str[(eq + 1)..];
                }
            }
        }
        else
        {
            foreach (var (k, v) in node.Entries.Where(e => !e.Value.IsNull))
            {
                env[k] = v.Scalar ?? "";
            }
        }
        return env;
    }

    /// <summary>A compose duration ("45s", "1m30s", "500ms") in seconds.</summary>
    public static double ComposeSeconds(string value)
    {
        var total = 0.0;
        var matches = DurationPart().Matches(value);
        Assert.That(matches, Is.Not.Empty, $"'{value}' is not a duration");
        Assert.That(string.Concat(matches.Select(m => m.Value)), Is.EqualTo(value), $"'{value}' is not a duration");
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch { "h" => n * 3600, "m" => n * 60, "s" => n, "ms" => n / 1000, "us" => n / 1e6, _ => n / 1e9 };
        }
        return total;
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|ns)")]
    private static partial Regex DurationPart();

    // ---------------------------------------------------------------- Kubernetes

    /// <summary>Every object in infra/k8s (kustomization.yaml aside), with the file it is in.</summary>
    public static IReadOnlyList<(string File, YNode Object)> KubeObjects() =>
        Directory.GetFiles(Repo.PathOf(K8sDir), "*.yaml")
            .Select(Repo.Relative)
            .Where(f => !f.EndsWith("/kustomization.yaml", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal)
            .SelectMany(f => YNode.LoadAll(f).Select(o => (f, o)))
            .ToList();

    public static IEnumerable<YNode> OfKind(this IEnumerable<(string File, YNode Object)> objects, string kind) =>
        objects.Select(o => o.Object).Where(o => o["kind"]?.Scalar == kind);

    public static string NameOf(YNode obj) => obj.At("metadata", "name")?.Str ?? throw new AssertionException($"{obj.Path} has no metadata.name");

    /// <summary>The workloads (Deployments and StatefulSets) and the service each runs, from its container image.</summary>
    public static IReadOnlyList<(YNode Workload, Service Service)> KubeWorkloads(IReadOnlyList<(string File, YNode Object)> objects)
    {
        var result = new List<(YNode, Service)>();
        foreach (var w in objects.OfKind("Deployment").Concat(objects.OfKind("StatefulSet")))
        {
            var image = Container(w).Get("image").Str;
            var service = image.Contains("collector", StringComparison.OrdinalIgnoreCase) ? Service.Collector
                : image.Contains("processor", StringComparison.OrdinalIgnoreCase) ? Service.Processor
                : throw new AssertionException($"{w.Path}: image '{image}' is neither the collector nor the processor");
            result.Add((w, service));
        }
        return result;
    }

    public static YNode PodSpec(YNode workload) => workload.At("spec", "template", "spec") ?? throw new AssertionException($"{workload.Path} has no spec.template.spec");

    public static YNode Container(YNode workload)
    {
        var containers = PodSpec(workload).Get("containers").Items;
        Assert.That(containers, Has.Count.EqualTo(1), $"{workload.Path}: one container per pod expected");
        return containers[0];
    }

    public static Dictionary<string, string> Labels(YNode? node) =>
        (node?.Entries ?? []).ToDictionary(e => e.Key, e => e.Value.Str, StringComparer.Ordinal);

    /// <summary>Whether every label of <paramref name="selector"/> is on <paramref name="labels"/>.</summary>
    public static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    /// <summary>
    /// The environment a container gets: envFrom (ConfigMaps, Secrets) first, env on top, as the kubelet
    /// does; an optional envFrom source that is not in infra/k8s gives nothing. A fieldRef to metadata.name becomes <paramref name="podName"/>.
    /// </summary>
    public static Dictionary<string, string> KubeEnvironment(YNode container, IReadOnlyList<(string File, YNode Object)> objects, string podName)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container["envFrom"]?.Items ?? [])
        {
            var (kind, refNode) = from["configMapRef"] is { } cm ? ("ConfigMap", cm) : ("Secret", from.Get("secretRef"));
            var name = refNode.Get("name").Str;
            var source = objects.OfKind(kind).FirstOrDefault(o => NameOf(o) == name);
            if (source is null && refNode["optional"]?.Scalar == "true")
            {
                // An optional source the operator creates out of band: absent, the kubelet starts the pod without it.
                continue;
            }
            Assert.That(source, Is.Not.Null, $"{from.Path}: {kind} '{name}' is not in {K8sDir}");
            foreach (var (k, v) in DataOf(source!))
            {
                env[(from["prefix"]?.Str ?? "") + k] = v;
            }
        }
        foreach (var e in container["env"]?.Items ?? [])
        {
            var name = e.Get("name").Str;
            if (e["value"] is { } value)
            {
                env[name] = value.Str;
                continue;
            }
            var valueFrom = e.Get("valueFrom");
            if (valueFrom.At("fieldRef", "fieldPath") is { } field)
            {
                Assert.That(field.Str, Is.EqualTo("metadata.name"), $"{e.Path}: only metadata.name is understood here");
                env[name] = podName;
            }
            else
            {
                var (kind, keyRef) = valueFrom["configMapKeyRef"] is { } c ? ("ConfigMap", c) : ("Secret", valueFrom.Get("secretKeyRef"));
                var source = objects.OfKind(kind).FirstOrDefault(o => NameOf(o) == keyRef.Get("name").Str);
                Assert.That(source, Is.Not.Null, $"{e.Path}: {kind} '{keyRef.Get("name").Str}' is not in {K8sDir}");
                Assert.That(DataOf(source!).TryGetValue(keyRef.Get("key").Str, out var v), Is.True, $"{e.Path}: no key '{keyRef.Get("key").Str}'");
                env[name] = v!;
            }
        }
        return env;
    }

    /// <summary>A ConfigMap's data, or a Secret's stringData and (base64) data.</summary>
    public static Dictionary<string, string> DataOf(YNode configMapOrSecret)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        var isSecret = configMapOrSecret.Get("kind").Str == "Secret";
        foreach (var (k, v) in configMapOrSecret["data"]?.Entries ?? [])
        {
            data[k] = isSecret ? Encoding.UTF8.GetString(Convert.FromBase64String(v.Str)) : v.Str;
        }
        foreach (var (k, v) in configMapOrSecret["stringData"]?.Entries ?? [])
        {
            data[k] = v.Str;
        }
        return data;
    }

    /// <summary>A Kubernetes quantity ("500m", "2", "256Mi", "1Gi") as a number (cores or bytes).</summary>
    public static double Quantity(string value)
    {
        var m = QuantityParts().Match(value);
        Assert.That(m.Success, Is.True, $"'{value}' is not a Kubernetes quantity");
        var n = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return n * m.Groups[2].Value switch
        {
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "Ki" => 1024,
            "Mi" => 1024 * 1024,
            "Gi" => 1024.0 * 1024 * 1024,
            _ => 1,
        };
    }

    [GeneratedRegex("^([0-9]+(?:\\.[0-9]+)?)(m|k|M|G|Ki|Mi|Gi)?$")]
    private static partial Regex QuantityParts();

    /// <summary>The container port a probe or Service targets (a number, or a port name of the container).</summary>
    public static int ResolvePort(YNode container, string port)
    {
        if (int.TryParse(port, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }
        var named = (container["ports"]?.Items ?? []).FirstOrDefault(p => p["name"]?.Scalar == port);
        Assert.That(named, Is.Not.Null, $"{container.Path}: no container port named '{port}'");
        return named!.Get("containerPort").Number;
    }
}
