using System.Diagnostics;
using Xunit.Abstractions;

namespace Gateway.Tests.Tls;

/// <summary>Independent TLS clients (<c>curl</c>, <c>openssl</c>) run as processes by the downstream TLS tests.</summary>
internal static class CommandLineTools
{
    /// <summary>True when the program is installed; in CI (CI=true) a missing one fails the test, elsewhere it is skipped with a message.</summary>
    public static bool Installed(ITestOutputHelper output, string path)
    {
        if (File.Exists(path))
        {
            return true;
        }
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"{path} is needed for this test: .ci/run must install it");
        output.WriteLine($"skipped: {path} is not installed (apt-get install {Path.GetFileName(path)})");
        return false;
    }

    /// <summary>Runs a program with no input and returns its exit code and its stdout followed by its stderr.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
