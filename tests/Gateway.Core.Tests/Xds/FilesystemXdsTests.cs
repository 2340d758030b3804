using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Xunit;

namespace Gateway.Tests.Xds;

/// <summary>
/// Envoy's file-based xDS: <c>dynamic_resources.cds_config</c>, EDS clusters and RDS route tables read from
/// DiscoveryResponse files, applied when a file is moved into place, with Envoy's stats and its rules for refused updates.
/// Real Kestrel upstreams and gateway.
/// </summary>
public sealed class FilesystemXdsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-xds-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CdsPath => Path.Combine(_directory, "cds.yaml");

    private string EdsPath => Path.Combine(_directory, "eds.yaml");

    private string RdsPath => Path.Combine(_directory, "rds.yaml");

    /// <summary>The one-listener bootstrap the tests share: <paramref name="routes"/> is the connection manager's route field (flow YAML).</summary>
    internal static string Bootstrap(string routes, string clusters = "[]", string dynamicResources = "") => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        {{dynamicResources}}
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  http_filters: [ { name: envoy.filters.http.router } ]
                  {{routes}}
          clusters: {{clusters}}
        """;

    /// <summary>A bootstrap whose listener routes <c>/a</c> to cluster <c>a</c> and <c>/b</c> to <c>b</c>, both from CDS.</summary>
    private string CdsBootstrap(string extraClusters = "") => Bootstrap(
        """route_config: { name: local_route, validate_clusters: false, virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/a" }, route: { cluster: a } }, { match: { prefix: "/b" }, route: { cluster: b } } ] } ] }""",
        "[" + extraClusters + "]",
        $"dynamic_resources: {{ cds_config: {{ resource_api_version: V3, path_config_source: {{ path: {CdsPath} }} }} }}");

    internal static string Cluster(string name, int port, string extra = "") => $$"""
          - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
            name: {{name}}
            connect_timeout: 1s
            {{extra}}
            load_assignment:
              cluster_name: {{name}}
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
        """;

    internal static string Response(string version, params string[] resources)
        => $"version_info: \"{version}\"\nresources:" + (resources.Length == 0 ? " []\n" : "\n" + string.Join("\n", resources) + "\n");

    private static async Task<HttpStatusCode> StatusAsync(InProcessGateway gateway, string path)
    {
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));
        return response.StatusCode;
    }

    private static Task WaitForStatusAsync(InProcessGateway gateway, string path, HttpStatusCode status, string what)
        => HealthCheckTestConfig.WaitUntilAsync(async () => await StatusAsync(gateway, path) == status, what);

    private static async Task<string> StatsTextAsync(InProcessGateway gateway) => await gateway.Client.GetStringAsync(gateway.AdminUri("/stats"));

    [Fact]
    public async Task Cds_InitialFile_ClustersServeAndStatsCountTheUpdate()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        // b is not in CDS: Envoy's 503 with NC.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(gateway, "/b"));
        await gateway.AssertStatAsync("http.ingress_http.no_cluster", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_attempt", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 0);
        await gateway.AssertStatAsync("cluster_manager.cluster_added", 1);
        await gateway.AssertStatAsync("cluster_manager.active_clusters", 1);
        Assert.Contains("cluster_manager.cds.version_text: \"v1\"\n", await StatsTextAsync(gateway), StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.a.upstream_rq_200", 1);
    }

    [Fact]
    public async Task Cds_FileMovedIntoPlace_AddsModifiesAndRemovesClusters()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", first.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));

        // b added; a moved to the second upstream.
        FileSdsTests.MoveIntoPlace(CdsPath, Response("v2", Cluster("a", second.Port), Cluster("b", first.Port)));
        await WaitForStatusAsync(gateway, "/b", HttpStatusCode.OK, "cluster b is added");
        var before = second.Requests;
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        Assert.Equal(before + 1, second.Requests);
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 2);
        await gateway.AssertStatAsync("cluster_manager.cluster_added", 2);
        await gateway.AssertStatAsync("cluster_manager.cluster_modified", 1);

        // a removed: its route answers NC and its stats are gone, as Envoy drops a removed cluster's scope.
        FileSdsTests.MoveIntoPlace(CdsPath, Response("v3", Cluster("b", first.Port)));
        await WaitForStatusAsync(gateway, "/a", HttpStatusCode.ServiceUnavailable, "cluster a is removed");
        await gateway.AssertStatAsync("cluster_manager.cluster_removed", 1);
        await gateway.AssertStatAsync("cluster_manager.active_clusters", 1);
        Assert.DoesNotContain("cluster.a.", await StatsTextAsync(gateway), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/b"));
        Assert.Contains("cluster_manager.cds.version_text: \"v3\"\n", await StatsTextAsync(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cds_OneClusterInvalid_TheOthersApplyAndTheUpdateIsRejected()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());
        var manager = (Gateway.Hosting.ConfigManager)gateway.Services.GetService(typeof(Gateway.Hosting.ConfigManager))!;

        // a gets a type this gateway refuses (a factory error, not a proto constraint): a keeps its last good version, b is added.
        FileSdsTests.MoveIntoPlace(CdsPath, Response("v2", Cluster("a", upstream.Port, "type: ORIGINAL_DST"), Cluster("b", upstream.Port)));
        await WaitForStatusAsync(gateway, "/b", HttpStatusCode.OK, "cluster b is added");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 1);
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        Assert.StartsWith("Error adding/updating cluster(s) a: ", manager.Cds!.LastError, StringComparison.Ordinal);
        Assert.Contains("ORIGINAL_DST is not supported", manager.Cds.LastError, StringComparison.Ordinal);
        Assert.Contains($"{CdsPath}:", manager.Cds.LastError, StringComparison.Ordinal);
        Assert.Equal("v1", manager.State.Clusters.Single(c => c.Name == "a").Version);
        Assert.Equal("v2", manager.State.Clusters.Single(c => c.Name == "b").Version);
    }

    [Fact]
    public async Task Cds_ProtoConstraintBroken_WholeResponseRejected()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());

        FileSdsTests.MoveIntoPlace(CdsPath, Response("v2", Cluster("a", upstream.Port), Cluster("b", upstream.Port, "connect_timeout: -1s")));
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(gateway, "/b"));
        Assert.Contains("cluster_manager.cds.version_text: \"v1\"\n", await StatsTextAsync(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cds_NotYaml_CountsUpdateFailureAndKeepsTheConfiguration()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());

        FileSdsTests.MoveIntoPlace(CdsPath, "resources: [ {");
        await gateway.AssertStatAsync("cluster_manager.cds.update_failure", 1);
        // An unknown field: read, but refused.
        FileSdsTests.MoveIntoPlace(CdsPath, Response("v2", Cluster("a", upstream.Port, "no_such_field: 1")));
        await gateway.AssertStatAsync("cluster_manager.cds.update_rejected", 1);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        await gateway.AssertStatAsync("cluster_manager.cds.update_attempt", 3);
    }

    [Fact]
    public async Task Cds_StaticClusterInResponse_IsNotChangedAndNotAnError()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", 1)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap(extraClusters:
            $"{{ name: a, connect_timeout: 1s, load_assignment: {{ cluster_name: a, endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {upstream.Port} }} }} }} }} ] }} ] }} }}"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        await gateway.AssertStatAsync("cluster_manager.cds.update_success", 1);
        await gateway.AssertStatAsync("cluster_manager.active_clusters", 1);
    }

    /// <summary>A bootstrap with one static EDS cluster <c>a</c> whose endpoints come from <see cref="EdsPath"/>.</summary>
    private string EdsBootstrap(string serviceName = "") => Bootstrap(
        """route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: a } } ] } ] }""",
        $"[ {{ name: a, type: EDS, connect_timeout: 1s, eds_cluster_config: {{ {(serviceName.Length == 0 ? "" : "service_name: " + serviceName + ", ")}eds_config: {{ path_config_source: {{ path: {EdsPath} }} }} }} }} ]");

    internal static string Assignment(string clusterName, params int[] ports) => $$"""
          - "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
            cluster_name: {{clusterName}}
            endpoints:
            - lb_endpoints:
        """ + string.Concat(ports.Select(p => $"\n          - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {p} }} }} }}"));

    [Fact]
    public async Task Eds_AssignmentFile_EndpointsServeAndAMovedFileReplacesThem()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        File.WriteAllText(EdsPath, Response("e1", Assignment("a", first.Port)));
        await using var gateway = await InProcessGateway.StartAsync(EdsBootstrap());

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/get"));
        Assert.Equal(1, first.Requests);
        await gateway.AssertStatAsync("cluster.a.update_success", 1);
        await gateway.AssertStatAsync("cluster.a.membership_total", 1);

        FileSdsTests.MoveIntoPlace(EdsPath, Response("e2", Assignment("a", second.Port)));
        await gateway.AssertStatAsync("cluster.a.update_success", 2);
        await HealthCheckTestConfig.WaitUntilAsync(async () =>
        {
            var before = second.Requests;
            await StatusAsync(gateway, "/get");
            return second.Requests == before + 1;
        }, "requests go to the new endpoint");
        Assert.Contains("cluster.a.version_text: \"e2\"\n", await StatsTextAsync(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eds_WrongClusterName_RejectedAndTheHostsKept()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(EdsPath, Response("e1", Assignment("svc", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(EdsBootstrap(serviceName: "svc"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/get"));

        FileSdsTests.MoveIntoPlace(EdsPath, Response("e2", Assignment("a", 1)));
        await gateway.AssertStatAsync("cluster.a.update_rejected", 1);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/get"));
        // Two assignments in one EDS response.
        FileSdsTests.MoveIntoPlace(EdsPath, Response("e3", Assignment("svc", 1), Assignment("svc", 2)));
        await gateway.AssertStatAsync("cluster.a.update_rejected", 2);
        // An empty response leaves the hosts as they are.
        FileSdsTests.MoveIntoPlace(EdsPath, Response("e4"));
        await gateway.AssertStatAsync("cluster.a.update_empty", 1);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/get"));
    }

    [Fact]
    public async Task Eds_ClusterFromCds_WarmsWithItsAssignment()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(EdsPath, Response("e1", Assignment("a", upstream.Port)));
        File.WriteAllText(CdsPath, Response("v1", $$"""
              - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
                name: a
                type: EDS
                connect_timeout: 1s
                eds_cluster_config: { eds_config: { path_config_source: { path: {{EdsPath}} } } }
            """));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        await gateway.AssertStatAsync("cluster.a.update_success", 1);
    }

    [Fact]
    public async Task Eds_ManyClustersFilesMovedTogether_OneWatcherAndEveryClusterUpdated()
    {
        const int Count = 40;
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        var edsDirectory = Directory.CreateDirectory(Path.Combine(_directory, "eds")).FullName;
        string EdsFile(int i) => Path.Combine(edsDirectory, $"c{i}.yaml");
        var clusters = new List<string>();
        for (var i = 0; i < Count; i++)
        {
            File.WriteAllText(EdsFile(i), Response("e1", Assignment($"c{i}", first.Port)));
            clusters.Add($$"""
                  - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
                    name: c{{i}}
                    type: EDS
                    connect_timeout: 1s
                    eds_cluster_config: { eds_config: { path_config_source: { path: {{EdsFile(i)}} } } }
                """);
        }
        File.WriteAllText(CdsPath, Response("v1", [.. clusters, Cluster("a", first.Port)]));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/a"));
        var runtime = (Gateway.Hosting.GatewayRuntime)gateway.Gateway;
        var untouched = runtime.Clusters.Find("a")!.Plan;

        for (var i = 0; i < Count; i++)
        {
            FileSdsTests.MoveIntoPlace(EdsFile(i), Response("e2", Assignment($"c{i}", second.Port)));
        }
        for (var i = 0; i < Count; i++)
        {
            await gateway.AssertStatAsync($"cluster.c{i}.update_success", 2);
        }
        await HealthCheckTestConfig.WaitUntilAsync(() => Task.FromResult(runtime.Plan.ClusterPlans.Where(c => c.Name.StartsWith('c')).All(c => c.Endpoints.Single().Port == second.Port)), "every cluster has its new endpoint");
        // A cluster no update touched keeps its plan (translation reuses it; its load balancer is not rebuilt).
        Assert.Same(untouched, runtime.Clusters.Find("a")!.Plan);
    }

    /// <summary>A bootstrap whose connection manager takes route configuration <c>local_route</c> from <see cref="RdsPath"/>.</summary>
    private string RdsBootstrap(int port) => Bootstrap(
        $"rds: {{ route_config_name: local_route, config_source: {{ resource_api_version: V3, path_config_source: {{ path: {RdsPath} }} }} }}",
        $"[ {{ name: a, connect_timeout: 1s, load_assignment: {{ cluster_name: a, endpoints: [ {{ lb_endpoints: [ {{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }} }} }} ] }} ] }} }} ]");

    internal static string RouteConfig(string name, string prefix, string cluster = "a") => $$"""
          - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
            name: {{name}}
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "{{prefix}}" }, route: { cluster: {{cluster}} } } ] } ]
        """;

    [Fact]
    public async Task Rds_RouteTableFile_RoutesAndAMovedFileReplacesIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(RdsPath, Response("r1", RouteConfig("local_route", "/one")));
        await using var gateway = await InProcessGateway.StartAsync(RdsBootstrap(upstream.Port));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/one"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(gateway, "/two"));
        await gateway.AssertStatAsync("http.ingress_http.rds.local_route.update_success", 1);

        FileSdsTests.MoveIntoPlace(RdsPath, Response("r2", RouteConfig("local_route", "/two")));
        await WaitForStatusAsync(gateway, "/two", HttpStatusCode.OK, "the new route table is used");
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(gateway, "/one"));
        // The first table counts as a reload too (Envoy's onRdsUpdate).
        await gateway.AssertStatAsync("http.ingress_http.rds.local_route.config_reload", 2);
        Assert.Contains("http.ingress_http.rds.local_route.version_text: \"r2\"\n", await StatsTextAsync(gateway), StringComparison.Ordinal);

        // RDS tables do not check their clusters by default: a route to an unknown one answers 503 NC.
        FileSdsTests.MoveIntoPlace(RdsPath, Response("r3", RouteConfig("local_route", "/", cluster: "missing")));
        await WaitForStatusAsync(gateway, "/two", HttpStatusCode.ServiceUnavailable, "the route to a missing cluster");
        await gateway.AssertStatAsync("http.ingress_http.rds.local_route.update_success", 3);
    }

    [Fact]
    public async Task Rds_WrongNameOrBadRegex_RejectedAndTheLastGoodTableServes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(RdsPath, Response("r1", RouteConfig("local_route", "/one")));
        await using var gateway = await InProcessGateway.StartAsync(RdsBootstrap(upstream.Port));
        var manager = (Gateway.Hosting.ConfigManager)gateway.Services.GetService(typeof(Gateway.Hosting.ConfigManager))!;

        FileSdsTests.MoveIntoPlace(RdsPath, Response("r2", RouteConfig("other", "/two")));
        await gateway.AssertStatAsync("http.ingress_http.rds.local_route.update_rejected", 1);
        FileSdsTests.MoveIntoPlace(RdsPath, Response("r3", """
              - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
                name: local_route
                virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { safe_regex: { regex: "(" } }, route: { cluster: a } } ] } ]
            """));
        await gateway.AssertStatAsync("http.ingress_http.rds.local_route.update_rejected", 2);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "/one"));
        Assert.Equal("r1", manager.State.Routes.Values.Single().Version);
    }

    [Fact]
    public async Task ConfigDump_DynamicResources_ListedWithTheirVersions()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", upstream.Port)));
        await using var gateway = await InProcessGateway.StartAsync(CdsBootstrap());

        using var dump = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump")));
        var clusters = dump.RootElement.GetProperty("configs").EnumerateArray()
            .Single(c => c.GetProperty("@type").GetString() == "type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
        Assert.Equal("v1", clusters.GetProperty("version_info").GetString());
        var active = Assert.Single(clusters.GetProperty("dynamic_active_clusters").EnumerateArray());
        Assert.Equal("v1", active.GetProperty("version_info").GetString());
        Assert.Equal("a", active.GetProperty("cluster").GetProperty("name").GetString());
        Assert.Equal("type.googleapis.com/envoy.config.cluster.v3.Cluster", active.GetProperty("cluster").GetProperty("@type").GetString());
        Assert.True(active.TryGetProperty("last_updated", out _));

        using var resource = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_active_clusters&mask=version_info")));
        var item = Assert.Single(resource.RootElement.GetProperty("configs").EnumerateArray());
        Assert.Equal("type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster", item.GetProperty("@type").GetString());
        Assert.Equal(["@type", "version_info"], item.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task ConfigDump_RdsTable_ListedAsDynamicRouteConfig()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        File.WriteAllText(RdsPath, Response("r9", RouteConfig("local_route", "/one")));
        await using var gateway = await InProcessGateway.StartAsync(RdsBootstrap(upstream.Port));

        using var dump = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_route_configs")));
        var route = Assert.Single(dump.RootElement.GetProperty("configs").EnumerateArray());
        Assert.Equal("r9", route.GetProperty("version_info").GetString());
        Assert.Equal("local_route", route.GetProperty("route_config").GetProperty("name").GetString());
    }

    [Fact]
    public void Load_DynamicSourcesWithoutTheirFiles_ErrorsNameThePaths()
    {
        var missing = Path.Combine(_directory, "missing.yaml");
        var yaml = CdsBootstrap().Replace(CdsPath, missing, StringComparison.Ordinal);
        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);
        Assert.Equal($"paths must refer to an existing path in the system: '{missing}' does not exist", error.Message);
        Assert.Equal("dynamic_resources.cds_config.path_config_source", error.Location.Path);
    }

    [Theory]
    [InlineData("cds_config: { resource_api_version: V3 }", "dynamic_resources.cds_config")]
    public void Load_UnsupportedDynamicSources_FailByPath(string dynamic, string path)
    {
        var yaml = $"dynamic_resources: {{ {dynamic} }}\n";
        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;
        Assert.Contains(errors, e => e.Location.Path == path);
    }

    [Fact]
    public void Load_StaticRouteToAClusterOnlyCdsHas_FailsAsEnvoy()
    {
        File.WriteAllText(CdsPath, Response("v1", Cluster("a", 1)));
        var yaml = CdsBootstrap().Replace("validate_clusters: false", "validate_clusters: true", StringComparison.Ordinal);
        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;
        Assert.Contains(errors, e => e.Message.Contains("'a'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("service_name: svc", "Missing config source specifier in envoy::config::core::v3::ConfigSource")]
    [InlineData("eds_config: { path_config_source: { path: EDS } } }, load_assignment: { cluster_name: a", "an EDS cluster's endpoints come from EDS: remove load_assignment")]
    public void Load_EdsClusterWithoutConfigOrWithEndpoints_Errors(string replacement, string message)
    {
        File.WriteAllText(EdsPath, Response("e1"));
        var yaml = EdsBootstrap().Replace($"eds_config: {{ path_config_source: {{ path: {EdsPath} }} }}", replacement.Replace("EDS", EdsPath, StringComparison.Ordinal), StringComparison.Ordinal);
        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);
        Assert.Equal(message, error.Message);
    }
}
