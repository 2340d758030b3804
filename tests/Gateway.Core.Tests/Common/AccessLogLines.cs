using Gateway.AccessLog;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Common;

/// <summary>Reads an access log file of an in-process gateway.</summary>
internal static class AccessLogLines
{
    /// <summary>
    /// Flush-left YAML: an <c>access_log</c> field with one file logger writing <paramref name="format"/> (a text format, a
    /// line each) to <paramref name="path"/>.
    /// </summary>
    public static string FileLogger(string path, string format) => $$"""
        access_log:
        - name: envoy.access_loggers.file
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
            path: {{path}}
            log_format: { text_format_source: { inline_string: "{{format}}\n" } }
        """;

    /// <summary>
    /// Flushes the gateway's access logs and reads <paramref name="path"/> until it has at least
    /// <paramref name="expected"/> lines (at most 5 s): an entry is written when its stream ends, which can be just
    /// after the client has read the whole response, as in Envoy. A missing file reads as no lines.
    /// </summary>
    public static Task<string[]> ReadAsync(InProcessGateway gateway, string path, int expected = 1)
        => ReadAsync(gateway, path, lines => lines.Length >= expected);

    /// <summary>As <see cref="ReadAsync(InProcessGateway, string, int)"/>, until <paramref name="complete"/> holds.</summary>
    public static async Task<string[]> ReadAsync(InProcessGateway gateway, string path, Func<string[], bool> complete)
    {
        var manager = gateway.Services.GetRequiredService<AccessLogManager>();
        for (var i = 0; ; i++)
        {
            await manager.FlushAsync();
            var lines = File.Exists(path) ? await File.ReadAllLinesAsync(path) : [];
            if (complete(lines) || i == 500)
            {
                return lines;
            }
            await Task.Delay(10);
        }
    }
}

/// <summary>A temporary access log file's path, deleted when disposed.</summary>
internal sealed class TempLogFile : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}.log");

    public void Dispose() => File.Delete(Path);
}
