using System.Net;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Admin;

/// <summary><c>/clusters</c> text and <c>?format=json</c> (clusters_handler.cc).</summary>
public class ClustersHandlerTests
{
    private static string Text(int port, string hostname, long cxActive, long cxTotal, long rqError, long rqSuccess, long rqTotal) => $"""
        httpbin_service::observability_name::httpbin_service
        httpbin_service::default_priority::max_connections::1024
        httpbin_service::default_priority::max_pending_requests::1024
        httpbin_service::default_priority::max_requests::1024
        httpbin_service::default_priority::max_retries::3
        httpbin_service::high_priority::max_connections::1024
        httpbin_service::high_priority::max_pending_requests::1024
        httpbin_service::high_priority::max_requests::1024
        httpbin_service::high_priority::max_retries::3
        httpbin_service::added_via_api::false
        httpbin_service::127.0.0.1:{port}::cx_active::{cxActive}
        httpbin_service::127.0.0.1:{port}::cx_connect_fail::0
        httpbin_service::127.0.0.1:{port}::cx_total::{cxTotal}
        httpbin_service::127.0.0.1:{port}::rq_active::0
        httpbin_service::127.0.0.1:{port}::rq_error::{rqError}
        httpbin_service::127.0.0.1:{port}::rq_success::{rqSuccess}
        httpbin_service::127.0.0.1:{port}::rq_timeout::0
        httpbin_service::127.0.0.1:{port}::rq_total::{rqTotal}
        httpbin_service::127.0.0.1:{port}::hostname::{hostname}
        httpbin_service::127.0.0.1:{port}::health_flags::healthy
        httpbin_service::127.0.0.1:{port}::weight::1
        httpbin_service::127.0.0.1:{port}::region::
        httpbin_service::127.0.0.1:{port}::zone::
        httpbin_service::127.0.0.1:{port}::sub_zone::
        httpbin_service::127.0.0.1:{port}::canary::false
        httpbin_service::127.0.0.1:{port}::priority::0
        httpbin_service::127.0.0.1:{port}::success_rate::-1
        httpbin_service::127.0.0.1:{port}::local_origin_success_rate::-1

        """;

    /// <summary>Reads <c>/clusters</c> until it equals <paramref name="expected"/> (host stats are charged as the exchange ends) or 2 s pass.</summary>
    private static async Task<string> ClustersAsync(AdminTestServer server, string path, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        string actual;
        while ((actual = await server.GetStringAsync(path)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        return actual;
    }

    [Fact]
    public async Task Clusters_NoTraffic_ListsTheHostWithZeroStats()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/clusters");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(Text(server.UpstreamPort, string.Empty, 0, 0, 0, 0, 0), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Clusters_AfterRequests_CountsPerHostSuccessesErrorsAndConnections()
    {
        await using var server = await AdminTestServer.StartAsync();
        Assert.Equal(200, await server.ProxyAsync("/get"));
        Assert.Equal(200, await server.ProxyAsync("/get"));
        Assert.Equal(500, await server.ProxyAsync("/status/500"));

        var expected = Text(server.UpstreamPort, string.Empty, cxActive: 1, cxTotal: 1, rqError: 1, rqSuccess: 2, rqTotal: 3);
        Assert.Equal(expected, await ClustersAsync(server, "/clusters", expected));
    }

    [Fact]
    public async Task Clusters_LogicalDnsCluster_ShowsTheResolvedAddressAndTheDnsName()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("localhost", upstream.Port, "LOGICAL_DNS", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var server = await AdminTestServer.StartAsync(yaml: yaml);

        var expected = Text(upstream.Port, "localhost", 0, 0, 0, 0, 0);
        Assert.Equal(expected, await ClustersAsync(server, "/clusters", expected));
    }

    [Fact]
    public async Task ClustersJson_AfterARequest_IsTheClustersProto()
    {
        await using var server = await AdminTestServer.StartAsync();
        Assert.Equal(200, await server.ProxyAsync("/get"));
        var port = server.UpstreamPort;

        var expected = $$"""
            {
             "cluster_statuses": [
              {
               "name": "httpbin_service",
               "host_statuses": [
                {
                 "address": {
                  "socket_address": {
                   "address": "127.0.0.1",
                   "port_value": {{port}}
                  }
                 },
                 "stats": [
                  {
                   "name": "cx_connect_fail"
                  },
                  {
                   "value": "1",
                   "name": "cx_total"
                  },
                  {
                   "name": "rq_error"
                  },
                  {
                   "value": "1",
                   "name": "rq_success"
                  },
                  {
                   "name": "rq_timeout"
                  },
                  {
                   "value": "1",
                   "name": "rq_total"
                  },
                  {
                   "type": "GAUGE",
                   "value": "1",
                   "name": "cx_active"
                  },
                  {
                   "type": "GAUGE",
                   "name": "rq_active"
                  }
                 ],
                 "health_status": {
                  "eds_health_status": "HEALTHY"
                 },
                 "weight": 1,
                 "locality": {}
                }
               ],
               "circuit_breakers": {
                "thresholds": [
                 {
                  "max_connections": 1024,
                  "max_pending_requests": 1024,
                  "max_requests": 1024,
                  "max_retries": 3
                 },
                 {
                  "priority": "HIGH",
                  "max_connections": 1024,
                  "max_pending_requests": 1024,
                  "max_requests": 1024,
                  "max_retries": 3
                 }
                ]
               },
               "observability_name": "httpbin_service"
              }
             ]
            }

            """;
        Assert.Equal(expected, await ClustersAsync(server, "/clusters?format=json", expected));
        using var response = await server.GetAsync("/clusters?format=json");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
    }
}
