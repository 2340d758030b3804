using System.Diagnostics;

namespace Gateway.Tests.Stats;

/// <summary>Runs <c>promtool check metrics</c> (Debian package <c>prometheus</c>) on exposition text.</summary>
internal static class Promtool
{
    private const string Path = "/usr/bin/promtool";

    private static readonly string[] ExpectedLint =
    [
        " no help text",
        " counter metrics should have \"_total\" suffix",
        " non-counter metrics should not have \"_total\" suffix",
        " metric names should not contain abbreviated units",
        " use base unit \"seconds\" instead of \"days\"",
    ];

    public static void AssertValid(string text)
    {
        if (!File.Exists(Path))
        {
            Assert.Fail($"promtool is needed for this check: apt-get install prometheus ({Path} not found){(Environment.GetEnvironmentVariable("CI") == "true" ? "; .ci/run must install it" : string.Empty)}");
        }
        var psi = new ProcessStartInfo(Path, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        process.StandardInput.Write(text);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        // Exit 0 is clean, 3 is lint findings only, 1 is a format error. Envoy's own names draw naming-style lint
        // (no HELP lines, counters without "_total", the gauge membership_total, "_ms" units, "days"): exactly those
        // categories are expected; anything else (duplicates, bad values, parse errors) fails.
        Assert.True(process.ExitCode is 0 or 3, $"promtool check metrics failed to parse ({process.ExitCode}):\n{output}\n--- input ---\n{text}");
        var unexpected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !ExpectedLint.Any(finding => line.Contains(finding, StringComparison.Ordinal)))
            .ToList();
        Assert.True(unexpected.Count == 0, $"unexpected promtool findings:\n{string.Join('\n', unexpected)}\n--- input ---\n{text}");
    }
}
