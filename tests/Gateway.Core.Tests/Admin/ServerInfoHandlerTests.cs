using System.Net;
using System.Text.RegularExpressions;
using Gateway.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary><c>/ready</c>, <c>/server_info</c>, <c>/memory</c>, <c>/certs</c>, <c>/hot_restart_version</c> (server_info_handler.cc).</summary>
public partial class ServerInfoHandlerTests
{
    [GeneratedRegex("\"[0-9]+\"")]
    private static partial Regex QuotedNumber();

    [Fact]
    public async Task Ready_Live_Answers200Live()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("LIVE\n", await response.Content.ReadAsStringAsync());
    }

    private static readonly AdminServerOptions Options = new()
    {
        Version = "0123456789abcdef0123456789abcdef01234567/1.2.3/Clean/RELEASE/.NET-10.0.0",
        ConfigPath = "/etc/envoy/envoy.yaml",
        ConfigYaml = "admin: {}",
        LogLevel = "debug",
        Mode = "Serve",
        AdminAddressPath = "/tmp/admin.txt",
        Concurrency = 4,
    };

    private static string ExpectedServerInfo(string state, string uptime) => $$"""
            {
             "version": "0123456789abcdef0123456789abcdef01234567/1.2.3/Clean/RELEASE/.NET-10.0.0",
             "state": "{{state}}",
             "uptime_current_epoch": "{{uptime}}",
             "uptime_all_epochs": "{{uptime}}",
             "hot_restart_version": "disabled",
             "command_line_options": {
              "base_id": "0",
              "concurrency": 4,
              "config_path": "/etc/envoy/envoy.yaml",
              "config_yaml": "admin: {}",
              "allow_unknown_static_fields": false,
              "admin_address_path": "/tmp/admin.txt",
              "local_address_ip_version": "v4",
              "log_level": "debug",
              "component_log_level": "",
              "log_format": "[%Y-%m-%d %T.%e][%t][%l][%n] %v",
              "log_path": "",
              "service_cluster": "",
              "service_node": "",
              "service_zone": "",
              "file_flush_interval": "10s",
              "drain_time": "600s",
              "parent_shutdown_time": "900s",
              "mode": "Serve",
              "disable_hot_restart": true,
              "enable_mutex_tracing": false,
              "restart_epoch": 0,
              "cpuset_threads": false,
              "reject_unknown_dynamic_fields": false,
              "log_format_escaped": false,
              "disabled_extensions": [],
              "bootstrap_version": 0,
              "ignore_unknown_dynamic_fields": false,
              "use_dynamic_base_id": false,
              "base_id_path": "",
              "drain_strategy": "Gradual",
              "enable_fine_grain_logging": false,
              "socket_path": "@envoy_domain_socket",
              "socket_mode": 0,
              "enable_core_dump": false
             },
             "node": {
              "id": "",
              "cluster": "",
              "user_agent_name": "envoy",
              "extensions": [],
              "client_features": [],
              "listening_addresses": [],
              "dynamic_parameters": {}
             }
            }

            """;

    [Fact]
    public async Task ServerInfo_HostOptions_PrintsEveryFieldWithTheRealOptionsAndUptime()
    {
        await using var server = await AdminTestServer.StartAsync(services => services.AddSingleton(Options));
        server.Clock.Now = AdminTestServer.Start.AddSeconds(6.7);

        using var response = await server.GetAsync("/server_info");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(ExpectedServerInfo("LIVE", "6s"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ServerInfo_BootstrapNode_PrintsIdClusterMetadataAndLocality()
    {
        var yaml = "node: { id: front-1, cluster: front, locality: { zone: eu-1a }, metadata: { ISTIO_VERSION: \"1.24\", filter_metadata: { b: { n: 1 }, a: { s: x, l: [ true ] } } } }\n"
            + TestConfigs.Seed("127.0.0.1", 1, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var server = await AdminTestServer.StartAsync(yaml: yaml);

        var info = await server.GetStringAsync("/server_info");

        Assert.Contains("""
             "node": {
              "id": "front-1",
              "cluster": "front",
              "metadata": {
               "ISTIO_VERSION": "1.24",
               "filter_metadata": {
                "a": {
                 "l": [
                  true
                 ],
                 "s": "x"
                },
                "b": {
                 "n": 1
                }
               }
              },
              "locality": {
               "region": "",
               "zone": "eu-1a",
               "sub_zone": ""
              },
              "user_agent_name": "envoy",
              "extensions": [],
            """, info, StringComparison.Ordinal);
        // The command line options are the host's, not the bootstrap's, as in Envoy.
        Assert.Contains("\"service_node\": \"\",", info, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerInfo_HealthCheckFailed_ReportsDraining()
    {
        await using var server = await AdminTestServer.StartAsync(services => services.AddSingleton(Options));
        (await server.PostAsync("/healthcheck/fail")).Dispose();

        Assert.Equal(ExpectedServerInfo("DRAINING", "0s"), await server.GetStringAsync("/server_info"));
    }

    [Fact]
    public async Task ServerInfo_HostOptions_ReportTheirDrainAndFlushSettings()
    {
        await using var server = await AdminTestServer.StartAsync(services =>
        {
            services.AddSingleton(new Gateway.Hosting.DrainOptions { DrainTime = TimeSpan.FromSeconds(30), Strategy = Gateway.Hosting.DrainStrategy.Immediate });
            services.AddSingleton(new Gateway.AccessLog.AccessLogOptions { FlushInterval = TimeSpan.FromSeconds(2) });
        });

        var info = await server.GetStringAsync("/server_info");

        Assert.Contains("\"drain_time\": \"30s\",", info, StringComparison.Ordinal);
        Assert.Contains("\"drain_strategy\": \"Immediate\",", info, StringComparison.Ordinal);
        Assert.Contains("\"file_flush_interval\": \"2s\",", info, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memory_Get_PrintsEveryMemoryFieldAsQuotedBytes()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/memory");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("""
            {
             "allocated": N,
             "heap_size": N,
             "pageheap_unmapped": N,
             "pageheap_free": N,
             "total_thread_cache": N,
             "total_physical_bytes": N,
             "transfer_cache_free": N,
             "central_cache_free": N,
             "thread_cache_free": N,
             "sharded_transfer_cache_free": N
            }

            """, QuotedNumber().Replace(body, "N"));
        Assert.Matches("\"allocated\": \"[1-9][0-9]*\"", body);
        Assert.Matches("\"total_physical_bytes\": \"[1-9][0-9]*\"", body);
    }

    [Fact]
    public async Task Certs_NoTls_PrintsAnEmptyCertificateList()
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal("{\n \"certificates\": []\n}\n", await server.GetStringAsync("/certs"));
    }

    [Fact]
    public async Task HotRestartVersion_Get_IsDisabled()
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal("disabled", await server.GetStringAsync("/hot_restart_version"));
    }
}
