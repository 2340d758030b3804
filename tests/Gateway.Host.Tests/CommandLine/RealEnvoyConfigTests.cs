using System.Text.RegularExpressions;
using Gateway.Tests.EndToEnd;

namespace Gateway.Tests.CommandLine;

/// <summary>
/// Real-world Envoy configs under <c>--mode validate</c>: each loads (exit 0) or is rejected (exit 1) with a message
/// naming a field path; never a crash or a stack trace. The repository's own ones
/// (<c>Gateway.Core.Tests/Configuration/EnvoyConfigs</c>) always run; the Envoy project's, in
/// <c>../shared/envoy-configs</c>, run where that folder is (see <see cref="SharedEnvoyConfigs"/>).
/// </summary>
public sealed partial class RealEnvoyConfigTests
{
    private const string MissingFolder = "<shared/envoy-configs missing>";

    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackTraceLine();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*):", RegexOptions.Multiline)]
    private static partial Regex TopLevelKey();

    public static TheoryData<string> SharedConfigs()
    {
        var data = new TheoryData<string>();
        if (!SharedEnvoyConfigs.Available)
        {
            // Only reached under CI (elsewhere the theory is skipped): one case that fails saying why.
            data.Add(MissingFolder);
            return data;
        }
        foreach (var file in Directory.GetFiles(SharedEnvoyConfigs.Directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    public static TheoryData<string> FixtureConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPaths.EnvoyConfigFixturesDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [SharedEnvoyConfigsTheory]
    [MemberData(nameof(SharedConfigs))]
    public async Task ValidateMode_RealEnvoyConfig_ExitsCleanlyNamingFieldOnError(string fileName)
    {
        Assert.True(fileName != MissingFolder, SharedEnvoyConfigs.MissingMessage);

        await ValidateExitsCleanlyAsync(SharedEnvoyConfigs.PathOf(fileName));
    }

    [Theory]
    [MemberData(nameof(FixtureConfigs))]
    public async Task ValidateMode_FixtureEnvoyConfig_ExitsCleanlyNamingFieldOnError(string fileName)
    {
        await ValidateExitsCleanlyAsync(Path.Combine(TestPaths.EnvoyConfigFixturesDirectory, fileName));
    }

    private static async Task ValidateExitsCleanlyAsync(string path)
    {
        var result = await GatewayCli.RunAsync("--mode", "validate", "-c", path);

        Assert.True(result.ExitCode is 0 or 1, $"exit code must be 0 or 1. {result}");
        Assert.DoesNotContain("Unhandled exception", result.Combined, StringComparison.OrdinalIgnoreCase);
        Assert.False(StackTraceLine().IsMatch(result.Combined), $"stack trace in the output. {result}");
        if (result.ExitCode == 0)
        {
            Assert.Equal($"configuration '{path}' OK\n", result.Stdout);
        }
        else
        {
            // A field path starts at one of the file's top-level keys: `static_resources.clusters[0].x`, `admin.y`, `listeners`.
            var keys = TopLevelKey().Matches(await File.ReadAllTextAsync(path)).Select(m => Regex.Escape(m.Groups[1].Value)).Distinct();
            var fieldPath = new Regex($@"\b(?:{string.Join('|', keys)})(?:(?:\[\d+\])?\.[A-Za-z_@][A-Za-z0-9_]*)*(?:\[\d+\])?(?=[.:\s']|$)");
            var named = fieldPath.Matches(result.Stderr).Any(m => m.Value.Contains('.', StringComparison.Ordinal) || m.Value.Contains('[', StringComparison.Ordinal)
                || result.Stderr.AsSpan(m.Index + m.Length).StartsWith(":", StringComparison.Ordinal));
            Assert.True(named, $"exit 1 without naming a field path. {result}");
            Assert.DoesNotContain(" OK", result.Stdout, StringComparison.Ordinal);
        }
    }
}
