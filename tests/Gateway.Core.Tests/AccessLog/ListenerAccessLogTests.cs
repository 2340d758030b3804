using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

public sealed class ListenerAccessLogTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("listener-log-").FullName;
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(int upstreamPort, string listenerLog)
        => ListenerYaml.Build(upstreamPort, httpFilters: "").Replace("    filter_chains:\n", listenerLog + "    filter_chains:\n", StringComparison.Ordinal);

    /// <summary>A listener's file logger; <paramref name="filter"/> is the logger's filter, <paramref name="format"/> flush-left typed_config fields.</summary>
    private static string FileLog(string path, string filter = "", string format = "")
        => "    access_log:\n"
            + "    - name: envoy.access_loggers.file\n"
            + (filter.Length == 0 ? string.Empty : "      filter: " + filter + "\n")
            + "      typed_config:\n"
            + "        \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
            + "        path: " + path + "\n"
            + (format.Length == 0 ? string.Empty : ListenerYaml.Indent(ListenerYaml.Dedent(format), 8) + "\n");

    private Task<InProcessGateway> StartAsync(string yaml) => InProcessGateway.StartAsync(yaml, services => services.AddSingleton<TimeProvider>(_time));

    /// <summary>
    /// One connection carrying <paramref name="paths"/> in turn (keep-alive; the last asks to close), the clock moved by
    /// <paramref name="between"/> after the first response. Returns the bytes sent and received by the client.
    /// </summary>
    private async Task<(long Sent, long Received, int LocalPort)> ConnectionAsync(InProcessGateway gateway, TimeSpan between, params string[] paths)
    {
        var uri = gateway.ListenerUri("/");
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", uri.Port);
        var stream = client.GetStream();
        long sent = 0;
        long received = 0;
        var buffer = new byte[64 * 1024];
        for (var i = 0; i < paths.Length; i++)
        {
            var last = i == paths.Length - 1;
            var request = Encoding.ASCII.GetBytes($"GET {paths[i]} HTTP/1.1\r\nHost: test\r\n{(last ? "Connection: close\r\n" : string.Empty)}\r\n");
            await stream.WriteAsync(request);
            sent += request.Length;
            // The last response is read to its end, not to the connection's: on the fake clock the gateway's delayed
            // close waits for this client to close.
            received += await ReadResponseAsync(stream, buffer);
            if (!last)
            {
                _time.Advance(between);
            }
        }
        return (sent, received, ((System.Net.IPEndPoint)client.Client.LocalEndPoint!).Port);
    }

    /// <summary>Reads one response (a Content-Length or a chunked body); its length in bytes.</summary>
    private static async Task<int> ReadResponseAsync(NetworkStream stream, byte[] buffer)
    {
        var total = 0;
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total));
            Assert.True(read > 0, "the connection closed before the response");
            total += read;
            var text = Encoding.ASCII.GetString(buffer, 0, total);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                continue;
            }
            var header = text[..end].Split("\r\n").FirstOrDefault(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
            if (header is null)
            {
                // Chunked: the response ends with the last chunk.
                if (text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
                {
                    return total;
                }
                continue;
            }
            var length = int.Parse(header[(header.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (total >= end + 4 + length)
            {
                Assert.Equal(end + 4 + length, total);
                return total;
            }
        }
        throw new InvalidOperationException("no complete response");
    }


    [Fact]
    public async Task ConnectionClose_TwoKeepAliveRequests_OneDefaultLineWithTheConnectionsDurationAndBytes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "listener.log");
        await using var gateway = await StartAsync(Config(upstream.Port, FileLog(path)));

        var (sent, received, _) = await ConnectionAsync(gateway, TimeSpan.FromMilliseconds(1234), "/one", "/two");
        var lines = await AccessLogLines.ReadAsync(gateway, path, 1);

        Assert.Equal(2, upstream.Requests);
        // Envoy's default line over a connection's stream info: no request ("-"), response code 0, no flags.
        Assert.Equal($"[2026-03-04T05:06:07.890Z] \"- - -\" 0 - {sent} {received} 1234 - \"-\" \"-\" \"-\" \"-\" \"-\"", Assert.Single(lines));
    }

    [Fact]
    public async Task ConnectionClose_JsonFormat_HasTheConnectionsAddressesAndNoRequestFields()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "json.log");
        await using var gateway = await StartAsync(Config(upstream.Port, FileLog(path, format: """
                  log_format:
                    json_format:
                      remote: "%DOWNSTREAM_REMOTE_ADDRESS%"
                      local: "%DOWNSTREAM_LOCAL_ADDRESS%"
                      code: "%RESPONSE_CODE%"
                      method: "%REQ(:METHOD)%"
                      received: "%BYTES_RECEIVED%"
                      duration: "%DURATION%"
                      start: "%START_TIME%"
            """)));

        var (sent, _, clientPort) = await ConnectionAsync(gateway, TimeSpan.FromSeconds(2), "/a", "/b");
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path, 1));

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal($"127.0.0.1:{clientPort}", root.GetProperty("remote").GetString());
        Assert.Equal($"127.0.0.1:{gateway.ListenerUri("/").Port}", root.GetProperty("local").GetString());
        Assert.Equal(0, root.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("method").ValueKind);
        Assert.Equal(sent, root.GetProperty("received").GetInt64());
        Assert.Equal(2000, root.GetProperty("duration").GetInt64());
        Assert.Equal("2026-03-04T05:06:07.890Z", root.GetProperty("start").GetString());
    }

    [Fact]
    public async Task ConnectionClose_DurationFilter_OnlyTheLongConnectionIsLogged()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "filtered.log");
        await using var gateway = await StartAsync(Config(upstream.Port, FileLog(path,
            filter: "{ duration_filter: { comparison: { op: GE, value: { default_value: 1000, runtime_key: k } } } }",
            format: "log_format: { text_format: \"%DURATION%\\n\" }")));

        await ConnectionAsync(gateway, TimeSpan.FromMilliseconds(10), "/short", "/short");
        await ConnectionAsync(gateway, TimeSpan.FromMilliseconds(1500), "/long", "/long");
        // A third connection marks that both before it have been logged (or filtered out).
        await ConnectionAsync(gateway, TimeSpan.FromMilliseconds(3000), "/last", "/last");
        var lines = await AccessLogLines.ReadAsync(gateway, path, 2);

        Assert.Equal(["1500", "3000"], lines.Order());
    }

    [Fact]
    public async Task Request_ListenerLogAndHcmLog_EachWritesItsOwnEntryWithTheConnectionsIdAndFilterChain()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var listenerPath = Path.Combine(_dir, "cx.log");
        var requestPath = Path.Combine(_dir, "rq.log");
        var yaml = Config(upstream.Port, FileLog(listenerPath, format: "log_format: { text_format: \"cx %REQ(:PATH)% %RESPONSE_CODE% %CONNECTION_ID% %FILTER_CHAIN_NAME%\\n\" }"))
            .Replace("    - filters:\n", "    - name: main-chain\n      filters:\n", StringComparison.Ordinal)
            .Replace("          stat_prefix: ingress_http\n", $$"""
                      stat_prefix: ingress_http
                      access_log:
                      - name: envoy.access_loggers.file
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{requestPath}}
                          log_format: { text_format: "rq %REQ(:PATH)% %RESPONSE_CODE% %CONNECTION_ID% %FILTER_CHAIN_NAME%\n" }

            """, StringComparison.Ordinal);
        await using var gateway = await StartAsync(yaml);

        await ConnectionAsync(gateway, TimeSpan.Zero, "/x", "/y");
        await ConnectionAsync(gateway, TimeSpan.Zero, "/z", "/z");
        var connections = await AccessLogLines.ReadAsync(gateway, listenerPath, 2);
        var requests = await AccessLogLines.ReadAsync(gateway, requestPath, 4);

        // Both logs name the connection by the same number, and each connection has its own (the connection entries are
        // written as the server closes, so their order is not asserted).
        Assert.Equal(4, requests.Length);
        var first = requests[0].Split(' ')[3];
        var second = requests[2].Split(' ')[3];
        Assert.NotEqual(first, second);
        Assert.Equal([$"rq /x 200 {first} main-chain", $"rq /y 200 {first} main-chain", $"rq /z 200 {second} main-chain", $"rq /z 200 {second} main-chain"], requests);
        Assert.Equal(new[] { $"cx - 0 {first} main-chain", $"cx - 0 {second} main-chain" }.Order(), connections.Order());
    }

    [Fact]
    public void Load_ListenerAccessLogWithBadFormat_IsAnErrorAtTheListenersPath()
    {
        var yaml = Config(9, FileLog("/tmp/x.log", format: "log_format: { text_format: \"%NOT_AN_OPERATOR%\" }"));

        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var only = Assert.Single(error.Errors);
        Assert.Contains("Not supported field in StreamInfo: NOT_AN_OPERATOR", only.Message, StringComparison.Ordinal);
        Assert.StartsWith("static_resources.listeners[0].access_log[0]", only.Location.Path, StringComparison.Ordinal);
    }
}
