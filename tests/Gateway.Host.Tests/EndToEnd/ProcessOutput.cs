using System.Diagnostics;
using System.Text;

namespace Gateway.Tests.EndToEnd;

/// <summary>Collects a child process's stdout and stderr as they arrive (so its pipes never fill up).</summary>
internal sealed class ProcessOutput
{
    private readonly object _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _combined = new();

    /// <summary>Raised for every stdout line (on a thread-pool thread).</summary>
    public event Action<string>? StdoutLine;

    public string Stdout { get { lock (_gate) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_gate) { return _stderr.ToString(); } } }

    /// <summary>Both streams interleaved in arrival order, stderr lines marked.</summary>
    public string Combined { get { lock (_gate) { return _combined.ToString(); } } }

    /// <summary>Hooks the process's redirected streams; call after <see cref="Process.Start()"/>.</summary>
    public void Attach(Process process)
    {
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (_gate)
            {
                _stdout.Append(e.Data).Append('\n');
                _combined.Append(e.Data).Append('\n');
            }
            StdoutLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (_gate)
            {
                _stderr.Append(e.Data).Append('\n');
                _combined.Append("[stderr] ").Append(e.Data).Append('\n');
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }
}
