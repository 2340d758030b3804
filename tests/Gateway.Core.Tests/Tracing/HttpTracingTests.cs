using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Gateway.Tests.Hosting;
using Gateway.Tracing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Tracing;

/// <summary>
/// The connection manager's and router's tracing through a real gateway and a real upstream that echoes the headers
/// it got, with the recording tracer: spans, their names and parents, Envoy's tags, the context sent upstream.
/// </summary>
public class HttpTracingTests
{
    private sealed record Started(InProcessGateway Gateway, EchoUpstream Upstream, RecordingTracerFactory Factory) : IAsyncDisposable
    {
        public RecordingTracer Tracer => Assert.Single(Factory.Created);

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<Started> StartAsync(Func<int, string> yaml, Random? random = null)
    {
        var upstream = await EchoUpstream.StartAsync();
        var factory = new RecordingTracerFactory();
        var gateway = await InProcessGateway.StartAsync(yaml(upstream.Port),
            configureServices: random is null ? null : s => s.AddSingleton(random),
            configureGateway: g => g.Types.AddTracer(factory));
        return new Started(gateway, upstream, factory);
    }

    private static async Task<EchoedRequest> EchoAsync(Started s, HttpRequestMessage request)
    {
        using var response = await s.Gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EchoedRequest>())!;
    }

    [Fact]
    public async Task Request_200_SpanCarriesEnvoysTags()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, bootstrap: "node: { id: node-1, cluster: svc, locality: { zone: zone-a } }"));
        var request = new HttpRequestMessage(HttpMethod.Post, s.Gateway.ListenerUri("/anything?q=1")) { Content = new StringContent("hello") };
        request.Headers.Add("x-request-id", "11111111-2222-4333-8444-555555555555");
        request.Headers.Add("x-client-trace-id", "client-1");
        request.Headers.UserAgent.ParseAdd("probe/1");

        using var response = await s.Gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var span = s.Tracer.NextFinished();
        var host = s.Gateway.ListenerUri("/").Authority;
        Assert.Equal(host, span.Operation);
        Assert.Equal(SpanDirection.Ingress, span.Direction);
        Assert.Equal(new TracingDecision(TraceReason.ClientForced, true), span.Decision);
        var expected = new Dictionary<string, string>
        {
            ["node_id"] = "node-1",
            ["zone"] = "zone-a",
            ["guid:x-request-id"] = "11111111-2222-b333-8444-555555555555", // the trace reason (client) packed into the id,
            ["guid:x-client-trace-id"] = "client-1",
            ["http.url"] = $"http://{host}/anything?q=1",
            ["http.method"] = "POST",
            ["http.protocol"] = "HTTP/1.1",
            ["downstream_cluster"] = "-",
            ["user_agent"] = "probe/1",
            ["peer.address"] = "127.0.0.1",
            ["request_size"] = "5",
            ["response_size"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["component"] = "proxy",
            ["upstream_cluster"] = "echo",
            ["upstream_cluster.name"] = "echo",
            ["upstream_address"] = $"127.0.0.1:{s.Upstream.Port}",
            ["http.status_code"] = "200",
            ["response_flags"] = "-",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), span.Tags.OrderBy(p => p.Key));
        Assert.Equal("node-1", s.Factory.Context!.NodeId);
        Assert.Equal("svc", s.Factory.Context.ServiceCluster);
        await s.Gateway.AssertStatAsync("http.ingress_http.tracing.client_enabled", 1);
    }

    [Fact]
    public async Task Request_ConnectFailure_503SpanHasFlagsAndError()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, routes: """
            - match: { prefix: "/" }
              route: { cluster: dead }
            """, clusters: $$"""
            - name: dead
              type: STATIC
              load_assignment:
                cluster_name: dead
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{ClosedPort()}} } } }
            """));

        using var response = await s.Gateway.Client.GetAsync(s.Gateway.ListenerUri("/x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var span = s.Tracer.NextFinished();
        Assert.Equal("503", span.Tags["http.status_code"]);
        Assert.Equal("UF", span.Tags["response_flags"]);
        Assert.Equal("true", span.Tags["error"]);
        Assert.Equal("dead", span.Tags["upstream_cluster"]);
    }

    [Fact]
    public async Task Request_WithIncomingContext_UpstreamSeesOneHeaderOfTheGatewaysSpan()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port));
        var request = new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/"));
        request.Headers.Add(RecordingTracerFactory.Header, "00000000000000aa-00000000000000bb");

        var echoed = await EchoAsync(s, request);

        var span = s.Tracer.NextFinished();
        Assert.Equal("00000000000000aa", span.TraceId);
        Assert.Equal("00000000000000bb", span.ParentId);
        // EchoUpstream joins repeated values with ','; one value means one copy.
        Assert.Equal($"00000000000000aa-{span.SpanId}", echoed.Headers[RecordingTracerFactory.Header]);
    }

    [Fact]
    public async Task Request_NoContextPropagation_SendsNoContext()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + "\nno_context_propagation: true"));

        var echoed = await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/")));

        Assert.False(echoed.Headers.ContainsKey(RecordingTracerFactory.Header));
        Assert.Equal("200", s.Tracer.NextFinished().Tags["http.status_code"]);
    }

    [Fact]
    public async Task Request_Decorator_NamesTheSpanAndIsReportedToTheClient()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: checkout }
            """));

        using var response = await s.Gateway.Client.GetAsync(s.Gateway.ListenerUri("/"));

        Assert.Equal("checkout", s.Tracer.NextFinished().Operation);
        Assert.Equal("checkout", Assert.Single(response.Headers.GetValues(HttpTracing.DecoratorOperationHeader)));
    }

    [Fact]
    public async Task Request_IncomingDecoratorOperation_RenamesTheSpanAndIsNotForwarded()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: checkout }
            """));
        var request = new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/"));
        request.Headers.Add(HttpTracing.DecoratorOperationHeader, "from-client");

        using var response = await s.Gateway.Client.SendAsync(request);
        var echoed = (await response.Content.ReadFromJsonAsync<EchoedRequest>())!;

        Assert.Equal("from-client", s.Tracer.NextFinished().Operation);
        Assert.False(echoed.Headers.ContainsKey(HttpTracing.DecoratorOperationHeader));
        Assert.False(response.Headers.Contains(HttpTracing.DecoratorOperationHeader));
    }

    [Fact]
    public async Task Request_EgressListenerDecorator_IsPropagatedUpstream()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, listener: "traffic_direction: OUTBOUND", routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: call-payments }
            """));

        var echoed = await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/")));

        Assert.Equal("call-payments", echoed.Headers[HttpTracing.DecoratorOperationHeader]);
        var span = s.Tracer.NextFinished();
        Assert.Equal(SpanDirection.Egress, span.Direction);
        Assert.Equal("call-payments", span.Operation);
    }

    [Fact]
    public async Task Request_OperationFormat_WinsOverTheDecoratorAndTheIncomingHeader()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + """

            operation: "%REQ(x-op)% %RESPONSE_CODE% %UPSTREAM_CLUSTER%%REQ(x-missing)%"
            """, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: checkout }
            """));
        var request = new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/status/201"));
        request.Headers.Add("x-op", "pay");
        request.Headers.Add(HttpTracing.DecoratorOperationHeader, "from-client");

        using var response = await s.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        // Evaluated as the span is finished: the response code is known; a missing header is empty, not "-".
        Assert.Equal("pay 201 echo", s.Tracer.NextFinished().Operation);
    }

    [Fact]
    public async Task Request_RouteOperations_WinOverTheConnectionManagers()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + """

            operation: hcm-op
            upstream_operation: hcm-upstream
            spawn_upstream_span: true
            """, routes: """
            - match: { prefix: "/route" }
              route: { cluster: echo, prefix_rewrite: "/" }
              tracing: { operation: "route-%REQ(:method)%", upstream_operation: "route-up-%UPSTREAM_HOST%" }
            - match: { prefix: "/" }
              route: { cluster: echo }
            """));

        await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/route")));
        var upstream = s.Tracer.NextFinished();
        var downstream = s.Tracer.NextFinished();
        await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/other")));
        var hcmUpstream = s.Tracer.NextFinished();
        var hcmDownstream = s.Tracer.NextFinished();

        Assert.Equal($"route-up-127.0.0.1:{s.Upstream.Port}", upstream.Operation);
        Assert.Equal(downstream.SpanId, upstream.ParentId);
        Assert.Equal("route-GET", downstream.Operation);
        Assert.Equal("hcm-upstream", hcmUpstream.Operation);
        Assert.Equal("hcm-op", hcmDownstream.Operation);
    }

    [Theory]
    [InlineData("start_child_span: true", "")]
    [InlineData("", "spawn_upstream_span: true")]
    public async Task Request_UpstreamSpans_OneChildPerAttemptUnderTheDownstreamSpan(string router, string tracing)
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, router: router, tracing: TracingYaml.RecordingProvider + "\n" + tracing, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo, retry_policy: { retry_on: 5xx, num_retries: 1 } }
            """));

        var echoed = await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/flaky/1/503")));

        var first = s.Tracer.NextFinished();
        var second = s.Tracer.NextFinished();
        var downstream = s.Tracer.NextFinished();
        Assert.Equal("router echo egress", first.Operation);
        Assert.Equal("router echo egress", second.Operation);
        Assert.Equal(downstream.SpanId, first.ParentId);
        Assert.Equal(downstream.SpanId, second.ParentId);
        Assert.Equal(downstream.TraceId, second.TraceId);
        Assert.Equal("503", first.Tags["http.status_code"]);
        Assert.Equal("true", first.Tags["error"]);
        Assert.False(first.Tags.ContainsKey("retry.count"));
        Assert.Equal("1", second.Tags["retry.count"]);
        Assert.Equal("200", second.Tags["http.status_code"]);
        Assert.Equal($"127.0.0.1:{s.Upstream.Port}", second.Tags["peer.address"]);
        Assert.Equal("HTTP/1.1", second.Tags["http.protocol"]);
        Assert.Equal("echo", second.Tags["upstream_cluster"]);
        Assert.Equal("proxy", second.Tags["component"]);
        // The upstream saw the context of the attempt's own span.
        Assert.Equal($"{second.TraceId}-{second.SpanId}", echoed.Headers[RecordingTracerFactory.Header]);
    }

    [Fact]
    public async Task Request_CustomTags_OfEachKind()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TRACING_TEST_ENV", "from-env");
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + """

            custom_tags:
            - { tag: literal, literal: { value: fixed } }
            - { tag: env, environment: { name: GATEWAY_TRACING_TEST_ENV } }
            - { tag: env-default, environment: { name: GATEWAY_TRACING_TEST_UNSET, default_value: dflt } }
            - { tag: env-none, environment: { name: GATEWAY_TRACING_TEST_UNSET } }
            - { tag: header, request_header: { name: x-tenant } }
            - { tag: header-default, request_header: { name: x-absent, default_value: none } }
            - { tag: response, response_header: { name: content-type } }
            - { tag: cluster-md, metadata: { kind: { cluster: {} }, metadata_key: { key: team, path: [ { key: owner } ] } } }
            - { tag: host-md, metadata: { kind: { host: {} }, metadata_key: { key: host, path: [ { key: zone } ] } } }
            - { tag: route-md, metadata: { kind: { route: {} }, metadata_key: { key: r, path: [ { key: n } ] } } }
            - { tag: shared, literal: { value: from-hcm } }
            """, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              metadata: { filter_metadata: { r: { n: 1.5 } } }
              tracing:
                custom_tags: [ { tag: shared, literal: { value: from-route } } ]
            """));
        var request = new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/"));
        request.Headers.Add("x-tenant", "acme");

        await EchoAsync(s, request);

        var tags = s.Tracer.NextFinished().Tags;
        Assert.Equal("fixed", tags["literal"]);
        Assert.Equal("from-env", tags["env"]);
        Assert.Equal("dflt", tags["env-default"]);
        Assert.False(tags.ContainsKey("env-none"));
        Assert.Equal("acme", tags["header"]);
        Assert.Equal("none", tags["header-default"]);
        Assert.Equal("application/json", tags["response"]);
        Assert.Equal("payments", tags["cluster-md"]);
        Assert.Equal("z1", tags["host-md"]);
        Assert.Equal("1.5", tags["route-md"]);
        Assert.Equal("from-route", tags["shared"]);
    }

    [Fact]
    public async Task Request_RouteTracingOverride_ReplacesTheSampling()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, routes: """
            - match: { prefix: "/quiet" }
              route: { cluster: echo }
              tracing: { random_sampling: { numerator: 0 } }
            - match: { prefix: "/" }
              route: { cluster: echo }
            """));

        await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/quiet")));
        await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/loud")));

        // An unsampled span gets no tags (it is never exported): the sampled one is the /loud request's.
        var spans = new[] { s.Tracer.NextFinished(), s.Tracer.NextFinished() }.OrderByDescending(x => x.Decision.Traced).ToArray();
        Assert.Equal(new TracingDecision(TraceReason.Sampling, true), spans[0].Decision);
        Assert.EndsWith("/loud", spans[0].Tags["http.url"], StringComparison.Ordinal);
        Assert.Equal(new TracingDecision(TraceReason.NotTraceable, false), spans[1].Decision);
        Assert.False(spans[1].Tags.ContainsKey("http.url"));
        await s.Gateway.AssertStatAsync("http.ingress_http.tracing.not_traceable", 1);
        await s.Gateway.AssertStatAsync("http.ingress_http.tracing.random_sampling", 1);
    }

    [Fact]
    public async Task Requests_TenPercentRandomSampling_LandWithinBound()
    {
        const int Requests = 1000;
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + "\nrandom_sampling: { value: 10 }"), new Random(20261202));

        for (var i = 0; i < Requests; i++)
        {
            using var response = await s.Gateway.Client.GetAsync(s.Gateway.ListenerUri("/status/204"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var traced = 0;
        for (var i = 0; i < Requests; i++)
        {
            traced += s.Tracer.NextFinished().Decision.Traced ? 1 : 0;
        }
        // Binomial(1000, 0.1): mean 100, sd 9.5; four sd either side.
        Assert.InRange(traced, 62, 138);
        await s.Gateway.AssertStatAsync("http.ingress_http.tracing.random_sampling", traced);
        await s.Gateway.AssertStatAsync("http.ingress_http.tracing.not_traceable", Requests - traced);
    }

    [Fact]
    public async Task Request_Verbose_LogsStreamEvents()
    {
        await using var s = await StartAsync(port => TracingYaml.Build(port, tracing: TracingYaml.RecordingProvider + "\nverbose: true\nmax_path_tag_length: 4"));

        await EchoAsync(s, new HttpRequestMessage(HttpMethod.Get, s.Gateway.ListenerUri("/long/path")));

        var span = s.Tracer.NextFinished();
        var names = span.Logs.Select(l => l.Name).ToArray();
        Assert.Contains(TracingTags.FirstUpstreamTxByteSent, names);
        Assert.Contains(TracingTags.FirstUpstreamRxByteReceived, names);
        Assert.Contains(TracingTags.LastDownstreamTxByteSent, names);
        Assert.EndsWith("/lon", span.Tags["http.url"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TracerContext_ClusterClient_IsTheAsyncClientUnlessTheSeamIsRegistered()
    {
        await using (var s = await StartAsync(port => TracingYaml.Build(port)))
        {
            // The gateway's async client: a client for a configured cluster, refused for another.
            Assert.IsAssignableFrom<HttpMessageInvoker>(s.Factory.Context!.ClusterClient("echo"));
            Assert.Throws<ArgumentException>(() => s.Factory.Context.ClusterClient("zipkin"));
        }

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        string? asked = null;
        var upstream = await EchoUpstream.StartAsync();
        var factory = new RecordingTracerFactory();
        await using (upstream)
        await using (var gateway = await InProcessGateway.StartAsync(TracingYaml.Build(upstream.Port),
            configureServices: services => services.AddSingleton(new TracingClusterClient(cluster => { asked = cluster; return invoker; })),
            configureGateway: g => g.Types.AddTracer(factory)))
        {
            Assert.Same(invoker, factory.Context!.ClusterClient("zipkin"));
            Assert.Equal("zipkin", asked);
        }
    }

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
