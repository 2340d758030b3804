using Gateway.AccessLog;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Common;

/// <summary>Reads an access log file of an in-process gateway.</summary>
internal static class AccessLogLines
{
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
