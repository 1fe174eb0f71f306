using System.Text.RegularExpressions;
using TouchpointTracker.Infra.Tests.Support;

namespace TouchpointTracker.Infra.Tests;

/// <summary>docs/operations.md names real metrics, real settings and every deployment file.</summary>
public sealed partial class OperationsDocTests
{
    private const string Doc = "docs/operations.md";

    [GeneratedRegex(@"\btt_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"`((?:infra/|\.dockerignore)[A-Za-z0-9_./-]*)`")]
    private static partial Regex FilePath();

    [GeneratedRegex(@"\b([A-Z][A-Za-z]+)__([A-Za-z][A-Za-z0-9]*)\b")]
    private static partial Regex SettingName();

    [Test]
    public void Every_metric_it_names_is_defined_in_the_code()
    {
        var code = string.Join('\n', new[] { "collector", "processor" }
            .SelectMany(d => Directory.GetFiles(Repo.PathOf(d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var named = MetricName().Matches(Repo.Read(Doc)).Select(m => m.Value).Distinct().ToList();
        Assert.That(named, Has.Count.GreaterThan(10), "the doc says which metrics to watch");
        foreach (var metric in named)
        {
            var defined = Regex.Replace(metric, "_(bucket|sum|count)$", "");
            Assert.That(code, Does.Contain($"\"{defined}\""), $"{Doc} names {metric}, which no code in collector/ or processor/ defines");
        }
    }

    [Test]
    public void Every_setting_it_names_binds_to_an_options_property()
    {
        var text = Repo.Read(Doc);
        var settings = SettingName().Matches(text).Select(m => m.Value).Where(m => m != "Section__Key").Distinct().ToList();
        Assert.That(settings, Has.Count.GreaterThan(5));
        foreach (var setting in settings)
        {
            var section = setting[..setting.IndexOf("__", StringComparison.Ordinal)];
            var key = setting[(section.Length + 2)..];
            var found = new[] { Service.Collector, Service.Processor }
                .SelectMany(ServiceSettings.OptionsOf)
                .Any(o => o.Section == section && o.Type.GetProperty(key) is not null);
            Assert.That(found || (section == "Logging" && key == "Json"), Is.True, $"{Doc} names {setting}, which no options class has");
        }
    }

    [Test]
    public void Every_deployment_file_is_described_and_every_path_it_names_exists()
    {
        var text = Repo.Read(Doc);
        var named = FilePath().Matches(text).Select(m => m.Groups[1].Value.TrimEnd('/')).Distinct().ToList();
        foreach (var path in named)
        {
            Assert.That(File.Exists(Repo.PathOf(path)) || Directory.Exists(Repo.PathOf(path)), Is.True, $"{Doc} names {path}, which does not exist");
        }
        // The deployment files (infra/bench and the like belong to others and are not deployed).
        var files = new[] { "infra/docker", "infra/nginx", "infra/k8s" }
            .SelectMany(d => Directory.GetFiles(Repo.PathOf(d), "*", SearchOption.AllDirectories))
            .Select(Repo.Relative)
            .Append(Deployment.ComposeFile)
            .Append(".dockerignore")
            .ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(10));
        foreach (var file in files)
        {
            Assert.That(named, Does.Contain(file), $"{Doc} should say what {file} is for");
        }
    }
}
