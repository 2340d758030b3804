namespace Gateway.Tests.EndToEnd;

/// <summary>Where the repository, its fixtures and the built gateway are, seen from the test assembly.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> LazyRepositoryRoot = new(FindRepositoryRoot);

    /// <summary>The folder holding <c>Gateway.sln</c>.</summary>
    public static string RepositoryRoot => LazyRepositoryRoot.Value;

    /// <summary>The seed configs of the repository (<c>examples/</c>).</summary>
    public static string ExamplesDirectory => Path.Combine(RepositoryRoot, "examples");

    /// <summary>The repository's own real-world style Envoy configs (standing in for <c>../shared/envoy-configs</c>).</summary>
    public static string EnvoyConfigFixturesDirectory => Path.Combine(RepositoryRoot, "tests", "Gateway.Core.Tests", "Configuration", "EnvoyConfigs");

    /// <summary>The gateway executable's assembly, copied next to the test assembly by the ProjectReference.</summary>
    public static string GatewayDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
            var runtimeConfig = Path.Combine(AppContext.BaseDirectory, "gateway.runtimeconfig.json");
            if (!File.Exists(dll) || !File.Exists(runtimeConfig))
            {
                throw new InvalidOperationException(
                    $"gateway.dll or gateway.runtimeconfig.json is missing from '{AppContext.BaseDirectory}'; " +
                    "the Gateway.Host ProjectReference should copy them next to the test assembly.");
            }
            return dll;
        }
    }

    /// <summary>The sample's API key filter folder (its <c>envoy.yaml</c>).</summary>
    public static string ApiKeySampleDirectory => Path.Combine(RepositoryRoot, "samples", "ApiKeyFilter");

    /// <summary>
    /// The sample custom gateway (<c>samples/ApiKeyGateway</c>), built in the test assembly's configuration (its
    /// ProjectReference, without the assembly, orders the build): <c>samples/ApiKeyGateway/bin/&lt;configuration&gt;/&lt;tfm&gt;/</c>.
    /// </summary>
    public static string SampleGatewayDll
    {
        get
        {
            var output = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
            var dll = Path.Combine(RepositoryRoot, "samples", "ApiKeyGateway", "bin", output.Parent!.Name, output.Name, "ApiKeyGateway.dll");
            if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
            {
                throw new InvalidOperationException($"'{dll}' (or its runtimeconfig.json) is missing; build the solution, or samples/ApiKeyGateway, first.");
            }
            return dll;
        }
    }

    /// <summary>The dotnet muxer: the one running the tests when it is <c>dotnet</c>, else DOTNET_HOST_PATH, else <c>dotnet</c> on PATH.</summary>
    public static string DotnetHost
    {
        get
        {
            var current = Environment.ProcessPath;
            if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
            {
                return current;
            }
            var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            {
                return hostPath;
            }
            return "dotnet";
        }
    }

    /// <summary>A seed config file from <c>examples/</c>, read as it is.</summary>
    public static string ReadExample(string fileName) => File.ReadAllText(Path.Combine(ExamplesDirectory, fileName));

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
