using System.Xml.Linq;
using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>The project rules of docs/architecture.md, read from the project files themselves.</summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Services = ["TouchpointTracker.Collector", "TouchpointTracker.Processor"];

    /// <summary>Projects that must stay pure (no I/O), and the only projects they may reference.</summary>
    private static readonly Dictionary<string, string[]> Pure = new(StringComparer.Ordinal)
    {
        ["TouchpointTracker.Contracts"] = [],
        ["TouchpointTracker.Enrichment"] = ["TouchpointTracker.Contracts"],
        ["TouchpointTracker.Journeys"] = ["TouchpointTracker.Contracts", "TouchpointTracker.Attribution"],
        ["TouchpointTracker.Attribution"] = [],
    };

    private static Dictionary<string, (string Folder, List<string> References, string Xml)> Projects()
    {
        var projects = new Dictionary<string, (string, List<string>, string)>(StringComparer.Ordinal);
        foreach (var top in new[] { "collector", "processor" })
        {
            foreach (var file in Directory.GetFiles(Repo.PathOf(top), "*.csproj", SearchOption.AllDirectories))
            {
                var xml = File.ReadAllText(file);
                var references = XDocument.Parse(xml).Descendants("ProjectReference")
                    .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
                    .ToList();
                projects[Path.GetFileNameWithoutExtension(file)] = (Repo.Relative(Path.GetDirectoryName(file)!), references, xml);
            }
        }
        return projects;
    }

    [Test]
    public void Every_project_sits_in_a_folder_of_its_name_one_level_under_its_service_and_nests_no_other()
    {
        var projects = Projects();
        Assert.That(projects.Keys, Is.SupersetOf(Services.Concat(Pure.Keys)));
        Assert.Multiple(() =>
        {
            foreach (var (name, (folder, _, xml)) in projects)
            {
                var parts = folder.Split('/');
                Assert.That(parts, Has.Length.EqualTo(2), $"{name} is in {folder}");
                Assert.That(parts[^1], Is.EqualTo(name), $"{name} is in {folder}");
                var excludes = XDocument.Parse(xml).Descendants().Where(e => e.Name.LocalName.EndsWith("ItemExcludes", StringComparison.Ordinal)).ToList();
                Assert.That(excludes, Is.Empty, $"{name} excludes folders from its items: a project nested in it?");
            }
        });
    }

    [Test]
    public void Libraries_never_reference_a_service_and_pure_projects_reference_only_contracts()
    {
        var projects = Projects();
        Assert.Multiple(() =>
        {
            foreach (var (name, (_, references, _)) in projects)
            {
                if (Pure.TryGetValue(name, out var allowed))
                {
                    Assert.That(references, Is.SubsetOf(allowed), $"{name} must stay pure");
                }
                Assert.That(references.Intersect(Services), Is.Empty, $"{name} references a service");
            }
        });
    }

    [Test]
    public void There_is_no_project_reference_cycle()
    {
        var projects = Projects();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        string? Visit(string name, List<string> path)
        {
            if (state.GetValueOrDefault(name) == 2 || !projects.TryGetValue(name, out var project))
            {
                return null;
            }
            if (state.GetValueOrDefault(name) == 1)
            {
                return string.Join(" -> ", path.Append(name));
            }
            state[name] = 1;
            path.Add(name);
            foreach (var reference in project.References)
            {
                if (Visit(reference, path) is { } cycle)
                {
                    return cycle;
                }
            }
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            return null;
        }
        foreach (var name in projects.Keys)
        {
            Assert.That(Visit(name, []), Is.Null, "project reference cycle");
        }
    }
}
