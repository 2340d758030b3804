using System.Text;
using Gateway.Tests.EndToEnd;

namespace Gateway.Tests.CommandLine;

/// <summary>
/// <c>gateway --mode validate</c> on files made to crash a loader (issue 9): each prints the config
/// error and exits 1; none ends the process with a stack overflow or an unhandled exception.
/// </summary>
public sealed class HostileConfigTests
{
    [Theory]
    [InlineData("deep nesting", "nesting deeper than 100 levels of mappings and lists")]
    [InlineData("byte flip", "unable to parse YAML/JSON: ")]
    [InlineData("alias bomb", "YAML aliases expand to more than 100000 nodes")]
    [InlineData("invalid UTF-8", "invalid UTF-8 (bytes 0xFF")]
    public async Task ValidateMode_HostileFile_PrintsConfigErrorAndExitsOne(string input, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"gateway-hostile-{Guid.NewGuid():N}.yaml");
        await File.WriteAllBytesAsync(file, Content(input));
        try
        {
            var result = await GatewayCli.RunAsync("--mode", "validate", "-c", file);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains($"error initializing configuration '{file}': {file}:", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Combined, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", result.Combined, StringComparison.Ordinal);
            Assert.DoesNotContain("OK", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static byte[] Content(string input)
    {
        var simple = File.ReadAllText(Path.Combine(TestPaths.ExamplesDirectory, "simple.yaml")).ReplaceLineEndings("\n");
        switch (input)
        {
            case "deep nesting":
                return Encoding.UTF8.GetBytes("static_resources: " + new string('[', 20_000) + new string(']', 20_000) + "\n");
            case "byte flip":
                // One byte of the example changed (' ' to '#'): YamlDotNet's scanner throws InvalidOperationException on it.
                var bytes = Encoding.UTF8.GetBytes(simple);
                var at = simple.IndexOf("socket_address: { address:", StringComparison.Ordinal) + "socket_address: {".Length;
                Assert.Equal((byte)' ', bytes[at]);
                bytes[at] = (byte)'#';
                return bytes;
            case "alias bomb":
                return Encoding.UTF8.GetBytes(AliasBomb());
            default:
                var utf8 = Encoding.UTF8.GetBytes(simple);
                utf8[simple.IndexOf("httpbin", StringComparison.Ordinal)] = 0xFF;
                return utf8;
        }
    }

    /// <summary>Ten levels of lists of ten aliases: 10^10 nodes once expanded, from under 1 KB.</summary>
    private static string AliasBomb()
    {
        var builder = new StringBuilder("!ignore a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 10; level++)
        {
            builder.Append($"!ignore a{level}: &a{level} [").AppendJoin(", ", Enumerable.Repeat($"*a{level - 1}", 10)).Append("]\n");
        }
        return builder.Append("static_resources: { clusters: *a9 }\n").ToString();
    }
}
