using System.Diagnostics;
using System.Globalization;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Debian's <c>python3-httpbin</c> (httpbin 0.7.0 on Flask/Werkzeug) served by Werkzeug's threaded server on
/// 127.0.0.1 and a port the OS picks, so <c>/delay/3</c> never blocks other requests. The server prints its port,
/// the fixture waits until <c>/status/200</c> answers, and kills it on dispose. The script also exits when its
/// stdin closes, so a crashed test run leaves no orphan behind.
/// </summary>
/// <remarks>
/// A missing python3 or httpbin module fails every test that uses the fixture (never a silent skip).
/// python httpbin hides X-Request-Id and X-Forwarded-* in <c>/headers</c> unless <c>?show_env=1</c> is given.
/// </remarks>
public sealed class HttpbinServer : IAsyncLifetime
{
    private const string ServeScript = """
        import os, sys, threading
        from werkzeug.serving import make_server
        from httpbin.core import app
        server = make_server('127.0.0.1', 0, app, threaded=True)
        def exit_when_parent_goes():
            try:
                sys.stdin.read()
            finally:
                os._exit(0)
        threading.Thread(target=exit_when_parent_goes, daemon=True).start()
        print('LISTENING %d' % server.server_port, flush=True)
        server.serve_forever()
        """;

    /// <summary>Debian's interpreter first: a python3 earlier on PATH (pyenv, venv) usually lacks the Debian package.</summary>
    private static readonly string[] PythonCandidates = ["/usr/bin/python3", "python3"];

    private readonly ProcessOutput _output = new();
    private Process? _process;

    /// <summary>The port httpbin listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>Everything the server printed (for diagnostics).</summary>
    public string Output => _output.Combined;

    /// <summary>How many requests httpbin has logged for this request line, e.g. <c>GET /status/500</c> (Werkzeug logs each to stderr).</summary>
    public int RequestsLogged(string methodAndPath)
        => Output.Split('\n').Count(line => line.Contains($"\"{methodAndPath} HTTP/1.1\"", StringComparison.Ordinal));

    public async Task InitializeAsync()
    {
        var python = await FindPythonWithHttpbinAsync();

        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-u");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(ServeScript);

        var portSource = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _output.StdoutLine += line =>
        {
            if (line.StartsWith("LISTENING ", StringComparison.Ordinal)
                && int.TryParse(line.AsSpan("LISTENING ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                portSource.TrySetResult(port);
            }
        };

        _process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start '{python}'.");
        _output.Attach(_process);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // Completes when the process exits, or as cancelled after 20 s; either way the port did not come.
        var exitedOrTimedOut = _process.WaitForExitAsync(timeout.Token);
        var first = await Task.WhenAny(portSource.Task, exitedOrTimedOut);
        if (first != portSource.Task)
        {
            Assert.Fail($"httpbin did not report its port within 20 s (exited: {_process.HasExited}). Output:\n{_output.Combined}");
        }
        Port = await portSource.Task;

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{Port}/status/200"));
                if ((int)response.StatusCode == 200)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                Assert.Fail($"httpbin on 127.0.0.1:{Port} did not answer /status/200. Output:\n{_output.Combined}");
            }
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static async Task<string> FindPythonWithHttpbinAsync()
    {
        var problems = new List<string>();
        foreach (var candidate in PythonCandidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                problems.Add($"{candidate}: not found");
                continue;
            }
            var psi = new ProcessStartInfo(candidate)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import httpbin.core, werkzeug.serving");
            try
            {
                using var probe = Process.Start(psi)!;
                var stderr = probe.StandardError.ReadToEndAsync();
                _ = probe.StandardOutput.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await probe.WaitForExitAsync(timeout.Token);
                if (probe.ExitCode == 0)
                {
                    return candidate;
                }
                var lastLine = (await stderr).TrimEnd().Split('\n')[^1];
                problems.Add($"{candidate}: {lastLine}");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                problems.Add($"{candidate}: {ex.Message}");
            }
        }

        var found = string.Join("; ", problems);
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Assert.Fail(ci
            ? $"End-to-end tests need python3 with the httpbin module, and CI=true: it must be installed (.ci/run does `apt-get install -y python3-httpbin`). Found: {found}"
            : $"End-to-end tests need python3 with the httpbin module. Install it with `apt-get install python3-httpbin`. Found: {found}");
        return null!;
    }
}
