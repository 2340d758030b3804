using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Gateway.Xds;
using Gateway.Xds.Wire;

namespace Gateway.Tests.Xds;

/// <summary>
/// The gRPC xDS client against a real control plane (<see cref="TestAdsServer"/>, Grpc.AspNetCore on 127.0.0.1): the
/// whole configuration from ADS, updates that move traffic, a NACK that keeps the last good configuration, the control
/// plane going down and coming back, the initial fetch timeout. Real Kestrel upstreams behind the gateway.
/// </summary>
public sealed class GrpcXdsTests
{
    private const string Router = """{ "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }""";

    /// <summary>Only the xDS cluster: CDS and LDS from <paramref name="source"/>; <paramref name="adsOptions"/> are more fields of <c>ads_config</c>.</summary>
    internal static string Bootstrap(int adsPort, string source = "ads: {}", string adsOptions = "set_node_on_first_message_only: true") => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        node: { id: gateway-1, cluster: edge, locality: { zone: z1 }, metadata: { ISTIO_VERSION: "1.24.0", LABELS: { app: edge } } }
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            {{adsOptions}}
            grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster }, initial_metadata: [ { key: x-xds-token, value: t0k3n } ] } ]
          cds_config: { resource_api_version: V3, {{source}} }
          lds_config: { resource_api_version: V3, {{source}} }
        static_resources:
          clusters:
          - name: xds_cluster
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: { http2_protocol_options: {} }
            load_assignment:
              cluster_name: xds_cluster
              endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{adsPort}} } } } } ] } ]
        """;

    private static string EdsCluster(string name) => $$"""
        { "@type": "{{GrpcMux.ClusterType}}", "name": "{{name}}", "type": "EDS", "connect_timeout": "1s",
          "eds_cluster_config": { "eds_config": { "resource_api_version": "V3", "ads": {} } } }
        """;

    private static string Assignment(string cluster, params int[] ports)
    {
        var endpoints = string.Join(", ", ports.Select(p => $$"""{ "endpoint": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{p}} } } } }"""));
        return $$"""{ "@type": "{{GrpcMux.EndpointType}}", "cluster_name": "{{cluster}}", "endpoints": [ { "lb_endpoints": [ {{endpoints}} ] } ] }""";
    }

    private const string Listener = $$"""
        { "@type": "{{GrpcMux.ListenerType}}", "name": "main",
          "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } },
          "filter_chains": [ { "filters": [ { "name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "ingress",
            "rds": { "route_config_name": "local", "config_source": { "resource_api_version": "V3", "ads": {} } },
            "http_filters": [ {{Router}} ] } } ] } ] }
        """;

    /// <summary>Routes: each (prefix, cluster) in order, or a <c>safe_regex</c> match when the prefix starts with <c>~</c>.</summary>
    private static string Routes(params (string Prefix, string Cluster)[] routes)
    {
        var list = string.Join(", ", routes.Select(r => r.Prefix.StartsWith('~')
            ? $$"""{ "match": { "safe_regex": { "regex": "{{r.Prefix[1..]}}" } }, "route": { "cluster": "{{r.Cluster}}" } }"""
            : $$"""{ "match": { "prefix": "{{r.Prefix}}" }, "route": { "cluster": "{{r.Cluster}}" } }"""));
        return $$"""{ "@type": "{{GrpcMux.RouteType}}", "name": "local", "virtual_hosts": [ { "name": "all", "domains": ["*"], "routes": [ {{list}} ] } ] }""";
    }

    /// <summary>The control plane's first configuration: listener main → route local → EDS cluster backend → <paramref name="upstream"/>.</summary>
    private static void ServeInitial(TestAdsServer ads, EchoUpstream upstream)
    {
        ads.Set(GrpcMux.ClusterType, "c1", EdsCluster("backend"));
        ads.Set(GrpcMux.EndpointType, "e1", Assignment("backend", upstream.Port));
        ads.Set(GrpcMux.ListenerType, "l1", Listener);
        ads.Set(GrpcMux.RouteType, "r1", Routes(("/", "backend")));
    }

    private static async Task<HttpStatusCode> GetAsync(InProcessGateway gateway, string path)
    {
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path, "main"));
        return response.StatusCode;
    }

    private static Task WaitForUpstreamAsync(InProcessGateway gateway, EchoUpstream upstream, string path, string what)
        => HealthCheckTestConfig.WaitUntilAsync(async () =>
        {
            var before = upstream.Requests;
            return gateway.Gateway.ListenerBoundEndPoint("main") is not null && await GetAsync(gateway, path) == HttpStatusCode.OK && upstream.Requests > before;
        }, what);

    [Fact]
    public async Task Ads_EverythingFromTheControlPlane_RoutesTrafficAfterAckingEachTypeInEnvoysOrder()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);

        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));

        // Initialization waited for every type: the listener serves at once.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/"));
        Assert.Equal(1, upstream.Requests);
        var requests = ads.Requests;
        var first = requests[0];
        Assert.Equal(GrpcMux.ClusterType, first.TypeUrl);
        Assert.Equal("gateway-1", first.Node.Id);
        Assert.Equal("edge", first.Node.Cluster);
        Assert.Equal("z1", first.Node.Locality.Zone);
        Assert.Equal("1.24.0", first.Node.Metadata.Fields["ISTIO_VERSION"].StringValue);
        Assert.Equal("edge", first.Node.Metadata.Fields["LABELS"].StructValue.Fields["app"].StringValue);
        Assert.Equal("envoy", first.Node.UserAgentName);
        // The gRPC service's initial_metadata went with the stream.
        Assert.Equal("t0k3n", ads.LastStreamHeaders?.GetValue("x-xds-token"));
        Assert.Empty(first.ResourceNames);
        // set_node_on_first_message_only: the node went once.
        Assert.All(requests.Skip(1), r => Assert.Null(r.Node));
        var order = requests.Where(r => r.ResponseNonce.Length == 0).Select(r => r.TypeUrl).ToList();
        Assert.Equal([GrpcMux.ClusterType, GrpcMux.EndpointType, GrpcMux.ListenerType, GrpcMux.RouteType], order);
        Assert.Equal(["backend"], requests.First(r => r.TypeUrl == GrpcMux.EndpointType).ResourceNames);
        Assert.Equal(["local"], requests.First(r => r.TypeUrl == GrpcMux.RouteType).ResourceNames);
        foreach (var (type, version) in new[] { (GrpcMux.ClusterType, "c1"), (GrpcMux.EndpointType, "e1"), (GrpcMux.ListenerType, "l1"), (GrpcMux.RouteType, "r1") })
        {
            var ack = await ads.WaitForRequestAsync(r => r.TypeUrl == type && r.ResponseNonce.Length > 0, "ACK of " + type);
            Assert.Equal(version, ack.VersionInfo);
            Assert.Null(ack.ErrorDetail);
        }
        await gateway.AssertStatAsync("control_plane.connected_state", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        await gateway.AssertStatAsync("cluster.backend.update_success", 1);
        await gateway.AssertStatAsync("listener_manager.lds.update_success", 1);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_success", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 0);
        var endpoints = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_endpoint_configs&include_eds"));
        Assert.Contains("\"version_info\": \"e1\"", endpoints, StringComparison.Ordinal);
        Assert.Contains("\"cluster_name\": \"backend\"", endpoints, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ads_ClusterAndRouteAdded_TrafficMoves()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, first);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/two"));
        Assert.Equal(1, first.Requests);

        ads.Set(GrpcMux.ClusterType, "c2", EdsCluster("backend"), EdsCluster("backend2"));
        ads.Set(GrpcMux.EndpointType, "e2", Assignment("backend", first.Port), Assignment("backend2", second.Port));
        ads.Set(GrpcMux.RouteType, "r2", Routes(("/two", "backend2"), ("/", "backend")));

        await WaitForUpstreamAsync(gateway, second, "/two", "/two routed to the second upstream");
        var before = first.Requests;
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/one"));
        Assert.Equal(before + 1, first.Requests);
        await gateway.AssertStatAsync("cluster_manager.cluster_added", 3);
        // Set from the plan each update applied (not the one before it).
        await gateway.AssertStatAsync("cluster_manager.active_clusters", 3);
        await gateway.AssertStatAsync("listener_manager.total_listeners_active", 1);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_success", 2);
        var edsRequest = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.EndpointType && r.ResourceNames.Count == 2, "EDS for both clusters");
        Assert.Equal(["backend", "backend2"], edsRequest.ResourceNames);
    }

    [Fact]
    public async Task Ads_RouteWithBadRegex_IsNackedWithErrorDetailAndTheLastGoodConfigStays()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));

        ads.Set(GrpcMux.RouteType, "r2", Routes(("~/(unclosed", "backend")));

        var nack = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ErrorDetail is not null, "an RDS NACK");
        Assert.Equal("r1", nack.VersionInfo);
        Assert.Equal(13, nack.ErrorDetail.Code);
        Assert.Contains("rds: resources[0].virtual_hosts[0].routes[0].match.safe_regex.regex", nack.ErrorDetail.Message, StringComparison.Ordinal);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_rejected", 1);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/anything"));

        // The next good version is taken, and its ACK carries no error.
        ads.Set(GrpcMux.RouteType, "r3", Routes(("/", "backend")));
        var ack = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.VersionInfo == "r3", "the ACK of r3");
        Assert.Null(ack.ErrorDetail);
    }

    [Fact]
    public async Task Ads_ClusterPartlyBad_TheGoodOnesAreAppliedAndTheResponseNacked()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));

        var bad = $$"""
            { "@type": "{{GrpcMux.ClusterType}}", "name": "broken", "type": "STATIC", "connect_timeout": "1s",
              "load_assignment": { "cluster_name": "broken", "endpoints": [ { "lb_endpoints": [ { "endpoint": { "address": { "socket_address": { "address": "not-an-ip", "port_value": 80 } } } } ] } ] } }
            """;
        ads.Set(GrpcMux.ClusterType, "c2", EdsCluster("backend"), EdsCluster("added"), bad);

        var nack = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.ClusterType && r.ErrorDetail is not null, "a CDS NACK");
        Assert.Equal("c1", nack.VersionInfo);
        Assert.StartsWith("Error adding/updating cluster(s) broken: ", nack.ErrorDetail.Message, StringComparison.Ordinal);
        // Envoy applies the valid clusters of a partly bad CDS response.
        await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.EndpointType && r.ResourceNames.Contains("added"), "EDS for the added cluster");
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 1);
    }

    [Fact]
    public async Task Ads_ControlPlaneDownAndBack_ConfigKeptThenResubscribedWithTheAcceptedVersions()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));
        await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ResponseNonce.Length > 0, "the RDS ACK");

        await ads.StopAsync();
        await gateway.AssertStatAsync("control_plane.connected_state", 0);
        Assert.True(await gateway.StatAsync("cluster_manager.cds.update_failure") >= 1);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/still-served"));

        var seen = ads.Requests.Count;
        await ads.RestartAsync();
        var cds = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.ClusterType, "CDS again on the new stream", seen);
        Assert.Equal("c1", cds.VersionInfo);
        Assert.Equal(string.Empty, cds.ResponseNonce);
        // A new stream sends the node again.
        Assert.Equal("gateway-1", cds.Node.Id);
        var eds = await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.EndpointType, "EDS again on the new stream", seen);
        Assert.Equal(["backend"], eds.ResourceNames);
        await gateway.AssertStatAsync("control_plane.connected_state", 1);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/after"));
    }

    [Fact]
    public async Task Ads_NoControlPlane_InitialFetchTimesOutAndTheGatewayStarts()
    {
        var port = FreePort();

        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(port, "ads: {}, initial_fetch_timeout: 0.2s"));

        await gateway.AssertStatAsync("cluster_manager.cds.init_fetch_timeout", 1);
        await gateway.AssertStatAsync("listener_manager.lds.init_fetch_timeout", 1);
        await gateway.AssertStatAsync("control_plane.connected_state", 0);
        Assert.True(await gateway.StatAsync("cluster_manager.cds.update_failure") >= 1);
    }

    [Fact]
    public async Task Ads_EndpointChurnUnderLoad_EveryRequestSucceeds()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, first);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var failures = 0;
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref sent);
                if (await GetAsync(gateway, "/load") != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        // Hosts added and removed every 100 ms: one, both, the other, both, ...
        int[][] sets = [[first.Port], [first.Port, second.Port], [second.Port], [first.Port, second.Port]];
        for (var i = 0; i < 20; i++)
        {
            ads.Set(GrpcMux.EndpointType, "e" + (i + 2), Assignment("backend", sets[i % sets.Length]));
            await Task.Delay(100);
        }
        await load;

        Assert.Equal(0, failures);
        Assert.True(sent > 20, $"only {sent} requests were sent");
        Assert.True(first.Requests > 0 && second.Requests > 0);
        await gateway.AssertStatAsync("cluster.backend.update_rejected", 0);
    }

    [Fact]
    public async Task ApiConfigSource_EachTypeOnItsOwnStream_RoutesTraffic()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        const string Own = "\"api_config_source\": { \"api_type\": \"GRPC\", \"transport_api_version\": \"V3\", \"set_node_on_first_message_only\": true, \"grpc_services\": [ { \"envoy_grpc\": { \"cluster_name\": \"xds_cluster\" } } ] }";
        ads.Set(GrpcMux.ClusterType, "c1", EdsCluster("backend").Replace("\"ads\": {}", Own, StringComparison.Ordinal));
        ads.Set(GrpcMux.EndpointType, "e1", Assignment("backend", upstream.Port));
        ads.Set(GrpcMux.ListenerType, "l1", Listener.Replace("\"ads\": {}", Own, StringComparison.Ordinal));
        ads.Set(GrpcMux.RouteType, "r1", Routes(("/", "backend")));

        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port,
            "api_config_source: { api_type: GRPC, transport_api_version: V3, set_node_on_first_message_only: true, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }"));

        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/"));
        Assert.Equal(1, upstream.Requests);
        // Four streams, each with its node on its first request (set_node_on_first_message_only is per stream).
        var withNode = ads.Requests.Where(r => r.Node is not null).Select(r => r.TypeUrl).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([GrpcMux.ClusterType, GrpcMux.EndpointType, GrpcMux.ListenerType, GrpcMux.RouteType], withNode);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_success", 1);
    }

    [Fact]
    public async Task Ads_RateLimitSettings_RequestsWaitForTokensAndAllGoOut()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);

        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port, adsOptions: "rate_limit_settings: { max_tokens: 1, fill_rate: 20 }"));

        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/"));
        await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ResponseNonce.Length > 0, "the RDS ACK");
        Assert.True(await gateway.StatAsync("control_plane.rate_limit_enforced") >= 1);
        // Without set_node_on_first_message_only every request carries the node.
        Assert.All(ads.Requests, r => Assert.Equal("gateway-1", r.Node.Id));
    }

    private static string DeltaBootstrap(int adsPort) => Bootstrap(adsPort).Replace("api_type: GRPC", "api_type: DELTA_GRPC", StringComparison.Ordinal);

    [Fact]
    public async Task DeltaAds_EverythingFromTheControlPlane_RoutesTrafficAfterWildcardAndNamedSubscriptions()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);

        await using var gateway = await InProcessGateway.StartAsync(DeltaBootstrap(ads.Port));

        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/"));
        var requests = ads.DeltaRequests;
        Assert.Empty(ads.Requests);
        var first = requests[0];
        Assert.Equal(GrpcMux.ClusterType, first.TypeUrl);
        Assert.Equal("gateway-1", first.Node.Id);
        // CDS and LDS: the legacy wildcard (no names); EDS and RDS: the names the clusters and listeners use.
        Assert.Empty(first.ResourceNamesSubscribe);
        Assert.Equal(["backend"], requests.First(r => r.TypeUrl == GrpcMux.EndpointType).ResourceNamesSubscribe);
        Assert.Equal(["local"], requests.First(r => r.TypeUrl == GrpcMux.RouteType).ResourceNamesSubscribe);
        foreach (var type in new[] { GrpcMux.ClusterType, GrpcMux.EndpointType, GrpcMux.ListenerType, GrpcMux.RouteType })
        {
            var ack = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == type && r.ResponseNonce.Length > 0, "ACK of " + type);
            Assert.Null(ack.ErrorDetail);
            Assert.Empty(ack.ResourceNamesSubscribe);
        }
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_success", 1);
    }

    [Fact]
    public async Task DeltaAds_ClusterAddedThenRemoved_TrafficMovesThenTheRouteAnswersNoCluster()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, first);
        await using var gateway = await InProcessGateway.StartAsync(DeltaBootstrap(ads.Port));

        ads.Set(GrpcMux.ClusterType, "c2", EdsCluster("backend"), EdsCluster("backend2"));
        ads.Set(GrpcMux.EndpointType, "e2", Assignment("backend", first.Port), Assignment("backend2", second.Port));
        ads.Set(GrpcMux.RouteType, "r2", Routes(("/two", "backend2"), ("/", "backend")));
        await WaitForUpstreamAsync(gateway, second, "/two", "/two routed to the second upstream");
        // Only the new cluster came: the unchanged one was not sent again.
        var seen = ads.DeltaRequests.Count;

        ads.Set(GrpcMux.ClusterType, "c3", EdsCluster("backend"));

        var unsubscribe = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.EndpointType && r.ResourceNamesUnsubscribe.Count > 0, "EDS unsubscribing backend2", seen);
        Assert.Equal(["backend2"], unsubscribe.ResourceNamesUnsubscribe);
        await HealthCheckTestConfig.WaitUntilAsync(async () => await GetAsync(gateway, "/two") == HttpStatusCode.ServiceUnavailable, "/two answers 503 once backend2 is removed");
        await gateway.AssertStatAsync("cluster_manager.cluster_removed", 1);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/one"));
    }

    [Fact]
    public async Task DeltaAds_ControlPlaneDownAndBack_ResubscribesWithTheVersionsHeld()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);
        await using var gateway = await InProcessGateway.StartAsync(DeltaBootstrap(ads.Port));
        await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ResponseNonce.Length > 0, "the RDS ACK");
        var heldVersion = ads.DeltaRequests.Count;

        await ads.StopAsync();
        await gateway.AssertStatAsync("control_plane.connected_state", 0);
        await ads.RestartAsync();

        var cds = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.ClusterType, "CDS again on the new stream", heldVersion);
        Assert.Equal(["backend"], cds.InitialResourceVersions.Keys);
        Assert.Equal(string.Empty, cds.ResponseNonce);
        var eds = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.EndpointType, "EDS again on the new stream", heldVersion);
        Assert.Equal(["backend"], eds.ResourceNamesSubscribe);
        Assert.Equal(["backend"], eds.InitialResourceVersions.Keys);
        await gateway.AssertStatAsync("control_plane.connected_state", 1);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/after"));
    }

    [Fact]
    public async Task DeltaAds_RouteWithBadRegex_IsNackedAndTheNextGoodOneAcked()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, upstream);
        await using var gateway = await InProcessGateway.StartAsync(DeltaBootstrap(ads.Port));

        ads.Set(GrpcMux.RouteType, "r2", Routes(("~/(unclosed", "backend")));

        var nack = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ErrorDetail is not null, "an RDS NACK");
        Assert.Contains("safe_regex.regex", nack.ErrorDetail.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/anything"));
        var seen = ads.DeltaRequests.Count;
        ads.Set(GrpcMux.RouteType, "r3", Routes(("/", "backend")));
        var ack = await ads.WaitForDeltaRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.ResponseNonce.Length > 0, "the ACK of r3", seen);
        Assert.Null(ack.ErrorDetail);
        await gateway.AssertStatAsync("http.ingress.rds.local.update_rejected", 1);
    }

    [Fact]
    public async Task Ads_XdsClusterWithTls_StreamsOverTheClustersTlsContext()
    {
        var certificates = Tls.TestCertificates.Shared;
        using var serverCertificate = certificates.Client("server");
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync(serverCertificate);
        ServeInitial(ads, upstream);
        var bootstrap = Bootstrap(ads.Port) + $$"""

                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    sni: localhost
                    common_tls_context:
                      validation_context:
                        trusted_ca: { filename: {{certificates.PathOf("ca.pem")}} }
                        match_typed_subject_alt_names: [ { san_type: DNS, matcher: { exact: localhost } } ]
            """;

        await using var gateway = await InProcessGateway.StartAsync(bootstrap);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/"));
        await gateway.AssertStatAsync("cluster.xds_cluster.ssl.handshake", 1);
        await gateway.AssertStatAsync("control_plane.connected_state", 1);
    }

    [Fact]
    public async Task Ads_XdsServerCertificateNotTrusted_NeverConnects()
    {
        var certificates = Tls.TestCertificates.Shared;
        using var serverCertificate = certificates.Client("server");
        await using var ads = await TestAdsServer.StartAsync(serverCertificate);
        var bootstrap = Bootstrap(ads.Port, "ads: {}, initial_fetch_timeout: 0.3s") + $$"""

                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    common_tls_context: { validation_context: { trusted_ca: { filename: {{certificates.PathOf("other-ca.pem")}} } } }
            """;

        await using var gateway = await InProcessGateway.StartAsync(bootstrap);

        await gateway.AssertStatAsync("cluster_manager.cds.init_fetch_timeout", 1);
        Assert.Empty(ads.Requests);
        Assert.True(await gateway.StatAsync("cluster.xds_cluster.ssl.fail_verify_error") >= 1);
    }

    [Fact]
    public async Task Ads_NewEdsClusterWithoutItsAssignment_WarmsUntilItArrives()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        ServeInitial(ads, first);
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));

        // The control plane has no assignment for backend2 yet.
        ads.Set(GrpcMux.ClusterType, "c2", EdsCluster("backend"), EdsCluster("backend2"));
        ads.Set(GrpcMux.RouteType, "r2", Routes(("/two", "backend2"), ("/", "backend")));
        await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.VersionInfo == "r2", "the ACK of r2");

        // Envoy's warming cluster: not used (a route to it finds no cluster), listed as warming.
        await gateway.AssertStatAsync("cluster_manager.warming_clusters", 1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync(gateway, "/two"));
        await gateway.AssertStatAsync("http.ingress.no_cluster", 1);
        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_warming_clusters"));
        Assert.Contains("\"name\": \"backend2\"", dump, StringComparison.Ordinal);

        ads.Set(GrpcMux.EndpointType, "e2", Assignment("backend", first.Port), Assignment("backend2", second.Port));

        await WaitForUpstreamAsync(gateway, second, "/two", "/two served once backend2 warmed");
        await gateway.AssertStatAsync("cluster_manager.warming_clusters", 0);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/one"));
    }

    [Fact]
    public async Task Ads_HundredRouteAndClusterUpdatesUnderWrk_NoFailedOrMixedResponse()
    {
        const string Wrk = "/usr/bin/wrk";
        if (!File.Exists(Wrk))
        {
            Assert.Fail($"wrk is needed for this test: apt-get install wrk ({Wrk} not found){(Environment.GetEnvironmentVariable("CI") == "true" ? "; .ci/run must install it" : string.Empty)}");
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var ads = await TestAdsServer.StartAsync();
        string StaticCluster(int n) => $$"""
            { "@type": "{{GrpcMux.ClusterType}}", "name": "c{{n}}", "type": "STATIC", "connect_timeout": "1s",
              "load_assignment": { "cluster_name": "c{{n}}", "endpoints": [ { "lb_endpoints": [ { "endpoint": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{upstream.Port}} } } } } ] } ] } }
            """;
        // Route table i: everything to cluster c<i>, saying which table and which cluster served it.
        string RouteTable(int n) => $$"""
            { "@type": "{{GrpcMux.RouteType}}", "name": "local", "virtual_hosts": [ { "name": "all", "domains": ["*"], "routes": [
              { "match": { "prefix": "/" }, "route": { "cluster": "c{{n}}" },
                "response_headers_to_add": [ { "header": { "key": "x-route", "value": "{{n}}" } }, { "header": { "key": "x-cluster", "value": "%UPSTREAM_CLUSTER%" } } ] } ] } ] }
            """;
        ads.Set(GrpcMux.ClusterType, "c0", StaticCluster(0));
        ads.Set(GrpcMux.ListenerType, "l1", Listener);
        ads.Set(GrpcMux.RouteType, "r0", RouteTable(0));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap(ads.Port));
        var directory = Directory.CreateTempSubdirectory("gateway-ads-stress-").FullName;
        try
        {
            var script = Path.Combine(directory, "check.lua");
            File.WriteAllText(script, """
                local threads = {}
                function setup(thread) table.insert(threads, thread) end
                function init(args) checked = 0; mismatched = 0; first = "" end
                function response(status, headers, body)
                  checked = checked + 1
                  local route = headers["x-route"]
                  if status ~= 200 or route == nil or headers["x-cluster"] ~= ("c" .. route) then
                    mismatched = mismatched + 1
                    if first == "" then first = string.format("status %d route %s cluster %s body %s", status, tostring(route), tostring(headers["x-cluster"]), body) end
                  end
                end
                function done(summary, latency, requests)
                  local c, m = 0, 0
                  for _, t in ipairs(threads) do
                    c = c + t:get("checked"); m = m + t:get("mismatched")
                    if t:get("first") ~= "" then io.write("first mismatch: " .. t:get("first") .. "\n") end
                  end
                  io.write(string.format("checked %d mismatched %d\n", c, m))
                end
                """);
            var psi = new System.Diagnostics.ProcessStartInfo(Wrk) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-t", "2", "-c", "8", "-d", "60s", "-s", script, gateway.ListenerUri("/", "main").ToString() })
            {
                psi.ArgumentList.Add(arg);
            }
            using var wrk = System.Diagnostics.Process.Start(psi)!;
            var output = wrk.StandardOutput.ReadToEndAsync();
            var errors = wrk.StandardError.ReadToEndAsync();
            try
            {
                await Task.Delay(500);
                for (var i = 1; i <= 100; i++)
                {
                    // CDS first (the new cluster beside those in use), then the route table moving to it. A cluster goes
                    // two updates after its routes did: a request that matched a route just before its table changed
                    // still finds its cluster (as on Envoy, whose router looks the cluster up by name after the match).
                    var seen = ads.Requests.Count;
                    ads.Set(GrpcMux.ClusterType, "c" + i, [.. Enumerable.Range(Math.Max(0, i - 2), Math.Min(i, 2) + 1).Select(StaticCluster)]);
                    await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.ClusterType && r.VersionInfo == "c" + i, "the ACK of CDS " + i, seen);
                    ads.Set(GrpcMux.RouteType, "r" + i, RouteTable(i));
                    await ads.WaitForRequestAsync(r => r.TypeUrl == GrpcMux.RouteType && r.VersionInfo == "r" + i, "the ACK of RDS " + i, seen);
                }
            }
            finally
            {
                // wrk reports what it did when interrupted.
                System.Diagnostics.Process.Start("kill", ["-INT", wrk.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            }
            await wrk.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var report = await output + await errors;

            var counts = System.Text.RegularExpressions.Regex.Match(report, @"checked (\d+) mismatched (\d+)");
            Assert.True(counts.Success, report);
            Assert.True(long.Parse(counts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 1000, "the load ran: " + report);
            Assert.True(counts.Groups[2].Value == "0", report);
            Assert.DoesNotContain("Non-2xx", report, StringComparison.Ordinal);
            Assert.DoesNotContain("Socket errors", report, StringComparison.Ordinal);
            Assert.DoesNotContain(ads.Requests, r => r.ErrorDetail is not null);
            await gateway.AssertStatAsync("cluster_manager.active_clusters", 4);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
