using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gateway.Configuration;
using Gateway.Router;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tracing;
using Gateway.Translation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Router;

/// <summary>
/// <c>request_mirror_policies</c> through the in-process gateway: a primary echo upstream and a shadow upstream that
/// records what it got (real Kestrel servers on 127.0.0.1).
/// </summary>
public class ShadowWriterTests
{
    private static string ShadowCluster(int port, string name = "shadow")
        => ListenerYaml.Dedent($$"""
            - name: {{name}}
              type: STATIC
              load_assignment:
                cluster_name: {{name}}
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
            """);

    private static string Route(string mirror, string prefix = "/", string extra = "")
        => ListenerYaml.Dedent($$"""
            - match: { prefix: "{{prefix}}" }
              route:
                cluster: echo
            {{ListenerYaml.Indent(extra, 4)}}
                request_mirror_policies:
            {{ListenerYaml.Indent(mirror, 4)}}
            """);

    private static Task<InProcessGateway> StartAsync(int echoPort, string routes, string clusters, Random? random = null, string virtualHost = "", string routeConfiguration = "")
        => InProcessGateway.StartAsync(ListenerYaml.Build(echoPort, string.Empty, virtualHost: virtualHost, routes: routes, routeConfiguration: routeConfiguration, clusters: clusters),
            random is null ? null : s => s.AddSingleton(random));

    [Fact]
    public async Task Send_Post_ShadowGetsShadowHostBodyAndRoutedHeaders()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow", extra: "prefix_rewrite: /rewritten/"), ShadowCluster(shadow.Port));
        var uri = gateway.ListenerUri("/path?q=1");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent("hello shadow") };
        request.Headers.Add("x-custom", "v1");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = await response.Content.ReadFromJsonAsync<EchoedRequest>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/rewritten/path?q=1", echoed!.Path);
        var seen = await shadow.NextAsync();
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/rewritten/path?q=1", seen.PathAndQuery);
        Assert.Equal($"127.0.0.1-shadow:{uri.Port}", seen.Headers["host"]);
        Assert.Equal("hello shadow", seen.Body);
        Assert.Equal("v1", seen.Headers["x-custom"]);
        Assert.Equal("/path?q=1", seen.Headers["x-envoy-original-path"]);
        Assert.Equal("15000", seen.Headers["x-envoy-expected-rq-timeout-ms"]);
        Assert.Equal("text/plain; charset=utf-8", seen.Headers["content-type"]);
        // The async client's requests are internal (Envoy's send_internal).
        Assert.Equal("true", seen.Headers["x-envoy-internal"]);
        Assert.Equal(1, echo.Requests);
    }

    [Fact]
    public async Task Send_PrimaryRetried_ShadowGetsTheBodyOnce()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow", extra: "retry_policy: { retry_on: 5xx, num_retries: 1 }"), ShadowCluster(shadow.Port));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/flaky/1/503"), new StringContent("once"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["once", "once"], echo.Bodies);
        Assert.Equal("once", (await shadow.NextAsync()).Body);
        await Task.Delay(200);
        Assert.Equal(1, shadow.Count);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_retry", 1);
    }

    [Fact]
    public async Task Send_DisableShadowHostSuffixAppend_HostUnchanged()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- { cluster: shadow, disable_shadow_host_suffix_append: true }"), ShadowCluster(shadow.Port));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Host = "example.com:8080";

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await shadow.NextAsync();
        Assert.Equal("example.com:8080", seen.Headers["host"]);
        Assert.Equal(string.Empty, seen.Body);
    }

    [Fact]
    public async Task Send_SlowShadow_ClientTimingIsThePrimarys()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync(delay: TimeSpan.FromSeconds(2));
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(shadow.Port));
        // A first request opens the connections, so the timed one measures the proxying alone.
        (await gateway.Client.GetAsync(gateway.ListenerUri("/warm"))).Dispose();
        await shadow.NextAsync();

        var watch = Stopwatch.StartNew();
        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/timed"), new StringContent("body"));
        await response.Content.ReadAsByteArrayAsync();
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(1500), $"the client waited {watch.ElapsedMilliseconds} ms for a shadow that sleeps 2 s");
        var seen = await shadow.NextAsync();
        Assert.Equal("/timed", seen.PathAndQuery);
        Assert.Equal("body", seen.Body);
        // The shadow's answer is counted on its cluster when it comes.
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_200", 2);
    }

    [Fact]
    public async Task Send_ShadowClusterDown_ClientGetsThePrimarysAnswer()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(ClosedPort()));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/down"), new StringContent("x"));
        var echoed = await response.Content.ReadFromJsonAsync<EchoedRequest>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/down", echoed!.Path);
        await gateway.AssertStatAsync("cluster.shadow.upstream_cx_connect_fail", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_200", 1);
    }

    [Fact]
    public async Task Send_Shadowed_UpstreamStatsChargedOnTheShadowCluster()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync(status: 503);
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(shadow.Port));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/stats"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await shadow.NextAsync();
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_completed", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_5xx", 1);
        await gateway.AssertStatAsync("cluster.shadow.internal.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_total", 1);
    }

    [Fact]
    public async Task Send_RuntimeFractionZero_NoShadow()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        var routes = Route("- { cluster: shadow, runtime_fraction: { default_value: { numerator: 0 } } }", prefix: "/never")
            + "\n" + Route("- cluster: shadow", prefix: "/always");
        await using var gateway = await StartAsync(echo.Port, routes, ShadowCluster(shadow.Port));

        for (var i = 0; i < 3; i++)
        {
            (await gateway.Client.GetAsync(gateway.ListenerUri("/never"))).Dispose();
        }
        (await gateway.Client.GetAsync(gateway.ListenerUri("/always"))).Dispose();

        Assert.Equal("/always", (await shadow.NextAsync()).PathAndQuery);
        await Task.Delay(200);
        Assert.Equal(1, shadow.Count);
    }

    [Fact]
    public async Task Send_RuntimeFraction_DrawsOncePerRequestFromTheInjectedRandom()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        // 50 %: the draws 70 (70 % 100 ≥ 50: no shadow) then 120 (20 < 50: shadow).
        var random = new ScriptedRandom(70, 120);
        await using var gateway = await StartAsync(echo.Port, Route("- { cluster: shadow, runtime_fraction: { default_value: { numerator: 50, denominator: HUNDRED } } }"), ShadowCluster(shadow.Port), random);

        (await gateway.Client.GetAsync(gateway.ListenerUri("/first"))).Dispose();
        (await gateway.Client.GetAsync(gateway.ListenerUri("/second"))).Dispose();

        Assert.Equal("/second", (await shadow.NextAsync()).PathAndQuery);
        await Task.Delay(200);
        Assert.Equal(1, shadow.Count);
        Assert.Equal(2, random.Draws);
    }

    [Fact]
    public async Task Send_ClusterHeader_ShadowsToTheNamedClusterOnly()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster_header: x-mirror-cluster"), ShadowCluster(shadow.Port));

        (await gateway.Client.GetAsync(gateway.ListenerUri("/none"))).Dispose();
        using var unknown = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/unknown"));
        unknown.Headers.Add("x-mirror-cluster", "nonexistent");
        using var unknownResponse = await gateway.Client.SendAsync(unknown);
        using var named = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/named"));
        named.Headers.Add("x-mirror-cluster", "shadow");
        using var response = await gateway.Client.SendAsync(named);

        Assert.Equal(HttpStatusCode.OK, unknownResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/named", (await shadow.NextAsync()).PathAndQuery);
        await Task.Delay(200);
        Assert.Equal(1, shadow.Count);
    }

    [Fact]
    public async Task Send_VirtualHostPolicies_ApplyToRoutesWithoutTheirOwn()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var other = await RecordingShadow.StartAsync();
        var routes = Route("- cluster: other", prefix: "/own") + "\n" + ListenerYaml.Dedent("""
            - match: { prefix: "/" }
              route: { cluster: echo }
            """);
        await using var gateway = await StartAsync(echo.Port, routes, ShadowCluster(shadow.Port) + "\n" + ShadowCluster(other.Port, "other"),
            virtualHost: "request_mirror_policies: [{ cluster: shadow }]");

        (await gateway.Client.GetAsync(gateway.ListenerUri("/own"))).Dispose();
        (await gateway.Client.GetAsync(gateway.ListenerUri("/inherited"))).Dispose();

        Assert.Equal("/own", (await other.NextAsync()).PathAndQuery);
        Assert.Equal("/inherited", (await shadow.NextAsync()).PathAndQuery);
        await Task.Delay(200);
        // The route's own list replaced the virtual host's: no merging.
        Assert.Equal(1, shadow.Count);
        Assert.Equal(1, other.Count);
    }

    [Fact]
    public async Task Send_BodyOverTheBufferLimit_StreamsToTheShadow()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(shadow.Port));
        // 3 MiB in 256 KiB pieces with pauses between them: the shadow keeps up, so it is never 1 MiB behind.
        var big = new string('b', 3 * RouterFilter.RetryBufferLimit);

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/big"), new PacedContent(System.Text.Encoding.ASCII.GetBytes(big), 256 * 1024, TimeSpan.FromMilliseconds(30)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(big, echo.Bodies[0]);
        Assert.Equal(big, (await shadow.NextAsync()).Body);
        await gateway.AssertStatAsync("cluster.echo.retry_or_shadow_abandoned", 0);
    }

    [Fact]
    public async Task Send_ShadowNotReadingItsBody_AbandonedWithoutDelayingTheClient()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync(delayBeforeRead: TimeSpan.FromSeconds(4));
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(shadow.Port));
        // More than the shadow's socket and server buffers can hold, and the gateway's 1 MiB for it on top.
        var big = new byte[24 * 1024 * 1024];

        var watch = Stopwatch.StartNew();
        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/stuck"), new ByteArrayContent(big));
        await response.Content.ReadAsByteArrayAsync();
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The shadow starts reading only after 4 s (its server, its input paused, never sees the cancellation sooner).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"the client waited {watch.ElapsedMilliseconds} ms");
        await gateway.AssertStatAsync("cluster.echo.retry_or_shadow_abandoned", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_cancelled", 1);
        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_active", 0);
    }

    [Fact]
    public async Task Send_ClientBreaksTheBodyOff_ShadowCancelled()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        await using var gateway = await StartAsync(echo.Port, Route("- cluster: shadow"), ShadowCluster(shadow.Port));
        var port = gateway.ListenerUri("/").Port;

        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            var head = "POST /partial HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789"u8.ToArray();
            await client.GetStream().WriteAsync(head);
            await Task.Delay(200);
        }

        await gateway.AssertStatAsync("cluster.shadow.upstream_rq_cancelled", 1);
        Assert.Equal(0, shadow.Count);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Send_TraceSampled_MirrorSpanSampledAsThePolicySays(bool? traceSampled, bool expected)
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var shadow = await RecordingShadow.StartAsync();
        var factory = new RecordingTracerFactory();
        var policy = traceSampled is { } value ? $"- {{ cluster: shadow, trace_sampled: {(value ? "true" : "false")} }}" : "- cluster: shadow";
        var yaml = TracingYaml.Build(echo.Port, routes: Route(policy), clusters: ShadowCluster(shadow.Port));
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.Types.AddTracer(factory));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/traced"));
        request.Headers.Add("x-envoy-force-trace", "true");
        request.Headers.Add("x-request-id", "11111111-2222-4333-8444-555555555555");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await shadow.NextAsync();
        var tracer = Assert.Single(factory.Created);
        RecordedSpan? mirror = null;
        RecordedSpan? downstream = null;
        for (var i = 0; i < 2; i++)
        {
            var span = tracer.NextFinished();
            if (span.Operation == "mirror")
            {
                mirror = span;
            }
            else
            {
                downstream = span;
            }
        }
        Assert.NotNull(mirror);
        Assert.NotNull(downstream);
        Assert.True(downstream.Sampled);
        Assert.Equal(expected, mirror.Sampled);
        Assert.Equal(downstream.SpanId, mirror.ParentId);
        Assert.Equal("shadow", mirror.Tags["upstream_cluster"]);
        Assert.Equal("200", mirror.Tags["http.status_code"]);
        // The shadow carries the mirror span's context.
        Assert.Equal(mirror.TraceId + "-" + mirror.SpanId, seen.Headers[RecordingTracerFactory.Header]);
    }

    [Theory]
    [InlineData("example.com", "example.com-shadow")]
    [InlineData("example.com:8080", "example.com-shadow:8080")]
    [InlineData("127.0.0.1:80", "127.0.0.1-shadow:80")]
    [InlineData("[::1]:80", "[::1]-shadow:80")]
    [InlineData("[::1]", "[::1]-shadow")]
    public void ShadowHost_Authority_SuffixBeforeThePort(string host, string expected)
        => Assert.Equal(expected, ShadowWriter.ShadowHost(host));

    [Fact]
    public void Translate_MirrorPolicies_MostSpecificNonEmptyListWins()
    {
        var yaml = ListenerYaml.Build(1, string.Empty,
            routeConfiguration: "request_mirror_policies: [{ cluster: config_level }]",
            virtualHost: "request_mirror_policies: [{ cluster: vhost_level, runtime_fraction: { default_value: { numerator: 5, denominator: TEN_THOUSAND } }, trace_sampled: false }]",
            routes: ListenerYaml.Dedent("""
                - match: { prefix: "/route" }
                  route: { cluster: echo, request_mirror_policies: [{ cluster: route_level, disable_shadow_host_suffix_append: true }] }
                - match: { prefix: "/" }
                  route: { cluster: echo }
                """),
            otherVirtualHosts: ListenerYaml.Dedent("""
                - name: other
                  domains: ["other"]
                  routes: [{ match: { prefix: "/" }, route: { cluster: echo } }]
                """),
            clusters: ShadowCluster(2, "config_level") + "\n" + ShadowCluster(3, "vhost_level") + "\n" + ShadowCluster(4, "route_level"));

        var routes = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml)).Listeners[0].FilterChains[0].ConnectionManager.Routes;

        Assert.Equal([new MirrorPolicyPlan("route_level", null, 100, DenominatorType.Hundred, null, true)], routes[0].Mirrors);
        Assert.Equal([new MirrorPolicyPlan("vhost_level", null, 5, DenominatorType.TenThousand, false, false)], routes[1].Mirrors);
        Assert.Equal([new MirrorPolicyPlan("config_level", null, 100, DenominatorType.Hundred, null, false)], routes[2].Mirrors);
    }

    [Fact]
    public void ConfigDump_MirrorPolicies_PrintedInProtoFieldOrder()
    {
        var yaml = ListenerYaml.Build(1, string.Empty,
            routes: Route("- { disable_shadow_host_suffix_append: true, trace_sampled: false, runtime_fraction: { default_value: { numerator: 5 } }, cluster: shadow }"),
            clusters: ShadowCluster(2));
        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);
        var hcm = (Gateway.Configuration.HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!;
        var action = hcm.RouteConfig!.VirtualHosts[0].Routes[0].Action!;

        var json = Gateway.Admin.ConfigJson.Message(action).ToPrettyString();

        Assert.Equal("""
            {
             "cluster": "echo",
             "request_mirror_policies": [
              {
               "cluster": "shadow",
               "runtime_fraction": {
                "default_value": {
                 "numerator": 5
                }
               },
               "trace_sampled": false,
               "disable_shadow_host_suffix_append": true
              }
             ]
            }
            """.ReplaceLineEndings("\n"), json.ReplaceLineEndings("\n").TrimEnd());
    }

    [Fact]
    public void Load_BadMirrorPolicies_EveryErrorAtItsField()
    {
        var yaml = ListenerYaml.Build(1, string.Empty,
            routeConfiguration: "request_mirror_policies: [{ cluster: missing_config }]",
            virtualHost: "request_mirror_policies: [{ cluster_header: \"bad header\" }]",
            routes: Route("""
                - cluster: missing
                - { cluster: echo, cluster_header: x-c }
                - { disable_shadow_host_suffix_append: true }
                - { cluster: echo, runtime_fraction: { runtime_key: k } }
                - { cluster: echo, host_rewrite_literal: h }
                """));

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        Assert.Equal(
        [
            ("route: unknown shadow cluster 'missing_config'", "request_mirror_policies[0].cluster"),
            ("'cluster_header' must be a valid HTTP header name (got 'bad header')", "request_mirror_policies[0].cluster_header"),
            ("route: unknown shadow cluster 'missing'", "request_mirror_policies[0].cluster"),
            ("Only one of cluster 'echo' or cluster_header 'x-c' in request mirror policy can be specified", "request_mirror_policies[1]"),
            ("Exactly one of cluster or cluster_header in request mirror policy need to be specified", "request_mirror_policies[2]"),
            ("'default_value' is required", "request_mirror_policies[3].runtime_fraction.default_value"),
            ("field 'host_rewrite_literal' of envoy.config.route.v3.RouteAction.RequestMirrorPolicy is not supported by this gateway yet", "request_mirror_policies[4].host_rewrite_literal"),
        ],
        errors.Select(e => (e.Message, Tail(e.Location.Path))));
    }

    private static string Tail(string path)
    {
        var at = path.LastIndexOf("request_mirror_policies", StringComparison.Ordinal);
        return at < 0 ? path : path[at..];
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A request body written in pieces with a pause after each (chunked: no length).</summary>
    private sealed class PacedContent(byte[] body, int piece, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += piece)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(piece, body.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(pause);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A Random whose <c>NextInt64(max)</c> returns the scripted values in turn.</summary>
    private sealed class ScriptedRandom(params long[] values) : Random
    {
        private int _next;

        public int Draws => _next;

        public override long NextInt64(long maxValue) => values[_next++ % values.Length];
    }

    private sealed record SeenRequest(string Method, string PathAndQuery, Dictionary<string, string> Headers, string Body);

    /// <summary>The shadow upstream: records each request (headers lower-cased, body), optionally sleeping before it answers.</summary>
    private sealed class RecordingShadow : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly BlockingCollection<SeenRequest> _seen = [];
        private int _count;

        private RecordingShadow(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Count => Volatile.Read(ref _count);

        public static async Task<RecordingShadow> StartAsync(TimeSpan? delay = null, int status = 200, TimeSpan? delayBeforeRead = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var shadow = new RecordingShadow(app);
            app.Run(async context =>
            {
                if (delayBeforeRead is { } before)
                {
                    await Task.Delay(before, context.RequestAborted);
                }
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                var headers = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var header in context.Request.Headers)
                {
                    headers[header.Key.ToLowerInvariant()] = header.Value.ToString();
                }
                Interlocked.Increment(ref shadow._count);
                shadow._seen.Add(new SeenRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));
                if (delay is { } wait)
                {
                    await Task.Delay(wait, context.RequestAborted);
                }
                context.Response.StatusCode = status;
                await context.Response.WriteAsync("shadow answer");
            });
            await app.StartAsync();
            shadow.Port = new Uri(app.Urls.First()).Port;
            return shadow;
        }

        /// <summary>The next request the shadow received, waiting up to 5 s.</summary>
        public Task<SeenRequest> NextAsync()
            => Task.Run(() => _seen.TryTake(out var seen, TimeSpan.FromSeconds(5)) ? seen : throw new TimeoutException("the shadow received nothing"));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _seen.Dispose();
        }
    }
}
