using System.Diagnostics;
using Gateway.Tests.EndToEnd;

namespace Gateway.Tests.CommandLine;

/// <summary>What one run of the gateway executable printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Combined => Stdout + Stderr;

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
}

/// <summary>Runs <c>dotnet gateway.dll &lt;args&gt;</c> to completion (in the repository root unless told otherwise).</summary>
internal static class GatewayCli
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public static async Task<CliResult> RunAsync(params string[] args) => await RunInAsync(TestPaths.RepositoryRoot, args);

    public static Task<CliResult> RunInAsync(string workingDirectory, params string[] args) => RunDllInAsync(TestPaths.GatewayDll, workingDirectory, args);

    /// <summary>Runs another gateway executable (a custom one, e.g. the sample's) the same way.</summary>
    public static async Task<CliResult> RunDllInAsync(string gatewayDll, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(TestPaths.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(gatewayDll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the gateway process.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"gateway {string.Join(' ', args)} did not exit within {RunTimeout.TotalSeconds} s.\n--- stdout ---\n{await stdout}--- stderr ---\n{await stderr}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
