using System.Text.RegularExpressions;
using Gateway.Tests.EndToEnd;

namespace Gateway.Tests.CommandLine;

/// <summary>
/// Every real Envoy config in <c>../shared/envoy-configs/*.yaml</c> under <c>--mode validate</c>: loads (exit 0) or is
/// rejected (exit 1) with a message naming a field path; never a crash or a stack trace.
/// </summary>
public sealed partial class RealEnvoyConfigTests
{
    private const string MissingFolder = "<shared/envoy-configs missing>";

    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackTraceLine();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*):", RegexOptions.Multiline)]
    private static partial Regex TopLevelKey();

    public static TheoryData<string> EnvoyConfigs()
    {
        var data = new TheoryData<string>();
        var dir = TestPaths.SharedEnvoyConfigsDirectory;
        if (!Directory.Exists(dir))
        {
            data.Add(MissingFolder);
            return data;
        }
        foreach (var file in Directory.GetFiles(dir, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EnvoyConfigs))]
    public async Task ValidateMode_RealEnvoyConfig_ExitsCleanlyNamingFieldOnError(string fileName)
    {
        Assert.True(fileName != MissingFolder, $"The shared Envoy configs are expected at '{TestPaths.SharedEnvoyConfigsDirectory}' (next to the repository).");
        var path = Path.Combine(TestPaths.SharedEnvoyConfigsDirectory, fileName);

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
