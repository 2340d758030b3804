using System.Diagnostics;
using System.Globalization;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// A fact of the <c>Stress</c> category (put <c>[Trait("Category", "Stress")]</c> and <c>[Collection(StressCollection.Name)]</c>
/// next to it): slow, resource-hungry end-to-end checks, bounded to two minutes each, that run with every
/// <c>dotnet test Gateway.sln</c> but never beside other tests (<c>--filter Category=Stress</c> runs them alone).
/// </summary>
public sealed class StressFactAttribute : FactAttribute
{
    public StressFactAttribute()
    {
        Timeout = 120_000;
    }
}

/// <summary>The stress tests' collection: run on their own, after the parallel ones, so their load does not skew other tests' timing.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StressCollection
{
    public const string Name = "Stress";
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
