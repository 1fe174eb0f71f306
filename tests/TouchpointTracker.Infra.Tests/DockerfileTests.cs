using System.Xml.Linq;
using TouchpointTracker.Collector.Configuration;
using TouchpointTracker.Infra.Tests.Support;
using TouchpointTracker.Processor.Configuration;

namespace TouchpointTracker.Infra.Tests;

/// <summary>infra/docker/*.Dockerfile and the root .dockerignore.</summary>
public sealed class DockerfileTests
{
    private static readonly Service[] Services = [Service.Collector, Service.Processor];

    /// <summary>The shared libraries glibc provides (libc6), present in every runtime image.</summary>
    private static readonly HashSet<string> Glibc = new(StringComparer.Ordinal)
    {
        "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2", "libutil.so.1",
        "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
    };

    /// <summary>Ubuntu 24.04 (the .NET 10 runtime images) packages of other libraries librdkafka might link.</summary>
    private static readonly Dictionary<string, string> PackageOfLibrary = new(StringComparer.Ordinal)
    {
        ["libsasl2.so.2"] = "libsasl2-2",
        ["libsasl2.so.3"] = "libsasl2-2",
        ["libz.so.1"] = "zlib1g",
        ["libzstd.so.1"] = "libzstd1",
        ["liblz4.so.1"] = "liblz4-1",
        ["libssl.so.3"] = "libssl3t64",
        ["libcrypto.so.3"] = "libssl3t64",
        ["libcurl.so.4"] = "libcurl4t64",
    };

    private static string ServiceDefaultLiveness(Service s) => s == Service.Collector ? new CollectorOptions().LivenessPath : new ProcessorOptions().LivenessPath;

    [TestCaseSource(nameof(Services))]
    public void Builds_with_the_dotnet_10_sdk_and_runs_on_the_aspnet_10_runtime(Service service)
    {
        var d = Dockerfile.Load(Deployment.DockerfileOf(service));
        Assert.That(d.Stages, Has.Count.GreaterThanOrEqualTo(2), "multi-stage: build and runtime");
        Assert.That(d.Stages.Take(d.Stages.Count - 1).Select(s => s.Image), Has.Some.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0"));
        Assert.That(d.Final.Image, Does.StartWith("mcr.microsoft.com/dotnet/aspnet:10.0"), "the final stage is the ASP.NET Core runtime, not the SDK");
        if (service == Service.Collector)
        {
            var node = d.Stages.SingleOrDefault(s => s.Image.StartsWith("node:20", StringComparison.Ordinal));
            Assert.That(node, Is.Not.Null, "the collector embeds the tag, built with Node 20");
            Assert.That(node!.All("RUN").Select(r => r.Arguments), Has.Some.Contains("npm ci").And.Some.Contains("npm run").And.Some.Contains("build"));
        }
    }

    [Test]
    public void The_collector_image_never_falls_back_to_the_embedded_mode_silently()
    {
        var final = Dockerfile.Load(Deployment.DockerfileOf(Service.Collector)).Final;
        Assert.That(final.Env.GetValueOrDefault("Collector__RequireExplicitMode"), Is.EqualTo("true"),
            "the image listens on all interfaces: without Collector:Mode it must refuse to start rather than expose the embedded inspection API");
    }

    [TestCaseSource(nameof(Services))]
    public void Runs_as_a_non_root_user_and_listens_on_the_exposed_port(Service service)
    {
        var final = Dockerfile.Load(Deployment.DockerfileOf(service)).Final;
        var user = final.All("USER").LastOrDefault();
        Assert.That(user, Is.Not.Null, "the final stage sets USER");
        Assert.That(user!.Arguments.Split(':')[0], Is.Not.EqualTo("root").And.Not.EqualTo("0"));

        var exposed = final.All("EXPOSE").SelectMany(e => Dockerfile.Words(e.Arguments)).Select(p => int.Parse(p.Split('/')[0])).ToList();
        Assert.That(exposed, Is.EqualTo(new[] { Deployment.ServicePort }));
        Assert.That(final.Env, Does.ContainKey("ASPNETCORE_URLS"));
        var url = new Uri(final.Env["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(url.Scheme, Is.EqualTo("http"));
            Assert.That(url.Port, Is.EqualTo(Deployment.ServicePort), "ASPNETCORE_URLS listens on the EXPOSEd port");
            Assert.That(final.Env["ASPNETCORE_URLS"], Does.StartWith("http://+:").Or.StartWith("http://0.0.0.0:").Or.StartWith("http://*:"), "all interfaces, not loopback");
        });
    }

    [TestCaseSource(nameof(Services))]
    public void Healthcheck_asks_the_liveness_path_with_a_script_the_image_contains(Service service)
    {
        var final = Dockerfile.Load(Deployment.DockerfileOf(service)).Final;
        var healthcheck = final.All("HEALTHCHECK").SingleOrDefault();
        Assert.That(healthcheck, Is.Not.Null, "the final stage has a HEALTHCHECK");
        var command = healthcheck!.ExecForm(after: "CMD");
        Assert.That(command, Is.Not.Null.And.Count.EqualTo(2), "HEALTHCHECK CMD [\"tt-healthcheck\", \"<path>\"]");
        Assert.That(command![1], Is.EqualTo(ServiceDefaultLiveness(service)), "the liveness path of the options' defaults");

        var installs = final.All("COPY").Select(c => c.Split().Words).Where(w => w.Count == 2).ToList();
        var script = installs.SingleOrDefault(w => w[1] == "/usr/local/bin/" + command[0]);
        Assert.That(script, Is.Not.Null, $"{command[0]} is copied to /usr/local/bin");
        Assert.That(script![0], Is.EqualTo(Deployment.HealthcheckScript));
        Assert.That(final.All("COPY").Single(c => c.Arguments.Contains(command[0], StringComparison.Ordinal)).Split().Flags, Does.ContainKey("chmod"), "the script is made executable");
    }

    [TestCaseSource(nameof(Services))]
    public void Entrypoint_starts_the_service_assembly_that_the_build_stage_publishes(Service service)
    {
        var d = Dockerfile.Load(Deployment.DockerfileOf(service));
        var entry = d.Final.All("ENTRYPOINT").Single().ExecForm();
        Assert.That(entry, Is.EqualTo(new[] { "dotnet", Deployment.EntryAssemblyOf(service) }));

        var publish = d.Stages.SelectMany(s => s.All("RUN")).Select(r => Dockerfile.Words(r.Arguments).ToList())
            .SingleOrDefault(w => w.Contains("publish"));
        Assert.That(publish, Is.Not.Null, "a stage runs dotnet publish");
        var project = publish![publish.IndexOf("publish") + 1];
        Assert.That(project, Is.EqualTo(Deployment.ProjectOf(service)));
        Assert.That(File.Exists(Repo.PathOf(project)), Is.True, $"{project} exists");
        var output = publish[publish.IndexOf("-o") + 1];
        var copied = d.Final.All("COPY").Select(c => c.Split()).SingleOrDefault(c => c.Flags.TryGetValue("from", out var from) && d.Stage(from) is not null);
        Assert.That(copied.Words, Is.Not.Null, "the final stage copies the published output from a build stage");
        Assert.That(copied.Words[0].TrimEnd('/'), Is.EqualTo(output.TrimEnd('/')));
    }

    [TestCaseSource(nameof(Services))]
    public void Build_stage_copies_every_project_the_service_references(Service service)
    {
        var d = Dockerfile.Load(Deployment.DockerfileOf(service));
        var build = d.Stages.Single(s => s.All("RUN").Any(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal)));
        var copied = build.All("COPY").Select(c => c.Split()).Where(c => !c.Flags.ContainsKey("from"))
            .SelectMany(c => c.Words.Take(c.Words.Count - 1)).Select(p => p.TrimEnd('/')).ToList();

        foreach (var file in new[] { "global.json", "nuget.config", "Directory.Build.props", "Directory.Packages.props", ".editorconfig" })
        {
            Assert.That(copied, Does.Contain(file), $"{file} shapes the build and must be in the build stage");
        }
        var projects = ProjectClosure(Deployment.ProjectOf(service));
        Assert.That(projects, Has.Count.GreaterThan(2), "the service references its libraries");
        foreach (var project in projects)
        {
            var dir = project[..project.LastIndexOf('/')];
            Assert.That(copied.Any(c => dir == c || dir.StartsWith(c + "/", StringComparison.Ordinal)), Is.True,
                $"{project} is referenced by {Deployment.ProjectOf(service)} but its folder is not copied into the build stage ({string.Join(", ", copied)})");
        }
    }

    [Test]
    public void Collector_gets_from_the_node_stage_every_tag_file_its_build_embeds_or_ships()
    {
        var d = Dockerfile.Load(Deployment.DockerfileOf(Service.Collector));
        var node = d.Stages.Single(s => s.Image.StartsWith("node:20", StringComparison.Ordinal));
        var build = d.Stages.Single(s => s.All("RUN").Any(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal)));
        var workdir = build.All("WORKDIR").Last().Arguments.TrimEnd('/');
        var fromNode = build.All("COPY").Select(c => c.Split())
            .Where(c => c.Flags.TryGetValue("from", out var f) && f == node.Name)
            .Select(c => c.Words[^1].TrimEnd('/'))
            .Select(dest => dest.StartsWith('/') ? dest : workdir + "/" + dest)
            .ToList();
        Assert.That(fromNode, Is.Not.Empty, "the build stage copies the node stage's output");

        // The files the collector project takes from the tag folder when it builds (TagDir = ../../tag/ from
        // collector/TouchpointTracker.Collector/, that is <workdir>/tag): the bundles it embeds and the files it ships beside itself.
        var csproj = XDocument.Load(Repo.PathOf(Deployment.ProjectOf(Service.Collector)));
        Assert.That(csproj.Descendants("TagDir").Single().Value, Is.EqualTo("$(MSBuildThisFileDirectory)../../tag/"));
        var embedTarget = csproj.Descendants("Target").Single(t => t.Attribute("Name")?.Value == "EmbedTag");
        var tagFiles = embedTarget.Descendants().Select(e => e.Attribute("Include")?.Value)
            .Where(i => i is not null && i.StartsWith("$(TagDir)", StringComparison.Ordinal))
            .Select(i => workdir + "/tag/" + i!["$(TagDir)".Length..])
            .ToList();
        Assert.That(tagFiles, Has.Count.GreaterThanOrEqualTo(1), "the collector embeds tag/dist/*.js");
        foreach (var file in tagFiles)
        {
            var folder = file.Contains('*', StringComparison.Ordinal) ? file[..file.LastIndexOf('/')] : file;
            Assert.That(fromNode.Any(dest => folder == dest || folder.StartsWith(dest + "/", StringComparison.Ordinal)), Is.True,
                $"the collector's build reads {file}, which the build stage does not copy from the node stage ({string.Join(", ", fromNode)})");
        }

        var publish = build.All("RUN").Single(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.That(publish.Arguments, Does.Contain("-p:SkipTagBuild=true"), "the SDK stage has no Node: MSBuild must not run npm again");
    }

    [Test]
    public void Collector_ships_the_uap_core_rules_pinned_in_the_enrichment_project()
    {
        // The user-agent rules come with the enrichment project's sources, which the build stage copies, and
        // land beside the binary where the collector looks by default (collector Ingest/EnrichmentSetup.cs).
        const string project = "collector/TouchpointTracker.Enrichment/TouchpointTracker.Enrichment.csproj";
        var csproj = XDocument.Load(Repo.PathOf(project));
        var shipped = csproj.Descendants("None")
            .Where(n => n.Attribute("CopyToOutputDirectory") is not null && n.Attribute("Link")?.Value == "uap-core/%(Filename)%(Extension)")
            .SelectMany(n => (n.Attribute("Update") ?? n.Attribute("Include"))!.Value.Split(';'))
            .ToList();
        Assert.That(shipped, Does.Contain("UserAgents/uap-core/regexes.yaml"), $"{project} ships uap-core/regexes.yaml beside the binary");
        Assert.That(File.Exists(Repo.PathOf("collector/TouchpointTracker.Enrichment/UserAgents/uap-core/regexes.yaml")), Is.True);
        Assert.That(csproj.Descendants("Error").Any(e => e.Attribute("Condition")?.Value.Contains("!Exists('$(UapCoreRegexes)')", StringComparison.Ordinal) == true),
            Is.True, "a Release build without the rules fails");

        var ignore = new DockerIgnore(Repo.Read(".dockerignore"));
        Assert.That(ignore.Excludes("collector/TouchpointTracker.Enrichment/UserAgents/uap-core/regexes.yaml"), Is.False);
        var d = Dockerfile.Load(Deployment.DockerfileOf(Service.Collector));
        Assert.That(d.Stages.SelectMany(s => s.All("COPY")).Select(c => c.Arguments), Has.None.Contains("uap-core"),
            "no copy of uap-core from elsewhere (the tag's npm folder) competes with the pinned one");
    }

    [TestCaseSource(nameof(Services))]
    public void Runtime_image_installs_the_libraries_librdkafka_links(Service service)
    {
        var library = FindLibrdkafka();
        var needed = Elf.Needed(library);
        Assert.That(needed, Is.Not.Empty);
        var missing = needed.Where(n => !Glibc.Contains(n)).ToList();
        var unknown = missing.Where(n => !PackageOfLibrary.ContainsKey(n)).ToList();
        Assert.That(unknown, Is.Empty, $"{library} links libraries this test does not know the package of: add them here and to the Dockerfiles");

        var final = Dockerfile.Load(Deployment.DockerfileOf(service)).Final;
        var installed = final.All("RUN").SelectMany(r => Dockerfile.Words(r.Arguments)).ToHashSet(StringComparer.Ordinal);
        foreach (var lib in missing)
        {
            Assert.That(installed, Does.Contain(PackageOfLibrary[lib]), $"librdkafka.so needs {lib}: the final stage must apt-get install {PackageOfLibrary[lib]}");
        }
    }

    /// <summary>Libraries every .NET runtime image has besides glibc: the runtime itself links them (libstdc++6, libgcc-s1).</summary>
    private static readonly HashSet<string> DotnetRuntimeLibraries = new(StringComparer.Ordinal) { "libstdc++.so.6", "libgcc_s.so.1" };

    [Test]
    public void Processor_image_keeps_duckdbs_linux_native_library_for_the_analytics_role()
    {
        // The portable publish puts DuckDB.NET.Data.Full's native builds under runtimes/<rid>/native (as in this
        // test's output, which references the processor): the Dockerfile's pruning must keep the Linux ones.
        foreach (var rid in new[] { "linux-x64", "linux-arm64" })
        {
            var library = Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", "libduckdb.so");
            Assert.That(File.Exists(library), Is.True, $"DuckDB.NET.Data.Full ships runtimes/{rid}/native/libduckdb.so in a portable publish");
        }
        var d = Dockerfile.Load(Deployment.DockerfileOf(Service.Processor));
        var publish = d.Stages.SelectMany(s => s.All("RUN")).Single(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.That(publish.Arguments, Does.Not.Contain(" -r ").And.Not.Contain("--runtime"), "a portable publish keeps runtimes/<rid>/native");
        var words = Dockerfile.Words(publish.Arguments).ToList();
        var find = words.IndexOf("find");
        if (find >= 0)
        {
            var kept = words.Skip(find).Select((w, i) => (w, i)).Where(x => x.w == "-name").Select(x => words[find + x.i + 1]).ToList();
            Assert.That(kept, Is.SupersetOf(new[] { "linux-x64", "linux-arm64" }), "the pruning of /app/runtimes keeps the Linux builds of libduckdb.so (and librdkafka.so)");
        }

        var needed = Elf.Needed(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libduckdb.so"));
        Assert.That(needed.Where(n => !Glibc.Contains(n) && !DotnetRuntimeLibraries.Contains(n)), Is.Empty,
            "libduckdb.so links only what the aspnet runtime image has: otherwise install it in the final stage");
    }

    [TestCaseSource(nameof(Services))]
    public void Everything_copied_from_the_context_exists_and_is_not_dockerignored(Service service)
    {
        var ignore = new DockerIgnore(Repo.Read(".dockerignore"));
        var d = Dockerfile.Load(Deployment.DockerfileOf(service));
        var sources = d.Stages.SelectMany(s => s.All("COPY").Concat(s.All("ADD"))).Select(c => c.Split())
            .Where(c => !c.Flags.ContainsKey("from"))
            .SelectMany(c => c.Words.Take(c.Words.Count - 1))
            .ToList();
        Assert.That(sources, Is.Not.Empty);
        foreach (var source in sources)
        {
            var path = Repo.PathOf(source);
            Assert.That(File.Exists(path) || Directory.Exists(path), Is.True, $"COPY {source}: not in the repository");
            Assert.That(ignore.Excludes(source), Is.False, $"COPY {source}: .dockerignore leaves it out of the build context");
        }
    }

    [Test]
    public void Dockerignore_keeps_host_build_output_out_of_the_context()
    {
        var ignore = new DockerIgnore(Repo.Read(".dockerignore"));
        Assert.Multiple(() =>
        {
            // A host obj/project.assets.json names host paths and breaks the restore in the image.
            Assert.That(ignore.Excludes("collector/TouchpointTracker.Collector/obj/project.assets.json"), Is.True);
            Assert.That(ignore.Excludes("collector/TouchpointTracker.Contracts/bin/Debug/net10.0/TouchpointTracker.Contracts.dll"), Is.True);
            Assert.That(ignore.Excludes("processor/TouchpointTracker.Journeys/obj/x"), Is.True);
            Assert.That(ignore.Excludes("tag/node_modules/esbuild/package.json"), Is.True);
            Assert.That(ignore.Excludes(".git/HEAD"), Is.True);
            // ...and the sources in.
            Assert.That(ignore.Excludes("collector/TouchpointTracker.Collector/Program.cs"), Is.False);
            Assert.That(ignore.Excludes("processor/TouchpointTracker.Journeys/stage-rules.default.yaml"), Is.False);
            Assert.That(ignore.Excludes("tag/src/main.js"), Is.False);
        });
    }

    /// <summary>A project and every project it references, transitively, as repository-relative paths.</summary>
    private static List<string> ProjectClosure(string project)
    {
        var seen = new List<string>();
        var queue = new Queue<string>([project]);
        while (queue.TryDequeue(out var p))
        {
            if (seen.Contains(p))
            {
                continue;
            }
            seen.Add(p);
            var dir = Path.GetDirectoryName(Repo.PathOf(p))!;
            foreach (var reference in XDocument.Load(Repo.PathOf(p)).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                queue.Enqueue(Repo.Relative(Path.GetFullPath(Path.Combine(dir, include))));
            }
        }
        return seen;
    }

    /// <summary>librdkafka.redist's generic Linux x64 build: in this test's output, else in the NuGet cache.</summary>
    private static string FindLibrdkafka()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so");
        if (File.Exists(local))
        {
            return local;
        }
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var candidates = Directory.Exists(Path.Combine(packages, "librdkafka.redist"))
            ? Directory.GetFiles(Path.Combine(packages, "librdkafka.redist"), "librdkafka.so", SearchOption.AllDirectories).Where(f => f.Contains("linux-x64", StringComparison.Ordinal)).ToList()
            : [];
        Assert.That(candidates, Is.Not.Empty, "librdkafka.redist's linux-x64 librdkafka.so was not found");
        return candidates[0];
    }
}
