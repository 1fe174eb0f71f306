namespace TouchpointTracker.Infra.Tests.Support;

/// <summary>Paths in the repository under test (found from the test assembly's folder upwards).</summary>
public static class Repo
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TouchpointTracker.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No TouchpointTracker.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootPath.Value;

    /// <summary>Absolute path of a repository-relative path written with '/'.</summary>
    public static string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar)));

    public static string Read(string relative)
    {
        var path = PathOf(relative);
        Assert.That(File.Exists(path), Is.True, $"{relative} is missing");
        return File.ReadAllText(path);
    }

    /// <summary>Repository-relative form ('/'-separated) of an absolute path.</summary>
    public static string Relative(string absolute) => Path.GetRelativePath(Root, absolute).Replace(Path.DirectorySeparatorChar, '/');
}
