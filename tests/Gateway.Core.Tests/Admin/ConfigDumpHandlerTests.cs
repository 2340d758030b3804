using System.Net;
using Gateway.Routing;

namespace Gateway.Tests.Admin;

/// <summary><c>/config_dump</c> (config_dump_handler.cc): the six dumps of the running configuration, <c>?resource=</c>, <c>?name_regex=</c>, <c>?mask=</c>.</summary>
public class ConfigDumpHandlerTests
{
    private const string LastUpdated = "2024-01-02T03:04:05.678Z";

    /// <summary>The seed cluster as protobuf JSON, indented for its place in a dump (<paramref name="indent"/> spaces).</summary>
    private static string Cluster(int port, int indent) => Indent($$"""
        {
         "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
         "name": "httpbin_service",
         "type": "STATIC",
         "connect_timeout": "5s",
         "dns_lookup_family": "V4_ONLY",
         "load_assignment": {{Assignment(port, 1, withType: false)}}
        }
        """, indent);

    private static string TypeLine(bool withType) => withType ? "\n \"@type\": \"type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\"," : string.Empty;

    /// <summary>The seed cluster's <c>load_assignment</c> (as an <c>Any</c> with <paramref name="withType"/>), indented for its place.</summary>
    private static string Assignment(int port, int indent, bool withType = true) => Indent($$"""
        {{{TypeLine(withType)}}
         "cluster_name": "httpbin",
         "endpoints": [
          {
           "lb_endpoints": [
            {
             "endpoint": {
              "address": {
               "socket_address": {
                "address": "127.0.0.1",
                "port_value": {{port}}
               }
              }
             }
            }
           ]
          }
         ]
        }
        """, indent);

    private const string RouteConfig = """
        {
         "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
         "name": "httpbin_local_route",
         "virtual_hosts": [
          {
           "name": "httpbin_local_service",
           "domains": [
            "*"
           ],
           "routes": [
            {
             "match": {
              "prefix": "/"
             },
             "route": {
              "cluster": "httpbin_service",
              "auto_host_rewrite": true
             }
            }
           ]
          }
         ]
        }
        """;

    private const string Listener = """
        {
         "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
         "name": "httpbin-demo",
         "address": {
          "socket_address": {
           "address": "127.0.0.1",
           "port_value": 0
          }
         },
         "filter_chains": [
          {
           "filters": [
            {
             "name": "envoy.filters.network.http_connection_manager",
             "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              "stat_prefix": "ingress_http",
              "route_config": {
               "name": "httpbin_local_route",
               "virtual_hosts": [
                {
                 "name": "httpbin_local_service",
                 "domains": [
                  "*"
                 ],
                 "routes": [
                  {
                   "match": {
                    "prefix": "/"
                   },
                   "route": {
                    "cluster": "httpbin_service",
                    "auto_host_rewrite": true
                   }
                  }
                 ]
                }
               ]
              },
              "http_filters": [
               {
                "name": "envoy.filters.http.router"
               }
              ]
             }
            }
           ]
          }
         ]
        }
        """;

    /// <summary>The same message as a plain field (not an Any): without its <c>@type</c> line.</summary>
    private static string WithoutType(string json)
    {
        var lines = json.Split('\n').ToList();
        lines.RemoveAt(1);
        return string.Join('\n', lines);
    }

    private static string Indent(string json, int spaces)
        => string.Join('\n', json.Split('\n').Select((line, i) => i == 0 ? line : new string(' ', spaces) + line));

    private static string FullDump(int port) => $$"""
        {
         "configs": [
          {
           "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
           "bootstrap": {
            "static_resources": {
             "listeners": [
              {{Indent(WithoutType(Listener), 6)}}
             ],
             "clusters": [
              {{Indent(WithoutType(Cluster(port, 0)), 6)}}
             ]
            },
            "admin": {
             "address": {
              "socket_address": {
               "address": "127.0.0.1",
               "port_value": 0
              }
             }
            }
           },
           "last_updated": "{{LastUpdated}}"
          },
          {
           "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
           "static_clusters": [
            {
             "cluster": {{Cluster(port, 5)}},
             "last_updated": "{{LastUpdated}}"
            }
           ]
          },
          {
           "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
           "static_listeners": [
            {
             "listener": {{Indent(Listener, 5)}},
             "last_updated": "{{LastUpdated}}"
            }
           ]
          },
          {
           "@type": "type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump"
          },
          {
           "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
           "static_route_configs": [
            {
             "route_config": {{Indent(RouteConfig, 5)}},
             "last_updated": "{{LastUpdated}}"
            }
           ]
          },
          {
           "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"
          }
         ]
        }

        """;

    [Fact]
    public async Task ConfigDump_SeedConfig_DumpsBootstrapClustersListenersScopedRoutesRoutesSecrets()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/config_dump");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(FullDump(server.UpstreamPort), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigDump_BootstrapNode_IsTheBootstrapsFirstField()
    {
        var yaml = "node: { id: front-1, cluster: front, locality: { region: eu, sub_zone: rack-3 }, metadata: { filter_metadata: { ns: { w: 0.5, k: v } } } }\n"
            + TestConfigs.Seed("127.0.0.1", 1, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var server = await AdminTestServer.StartAsync(yaml: yaml);

        var text = await server.GetStringAsync("/config_dump");
        using var dump = System.Text.Json.JsonDocument.Parse(text);

        var bootstrap = dump.RootElement.GetProperty("configs")[0];
        Assert.Equal("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", bootstrap.GetProperty("@type").GetString());
        var first = bootstrap.GetProperty("bootstrap").EnumerateObject().First();
        Assert.Equal("node", first.Name);
        Assert.Equal("""{"id":"front-1","cluster":"front","metadata":{"filter_metadata":{"ns":{"k":"v","w":0.5}}},"locality":{"region":"eu","sub_zone":"rack-3"}}""", System.Text.Json.JsonSerializer.Serialize(first.Value));
    }

    [Fact]
    public async Task ConfigDump_Metadata_PrintedAtItsFieldNumberOnClustersEndpointsRouteConfigsVirtualHostsAndRoutes()
    {
        var yaml = TestConfigs.SeedWithMetadata(
            TestConfigs.Seed("127.0.0.1", 1, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"),
            cluster: "{ filter_metadata: { b.ns: { z: 1, a: [ x, 2.5 ] }, a.ns: { on: no } } }",
            endpoint: "{ filter_metadata: { envoy.lb: { canary: true, version: \"2\" } } }",
            routeConfig: "{ filter_metadata: { acme: { owner: edge } } }",
            virtualHost: "{ filter_metadata: { acme: { tier: 1 } } }",
            route: "{ filter_metadata: { envoy.filters.http.router: { big: 4294967296, none: null } } }");
        await using var server = await AdminTestServer.StartAsync(yaml: yaml);

        using var clusters = System.Text.Json.JsonDocument.Parse(await server.GetStringAsync("/config_dump?resource=static_clusters"));
        using var routes = System.Text.Json.JsonDocument.Parse(await server.GetStringAsync("/config_dump?resource=static_route_configs"));

        // Cluster.metadata is field 25 (after dns_lookup_family 17, before load_assignment 33); LbEndpoint.metadata 3;
        // RouteConfiguration.metadata 17, VirtualHost.metadata 24 and Route.metadata 4 (after route 2). Keys sorted.
        Assert.Equal("""
            {"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster","name":"httpbin_service","type":"STATIC","connect_timeout":"5s","dns_lookup_family":"V4_ONLY","metadata":{"filter_metadata":{"a.ns":{"on":false},"b.ns":{"a":["x",2.5],"z":1}}},"load_assignment":{"cluster_name":"httpbin","endpoints":[{"lb_endpoints":[{"endpoint":{"address":{"socket_address":{"address":"127.0.0.1","port_value":1}}},"metadata":{"filter_metadata":{"envoy.lb":{"canary":true,"version":"2"}}}}]}]}}
            """, System.Text.Json.JsonSerializer.Serialize(clusters.RootElement.GetProperty("configs")[0].GetProperty("cluster")));
        Assert.Equal("""
            {"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","name":"httpbin_local_route","virtual_hosts":[{"name":"httpbin_local_service","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"httpbin_service","auto_host_rewrite":true},"metadata":{"filter_metadata":{"envoy.filters.http.router":{"big":"4294967296","none":null}}}}],"metadata":{"filter_metadata":{"acme":{"tier":1}}}}],"metadata":{"filter_metadata":{"acme":{"owner":"edge"}}}}
            """, System.Text.Json.JsonSerializer.Serialize(routes.RootElement.GetProperty("configs")[0].GetProperty("route_config")));
    }

    [Fact]
    public async Task ConfigDump_ResourceStaticClusters_PacksEachClusterAsAnAny()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?resource=static_clusters");

        Assert.Equal($$"""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster",
               "cluster": {{Cluster(server.UpstreamPort, 3)}},
               "last_updated": "{{LastUpdated}}"
              }
             ]
            }

            """, dump);
    }

    [Fact]
    public async Task ConfigDump_IncludeEdsResourceStaticEndpointConfigs_ListsTheStaticClustersAssignments()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?resource=static_endpoint_configs&include_eds");

        Assert.Equal($$"""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig",
               "endpoint_config": {{Assignment(server.UpstreamPort, 3)}},
               "last_updated": "{{LastUpdated}}"
              }
             ]
            }

            """, dump);
    }

    [Fact]
    public async Task ConfigDump_WithoutIncludeEds_HasNoEndpointsDump()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/config_dump?resource=static_endpoint_configs");
        var withEds = await server.GetStringAsync("/config_dump?include_eds");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("static_endpoint_configs not found in config dump", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("EndpointsConfigDump", await server.GetStringAsync("/config_dump"), StringComparison.Ordinal);
        // After the clusters' dump, before the listeners'.
        Assert.True(withEds.IndexOf("ClustersConfigDump", StringComparison.Ordinal) < withEds.IndexOf("EndpointsConfigDump\"", StringComparison.Ordinal)
            && withEds.IndexOf("EndpointsConfigDump\"", StringComparison.Ordinal) < withEds.IndexOf("ListenersConfigDump", StringComparison.Ordinal), withEds);
    }

    [Fact]
    public async Task ConfigDump_ResourceStaticRouteConfigs_ListsTheInlineRouteTables()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?resource=static_route_configs");

        Assert.Equal($$"""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump.StaticRouteConfig",
               "route_config": {{Indent(RouteConfig, 3)}},
               "last_updated": "{{LastUpdated}}"
              }
             ]
            }

            """, dump);
    }

    [Theory]
    [InlineData("/config_dump?resource=dynamic_active_clusters")]
    [InlineData("/config_dump?resource=static_clusters&name_regex=other")]
    [InlineData("/config_dump?resource=static_listeners&name_regex=httpbin")]
    public async Task ConfigDump_ResourceWithNothingToShow_IsAnEmptyObject(string path)
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal("{}\n", await server.GetStringAsync(path));
    }

    [Fact]
    public async Task ConfigDump_NameRegex_FullMatchKeepsTheNamedResources()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?resource=static_listeners&name_regex=httpbin-.*");

        Assert.Equal($$"""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.StaticListener",
               "listener": {{Indent(Listener, 3)}},
               "last_updated": "{{LastUpdated}}"
              }
             ]
            }

            """, dump);
    }

    [Theory]
    [InlineData("/config_dump?resource=bootstrap", 400, "bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field")]
    [InlineData("/config_dump?resource=version_info", 400, "version_info is not a repeated field. Use ?mask=version_info to get only this field")]
    [InlineData("/config_dump?resource=nope", 404, "nope not found in config dump")]
    [InlineData("/config_dump?mask=nope", 400, "FieldMask nope could not be successfully applied to any configs.")]
    [InlineData("/config_dump?mask=bootstrap.admin,static_clusters", 400, "FieldMask bootstrap.admin,static_clusters could not be successfully applied to any configs.")]
    [InlineData("/config_dump?resource=static_clusters&mask=cluster.nope", 400, "FieldMask paths: \"cluster.nope\"\n could not be successfully used.")]
    public async Task ConfigDump_BadQuery_AnswersEnvoysErrorAsPlainText(string path, int status, string expected)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync(path);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigDump_BadNameRegex_Answers400()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/config_dump?name_regex=(");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_ARGUMENT: Error while parsing name_regex from (: missing ): (", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigDump_NameRegexOverProgramSize_Answers400WithEnvoysMessage()
    {
        // Envoy parses name_regex as a RegexMatcher, so the error-level program-size bound applies.
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/config_dump?name_regex=" + Uri.EscapeDataString("(a{1,10}){1,10}$"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "INVALID_ARGUMENT: Error while parsing name_regex from (a{1,10}){1,10}$: regex '(a{1,10}){1,10}$' RE2 program size of 223 > max program size of 100 set for the error level threshold. Increase configured max program size if necessary.",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigDump_Mask_KeepsTheDumpsItFitsAndOnlyTheMaskedFields()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?mask=bootstrap.admin");

        Assert.Equal($$"""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
               "bootstrap": {
                "admin": {
                 "address": {
                  "socket_address": {
                   "address": "127.0.0.1",
                   "port_value": 0
                  }
                 }
                }
               }
              }
             ]
            }

            """, dump);
    }

    [Fact]
    public async Task ConfigDump_ResourceAndMask_MasksInsideEachResource()
    {
        await using var server = await AdminTestServer.StartAsync();

        var dump = await server.GetStringAsync("/config_dump?resource=static_clusters&mask=cluster.name,cluster.connect_timeout");

        Assert.Equal("""
            {
             "configs": [
              {
               "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster",
               "cluster": {
                "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                "name": "httpbin_service",
                "connect_timeout": "5s"
               }
              }
             ]
            }

            """, dump);
    }
}
