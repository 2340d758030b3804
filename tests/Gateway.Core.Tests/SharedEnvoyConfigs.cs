namespace Gateway.Tests;

/// <summary>
/// The real Envoy configs kept next to the repository (<c>../shared/envoy-configs</c>), not in it. Tests that read
/// them use <see cref="SharedEnvoyConfigsFactAttribute"/> or <see cref="SharedEnvoyConfigsTheoryAttribute"/>:
/// when the folder is missing they are skipped with a message, except under <c>CI=true</c>, where they run and
/// fail (CI always has the folder, so a missing one is a broken setup). The repository's own fixtures
/// (<c>Configuration/EnvoyConfigs/</c>) cover the same cases everywhere. <c>GATEWAY_SHARED_ENVOY_CONFIGS</c>
/// names another folder, which is how both behaviours are checked without touching the shared one.
/// This file is compiled into both test projects.
/// </summary>
internal static class SharedEnvoyConfigs
{
    /// <summary>The environment variable that replaces the folder's default location.</summary>
    public const string DirectoryVariable = "GATEWAY_SHARED_ENVOY_CONFIGS";

    private static readonly Lazy<string> LazyDirectory = new(() =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(FindRepositoryRoot(), "..", "shared", "envoy-configs")));

    /// <summary>The folder of the shared configs.</summary>
    public static string Directory => LazyDirectory.Value;

    /// <summary>True when the folder exists.</summary>
    public static bool Available => System.IO.Directory.Exists(Directory);

    /// <summary>Why the tests of the shared configs are skipped, or null when they run (the folder exists, or CI).</summary>
    public static string? SkipReason => SkipReasonFor(Directory, Available, Environment.GetEnvironmentVariable("CI"));

    /// <summary>The rule: skip only when the folder is missing outside CI (<c>CI=true</c>, any case).</summary>
    public static string? SkipReasonFor(string directory, bool exists, string? ci)
        => exists || string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"the shared Envoy configs are not at '{directory}' (set {DirectoryVariable} to their folder); the repository's fixtures in Configuration/EnvoyConfigs cover the same cases";

    /// <summary>The message a test fails with under CI when the folder is missing.</summary>
    public static string MissingMessage
        => $"The shared Envoy configs are expected at '{Directory}' (next to the repository, or where {DirectoryVariable} points); with CI=true they must be there.";

    /// <summary>The path of <paramref name="fileName"/> in the folder; fails the test when the folder is missing.</summary>
    public static string PathOf(string fileName)
    {
        Assert.True(Available, MissingMessage);
        var path = Path.Combine(Directory, fileName);
        Assert.True(File.Exists(path), $"missing shared config {path}");
        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No folder containing Gateway.sln above '{AppContext.BaseDirectory}'.");
    }
}

/// <summary>A fact about the shared Envoy configs: skipped with a message when they are missing outside CI.</summary>
internal sealed class SharedEnvoyConfigsFactAttribute : FactAttribute
{
    public SharedEnvoyConfigsFactAttribute() => Skip = SharedEnvoyConfigs.SkipReason;
}

/// <summary>A theory about the shared Envoy configs: skipped with a message when they are missing outside CI.</summary>
internal sealed class SharedEnvoyConfigsTheoryAttribute : TheoryAttribute
{
    public SharedEnvoyConfigsTheoryAttribute() => Skip = SharedEnvoyConfigs.SkipReason;
}
