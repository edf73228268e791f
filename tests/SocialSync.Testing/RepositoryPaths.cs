namespace SocialSync.Testing;

public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string PostgresScript => Path.Combine(Root, "SocialSync.AppHost", "scripts", "postgres.sh");

    /// <summary>The built assembly of a service, from the same configuration the tests were built with.</summary>
    public static string ServiceAssembly(string project)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(Root, project, "bin", configuration, "net10.0", $"{Path.GetFileName(project)}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first ({configuration}).", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SocialSync.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("SocialSync.sln not found above " + AppContext.BaseDirectory);
    }
}
