using System.Diagnostics;
using System.Globalization;
using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The real gateway executable (<c>dotnet gateway.dll</c>) running one config: started with <c>-c &lt;temp file&gt;</c> or
/// <c>--config-yaml &lt;text&gt;</c>, ready once the admin <c>/ready</c> answers 200 <c>LIVE\n</c>, stopped with SIGTERM
/// (kill after 10 s). stdout and stderr are captured and shown when start-up fails, and written to the test
/// output on dispose.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly ProcessOutput _output;
    private readonly string? _configFile;
    private readonly ITestOutputHelper? _log;

    private GatewayProcess(Process process, ProcessOutput output, string? configFile, int listenerPort, int adminPort, ITestOutputHelper? log)
    {
        _process = process;
        _output = output;
        _configFile = configFile;
        _log = log;
        ListenerPort = listenerPort;
        AdminPort = adminPort;
        Client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>The data listener's port on 127.0.0.1.</summary>
    public int ListenerPort { get; }

    /// <summary>The admin listener's port on 127.0.0.1.</summary>
    public int AdminPort { get; }

    /// <summary>A client with no proxy, no redirects and no decompression.</summary>
    public HttpClient Client { get; }

    /// <summary>The gateway's process id (for /proc reads in the stress tests).</summary>
    public int ProcessId => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the gateway printed so far (stderr lines marked).</summary>
    public string Output => _output.Combined;

    public Uri ListenerUri(string pathAndQuery) => new($"http://127.0.0.1:{ListenerPort}{pathAndQuery}");

    public Uri AdminUri(string pathAndQuery) => new($"http://127.0.0.1:{AdminPort}{pathAndQuery}");

    /// <summary>Starts one of the seed configs (<see cref="SeedConfig"/>) against the given upstream port, on free ports.</summary>
    public static Task<GatewayProcess> StartSeedAsync(string exampleFile, int upstreamPort, ITestOutputHelper? log = null, bool inlineYaml = false)
    {
        var ports = FreePort.Next(2);
        var yaml = SeedConfig.Render(exampleFile, upstreamPort, listenerPort: ports[0], adminPort: ports[1]);
        return StartAsync(yaml, listenerPort: ports[0], adminPort: ports[1], log, inlineYaml);
    }

    /// <summary>Starts the gateway on <paramref name="yaml"/>, which must bind its admin to 127.0.0.1:<paramref name="adminPort"/>.</summary>
    /// <param name="gatewayDll">Another gateway executable (a custom one, e.g. the sample's); <see cref="TestPaths.GatewayDll"/> when null.</param>
    public static async Task<GatewayProcess> StartAsync(string yaml, int listenerPort, int adminPort, ITestOutputHelper? log = null, bool inlineYaml = false, IReadOnlyList<string>? extraArgs = null, string? gatewayDll = null)
    {
        var psi = new ProcessStartInfo(TestPaths.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        psi.ArgumentList.Add(gatewayDll ?? TestPaths.GatewayDll);

        string? configFile = null;
        if (inlineYaml)
        {
            psi.ArgumentList.Add("--config-yaml");
            psi.ArgumentList.Add(yaml);
        }
        else
        {
            configFile = Path.Combine(Path.GetTempPath(), $"gateway-e2e-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(configFile, yaml);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(configFile);
        }
        foreach (var arg in extraArgs ?? [])
        {
            psi.ArgumentList.Add(arg);
        }

        var output = new ProcessOutput();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the gateway process.");
        output.Attach(process);
        var gateway = new GatewayProcess(process, output, configFile, listenerPort, adminPort, log);
        try
        {
            await gateway.WaitUntilReadyAsync();
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
        return gateway;
    }

    /// <summary>The admin <c>/stats</c> text.</summary>
    public async Task<string> GetStatsAsync()
    {
        using var response = await Client.GetAsync(AdminUri("/stats"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /stats returned {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>The <c>name: value</c> line of one stat in the <c>/stats</c> text, or null when absent.</summary>
    public static string? FindStatLine(string stats, string name)
    {
        var prefix = name + ": ";
        foreach (var line in stats.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line.TrimEnd('\r');
            }
        }
        return null;
    }

    /// <summary>
    /// Asserts the exact <c>name: value</c> line of each stat. Counters may be charged a moment after the client
    /// got its response, so this re-reads <c>/stats</c> for up to 2 s before comparing the last values seen.
    /// </summary>
    public async Task AssertStatsAsync(params (string Name, long Value)[] expected)
    {
        // Stats are charged as the exchange finishes; on a busy CI machine that can trail the response.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            var stats = await GetStatsAsync();
            var allMatch = true;
            foreach (var (name, value) in expected)
            {
                if (FindStatLine(stats, name) != $"{name}: {value.ToString(CultureInfo.InvariantCulture)}")
                {
                    allMatch = false;
                }
            }
            if (allMatch || DateTime.UtcNow > deadline)
            {
                foreach (var (name, value) in expected)
                {
                    Assert.Equal($"{name}: {value.ToString(CultureInfo.InvariantCulture)}", FindStatLine(stats, name) ?? $"<{name} missing from /stats>");
                }
                return;
            }
            await Task.Delay(100);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        var last = "no answer";
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"The gateway exited with code {_process.ExitCode} before it was ready. Output:\n{Output}");
            }
            try
            {
                using var response = await probe.GetAsync(AdminUri("/ready"));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK && body == "LIVE\n")
                {
                    return;
                }
                last = $"{(int)response.StatusCode} '{body}'";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"GET {AdminUri("/ready")} did not return 200 'LIVE\\n' within {ReadyTimeout.TotalSeconds} s (last: {last}). Output:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Sends SIGTERM and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        SendSigterm(_process.Id);
        using var timeout = new CancellationTokenSource(StopTimeout);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then a kill after 10 s; asserts nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                SendSigterm(_process.Id);
                using var timeout = new CancellationTokenSource(StopTimeout);
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
            if (_configFile is not null)
            {
                try
                {
                    File.Delete(_configFile);
                }
                catch (IOException)
                {
                }
            }
            try
            {
                _log?.WriteLine($"--- gateway output (listener {ListenerPort}, admin {AdminPort}) ---\n{Output}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; nowhere to write.
            }
        }
    }

    private static void SendSigterm(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            Process.GetProcessById(pid).Kill(entireProcessTree: true);
            return;
        }
        var psi = new ProcessStartInfo("kill") { UseShellExecute = false };
        psi.ArgumentList.Add("-TERM");
        psi.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(psi);
        kill?.WaitForExit(5000);
    }
}
