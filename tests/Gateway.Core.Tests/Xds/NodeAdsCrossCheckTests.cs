using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Gateway.Tests.Hosting;
using Gateway.Xds;

namespace Gateway.Tests.Xds;

/// <summary>
/// The gRPC xDS client against a control plane that is not ours: <c>tests/xds-node/ads-server.js</c> encodes its
/// resources with Envoy's own .proto files (those @grpc/grpc-js-xds ships) through protobufjs. <see cref="TestAdsServer"/>
/// encodes with the gateway's schema, so a wrong field number there would be wrong on both sides and unseen; here it
/// shows up as a NACK, a dropped field or traffic that does not arrive.
/// </summary>
public sealed class NodeAdsCrossCheckTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    [Fact]
    public async Task Ads_NodeControlPlaneWithEnvoysProtos_RoutesTrafficAndEveryTypeIsAcked()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await NodeAdsServer.StartAsync(upstream.Port);

        await using var gateway = await InProcessGateway.StartAsync(GrpcXdsTests.Bootstrap(ads.Port, adsOptions: string.Empty));

        // The versions ads-server.js gives its four types; an ACK echoes the version with no error_detail.
        foreach (var (type, version) in new[] { (GrpcMux.ClusterType, "c1"), (GrpcMux.EndpointType, "e1"), (GrpcMux.ListenerType, "l1"), (GrpcMux.RouteType, "r1") })
        {
            var reply = await ads.WaitForRequestAsync(r => r.GetProperty("type_url").GetString() == type && r.GetProperty("response_nonce").GetString() != string.Empty, "the ACK of " + type);
            Assert.True(reply.GetProperty("error_detail").ValueKind == JsonValueKind.Null, $"{type} was NACKed: {reply.GetProperty("error_detail")}\n{ads.Log}");
            Assert.Equal(version, reply.GetProperty("version_info").GetString());
        }
        Assert.Equal(["backend"], await ads.ResourceNamesAsync(GrpcMux.EndpointType));
        Assert.Equal(["local"], await ads.ResourceNamesAsync(GrpcMux.RouteType));

        Assert.True(gateway.Gateway.ListenerBoundEndPoint("main") is not null, "listener main from LDS is not bound\n" + ads.Log);
        var plain = await GetEchoAsync(gateway, "/plain");
        Assert.Equal("/plain", plain.Path);
        Assert.False(plain.Headers.ContainsKey("x-node-route"));
        // The /node/ route's prefix_rewrite and request_headers_to_add came through Envoy's field numbers.
        var rewritten = await GetEchoAsync(gateway, "/node/x?q=1");
        Assert.Equal("/rewritten/x?q=1", rewritten.Path);
        Assert.Equal("envoy-protos", rewritten.Headers["x-node-route"]);
        Assert.Equal(2, upstream.Requests);

        // The endpoint's locality and load_balancing_weight, as the admin API shows the host.
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        var host = $"backend::127.0.0.1:{upstream.Port}::";
        Assert.Contains(host + "weight::3\n", clusters, StringComparison.Ordinal);
        Assert.Contains(host + "zone::z1\n", clusters, StringComparison.Ordinal);
        Assert.Contains("backend::default_priority::max_requests::77\n", clusters, StringComparison.Ordinal);

        // The fields with no visible effect here, as decoded: durations, enums, wrappers, a double, nested Anys.
        var dump = JsonSerializer.Deserialize<JsonElement>(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump")));
        var cluster = At(dump, "ClustersConfigDump", "dynamic_active_clusters.0.cluster");
        Assert.Equal("1.500s", At(cluster, "connect_timeout").GetString());
        Assert.Equal("LEAST_REQUEST", At(cluster, "lb_policy").GetString());
        Assert.Equal(40.5, At(cluster, "common_lb_config.healthy_panic_threshold.value").GetDouble());
        var listener = At(dump, "ListenersConfigDump", "dynamic_listeners.0.active_state.listener");
        Assert.Equal(1048576, At(listener, "per_connection_buffer_limit_bytes").GetInt64());
        var manager = At(listener, "filter_chains.0.filters.0.typed_config");
        Assert.True(At(manager, "generate_request_id").GetBoolean());
        Assert.Equal("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", At(manager, "http_filters.0.typed_config.@type").GetString());
        var route = At(dump, "RoutesConfigDump", "dynamic_route_configs.0.route_config.virtual_hosts.0.routes.0.route");
        Assert.Equal("5s", At(route, "timeout").GetString());
        Assert.Equal("5xx", At(route, "retry_policy.retry_on").GetString());
        Assert.Equal(1, At(route, "retry_policy.num_retries").GetInt32());

        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        await gateway.AssertStatAsync("cluster.backend.update_success", 1);
        await gateway.AssertStatAsync("listener_manager.lds.update_success", 1);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_success", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 0);
        await gateway.AssertStatAsync("listener_manager.lds.update_rejected", 0);
    }

    /// <summary>The config dump section whose <c>@type</c> ends with <paramref name="section"/>, then <paramref name="path"/> in it.</summary>
    private static JsonElement At(JsonElement dump, string section, string path)
    {
        foreach (var config in dump.GetProperty("configs").EnumerateArray())
        {
            if (config.GetProperty("@type").GetString()!.EndsWith("." + section, StringComparison.Ordinal))
            {
                return At(config, path);
            }
        }
        throw new InvalidOperationException("no " + section + " in the config dump");
    }

    /// <summary><paramref name="path"/>: property names and array indexes separated by dots.</summary>
    private static JsonElement At(JsonElement element, string path)
    {
        foreach (var step in path.Split('.'))
        {
            element = int.TryParse(step, CultureInfo.InvariantCulture, out var index) ? element[index] : element.GetProperty(step);
        }
        return element;
    }

    private static async Task<EchoedRequest> GetEchoAsync(InProcessGateway gateway, string path)
    {
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path, "main"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;
    }

    /// <summary><c>node tests/xds-node/ads-server.js</c> on 127.0.0.1, its stdout lines kept; stopped by closing its stdin.</summary>
    private sealed class NodeAdsServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ConcurrentQueue<string> _errors = new();

        private NodeAdsServer(Process process) => _process = process;

        public int Port { get; private set; }

        /// <summary>Everything the server printed, for failure messages.</summary>
        public string Log => "--- ads-server.js stdout ---\n" + string.Join('\n', _lines) + "\n--- stderr ---\n" + string.Join('\n', _errors);

        public static async Task<NodeAdsServer> StartAsync(int upstreamPort)
        {
            var directory = Path.Combine(TestConfigs.RepositoryRoot, "tests", "xds-node");
            var node = FindOnPath("node");
            if (node is null || !Directory.Exists(Path.Combine(directory, "node_modules", "@grpc", "grpc-js-xds")))
            {
                var missing = node is null ? "node is not on PATH" : "tests/xds-node/node_modules is missing";
                Assert.Fail(Environment.GetEnvironmentVariable("CI") == "true"
                    ? $"{missing}: .ci/run must install Node.js and run `npm ci` in tests/xds-node"
                    : $"{missing}: this test needs Node.js and a one-time `cd tests/xds-node && npm ci`");
            }
            var start = new ProcessStartInfo(node)
            {
                WorkingDirectory = directory,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("ads-server.js");
            start.ArgumentList.Add(upstreamPort.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add("0");
            var server = new NodeAdsServer(new Process { StartInfo = start });
            server._process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._lines.Enqueue(e.Data); };
            server._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._errors.Enqueue(e.Data); };
            server._process.Start();
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            try
            {
                var bound = await server.WaitForAsync(() => server.Find(l => l.StartsWith("listening ", StringComparison.Ordinal)), "ads-server.js is listening");
                server.Port = int.Parse(bound!["listening ".Length..], CultureInfo.InvariantCulture);
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>The first logged request (a JSON line with event "request") that <paramref name="match"/> accepts.</summary>
        public async Task<JsonElement> WaitForRequestAsync(Func<JsonElement, bool> match, string what)
            => await WaitForAsync(() =>
            {
                foreach (var line in _lines)
                {
                    if (line.StartsWith('{'))
                    {
                        var entry = JsonSerializer.Deserialize<JsonElement>(line);
                        if (entry.GetProperty("event").GetString() == "request" && match(entry))
                        {
                            return (JsonElement?)entry;
                        }
                    }
                }
                return null;
            }, what) ?? default;

        /// <summary>Polls <paramref name="find"/> for up to 20 s; fails with the server's output when it times out or the server exits.</summary>
        private async Task<T?> WaitForAsync<T>(Func<T?> find, string what)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (true)
            {
                var found = find();
                if (found is not null)
                {
                    return found;
                }
                Assert.False(_process.HasExited, $"ads-server.js exited while waiting until {what}\n{Log}");
                Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}\n{Log}");
                await Task.Delay(25);
            }
        }

        /// <summary>The resource names of the first request of <paramref name="typeUrl"/>.</summary>
        public async Task<List<string>> ResourceNamesAsync(string typeUrl)
        {
            var request = await WaitForRequestAsync(r => r.GetProperty("type_url").GetString() == typeUrl, "a request of " + typeUrl);
            var names = new List<string>();
            foreach (var name in request.GetProperty("resource_names").EnumerateArray())
            {
                names.Add(name.GetString()!);
            }
            return names;
        }

        private string? Find(Func<string, bool> match)
        {
            foreach (var line in _lines)
            {
                if (match(line))
                {
                    return line;
                }
            }
            return null;
        }

        private static string? FindOnPath(string program)
        {
            foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(directory, program);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }

        public async ValueTask DisposeAsync()
        {
            // Closing stdin is the server's signal to exit; killed if it has not within 5 s.
            try
            {
                _process.StandardInput.Close();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            finally
            {
                _process.Dispose();
            }
        }
    }
}
