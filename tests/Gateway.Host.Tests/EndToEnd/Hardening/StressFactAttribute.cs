using System.Diagnostics;
using System.Globalization;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// A fact of the <c>Stress</c> category (put <c>[Trait("Category", "Stress")]</c> next to it): slow, resource-hungry
/// end-to-end checks that run only when <c>GATEWAY_STRESS=1</c> (<c>.ci/run</c> runs them in their own step), so
/// <c>dotnet test Gateway.sln</c> reports them as skipped instead of running them next to every other test.
/// </summary>
public sealed class StressFactAttribute : FactAttribute
{
    public const string Variable = "GATEWAY_STRESS";

    public StressFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            Skip = $"stress test: runs with {Variable}=1 (.ci/run: dotnet test --filter Category=Stress)";
        }
        Timeout = 120_000;
    }
}

/// <summary>What the stress tests read about a process: open-file limits and resident memory, from /proc.</summary>
internal static class ProcessResources
{
    /// <summary>
    /// Makes this process's soft open-file limit at least <paramref name="needed"/> (with <c>prlimit</c>, raising the hard
    /// limit too when allowed), so the gateway it starts afterwards inherits it. Fails the test when that is impossible.
    /// </summary>
    public static void EnsureOpenFileLimit(long needed)
    {
        var (soft, hard) = OpenFileLimit(Environment.ProcessId);
        if (soft >= needed)
        {
            return;
        }
        var newHard = Math.Max(hard, needed);
        if (!RunPrlimit($"--pid {Environment.ProcessId} --nofile={needed}:{newHard}") && hard >= needed)
        {
            RunPrlimit($"--pid {Environment.ProcessId} --nofile={needed}:{hard}");
        }
        (soft, _) = OpenFileLimit(Environment.ProcessId);
        Assert.True(soft >= needed, $"the test needs {needed} open files; the soft limit is {soft} (hard {hard}) and could not be raised");
    }

    /// <summary>The soft and hard "Max open files" of a process.</summary>
    public static (long Soft, long Hard) OpenFileLimit(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return (Parse(parts[0]), Parse(parts[1]));
            }
        }
        throw new InvalidOperationException($"no 'Max open files' in /proc/{pid}/limits");

        static long Parse(string text) => text == "unlimited" ? long.MaxValue : long.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>Resident set size in MiB (VmRSS).</summary>
    public static double RssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kib / 1024.0;
            }
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }

    /// <summary>Open file descriptors of a process.</summary>
    public static int OpenFiles(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private static bool RunPrlimit(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("prlimit", arguments)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        });
        if (process is null)
        {
            return false;
        }
        process.WaitForExit(10_000);
        return process.HasExited && process.ExitCode == 0;
    }
}
