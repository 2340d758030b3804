using System.Net;
using System.Text.Json;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Admin;

/// <summary>The admin API's routing and common behaviour (admin.cc): help, 404, 405, headers, admin stats, and isolation from data listeners.</summary>
public class AdminHandlerTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    internal const string HelpText = """
        admin commands are:
          /: Admin home page
          /certs: print certs on machine
          /clusters: upstream cluster status
          /config_dump: dump current Envoy configs (experimental)
              resource: The resource to dump
              mask: The mask to apply. When both resource and mask are specified, the mask is applied to every element in the desired repeated field so that only a subset of fields are returned. The mask is parsed as a ProtobufWkt::FieldMask
              name_regex: Dump only the currently loaded configurations whose names match the specified regex. Can be used with both resource and mask query parameters.
              include_eds: Dump currently loaded configuration including EDS. See the response definition for more information
          /contention: dump current Envoy mutex contention stats (if enabled)
          /cpuprofiler (POST): enable/disable the CPU profiler
              enable: enables the CPU profiler; One of (y, n)
          /drain_listeners (POST): drain listeners
              graceful: When draining listeners, enter a graceful drain period prior to closing listeners. This behaviour and duration is configurable via server options or CLI
              skip_exit: When draining listeners, do not exit after the drain period. This must be used with graceful
              inboundonly: Drains all inbound listeners. traffic_direction field in envoy_v3_api_msg_config.listener.v3.Listener is used to determine whether a listener is inbound or outbound.
          /healthcheck/fail (POST): cause the server to fail health checks
          /healthcheck/ok (POST): cause the server to pass health checks
          /heap_dump: dump current Envoy heap (if supported)
          /heapprofiler (POST): enable/disable the heap profiler
              enable: enable/disable the heap profiler; One of (y, n)
          /help: print out list of admin commands
          /hot_restart_version: print the hot restart compatibility version
          /init_dump: dump current Envoy init manager information (experimental)
              mask: The desired component to dump unready targets. The mask is parsed as a ProtobufWkt::FieldMask. For example, get the unready targets of all listeners with /init_dump?mask=listener`
          /listeners: print listener info
              format: File format to use; One of (text, json)
          /logging (POST): query/change logging levels
              paths: Change multiple logging levels by setting to <logger_name1>:<desired_level1>,<logger_name2>:<desired_level2>. If fine grain logging is enabled, use __FILE__ or a glob experision as the logger name. For example, source/common*:warning
              level: desired logging level, this will change all loggers's level; One of (, trace, debug, info, warning, error, critical, off)
          /memory: print current allocation/heap usage
          /quitquitquit (POST): exit the server
          /ready: print server state, return 200 if LIVE, otherwise return 503
          /reopen_logs (POST): reopen access logs
          /reset_counters (POST): reset all counters to zero
          /runtime: print runtime values
          /runtime_modify (POST): Adds or modifies runtime values as passed in query parameters. To delete a previously added key, use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded from disk can be modified via override but not deleted. E.g. ?key1=value1&key2=value2...
          /server_info: print server version/status information
          /stats: print server stats
              usedonly: Only include stats that have been written by system since restart
              filter: Regular expression (Google re2) for filtering stats
              format: Format to use; One of (text, json, prometheus)
              type: Stat types to include.; One of (All, Counters, Histograms, Gauges, TextReadouts)
              histogram_buckets: Histogram bucket display mode; One of (cumulative, disjoint, detailed, none)
          /stats/prometheus: print server stats in prometheus format
              usedonly: Only include stats that have been written by system since restart
              text_readouts: Render text_readouts as new gaugues with value 0 (increases Prometheus data size)
              filter: Regular expression (Google re2) for filtering stats
              histogram_buckets: Histogram bucket display mode; One of (cumulative, summary)

        """;

    [Fact]
    public async Task Help_Get_ListsEveryEndpointSortedWithItsParameters()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/help");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HelpText, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnknownPath_Get_Answers404InvalidPathAndTheHelp()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/nope?x=1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("invalid path. " + HelpText, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/healthcheck/fail")]
    [InlineData("/healthcheck/ok")]
    [InlineData("/drain_listeners")]
    [InlineData("/quitquitquit")]
    [InlineData("/reset_counters")]
    [InlineData("/logging")]
    [InlineData("/runtime_modify?foo=bar")]
    [InlineData("/reopen_logs")]
    public async Task PostOnlyEndpoint_Get_Answers405AndChangesNothing(string path)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync(path);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("Method GET not allowed, POST required.", await response.Content.ReadAsStringAsync());
        Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
        Assert.Equal(200, await server.ProxyAsync("/get"));
    }

    [Fact]
    public async Task PostOnlyEndpoint_Put_Answers405NamingTheMethod()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.Client.PutAsync(server.Gateway.AdminUri("/healthcheck/fail"), null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("Method PUT not allowed, POST required.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TextEndpoint_Get_CarriesEnvoysFallbackHeaders()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/ready");

        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-cache, max-age=0", response.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("x-content-type-options")));
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
    }

    [Fact]
    public async Task JsonEndpoint_Get_IsApplicationJsonWithTheSameHeaders()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/certs");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-cache, max-age=0", response.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("x-content-type-options")));
    }

    [Fact]
    public async Task Home_Get_IsAnHtmlTableOfTheEndpoints()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("""
            <!DOCTYPE html>
            <html lang='en'>
            <head>
              <title>Envoy Admin</title>
            </head>
            <body>
            <table class='home-table'>
              <thead>
                <tr><th class='home-data'>Command</th><th class='home-data'>Description</th></tr>
              </thead>
              <tbody>
                <tr class='vert-space'><td class='home-data'><a href='certs'>certs</a></td><td class='home-data'>print certs on machine</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='clusters'>clusters</a></td><td class='home-data'>upstream cluster status</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='config_dump'>config_dump</a></td><td class='home-data'>dump current Envoy configs (experimental)</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='contention'>contention</a></td><td class='home-data'>dump current Envoy mutex contention stats (if enabled)</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='cpuprofiler' method='post'><button class='button-as-link'>cpuprofiler</button></form></td><td class='home-data'>enable/disable the CPU profiler</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='drain_listeners' method='post'><button class='button-as-link'>drain_listeners</button></form></td><td class='home-data'>drain listeners</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='healthcheck/fail' method='post'><button class='button-as-link'>healthcheck/fail</button></form></td><td class='home-data'>cause the server to fail health checks</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='healthcheck/ok' method='post'><button class='button-as-link'>healthcheck/ok</button></form></td><td class='home-data'>cause the server to pass health checks</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='heap_dump'>heap_dump</a></td><td class='home-data'>dump current Envoy heap (if supported)</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='heapprofiler' method='post'><button class='button-as-link'>heapprofiler</button></form></td><td class='home-data'>enable/disable the heap profiler</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='help'>help</a></td><td class='home-data'>print out list of admin commands</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='hot_restart_version'>hot_restart_version</a></td><td class='home-data'>print the hot restart compatibility version</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='init_dump'>init_dump</a></td><td class='home-data'>dump current Envoy init manager information (experimental)</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='listeners'>listeners</a></td><td class='home-data'>print listener info</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='logging' method='post'><button class='button-as-link'>logging</button></form></td><td class='home-data'>query/change logging levels</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='memory'>memory</a></td><td class='home-data'>print current allocation/heap usage</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='quitquitquit' method='post'><button class='button-as-link'>quitquitquit</button></form></td><td class='home-data'>exit the server</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='ready'>ready</a></td><td class='home-data'>print server state, return 200 if LIVE, otherwise return 503</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='reopen_logs' method='post'><button class='button-as-link'>reopen_logs</button></form></td><td class='home-data'>reopen access logs</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='reset_counters' method='post'><button class='button-as-link'>reset_counters</button></form></td><td class='home-data'>reset all counters to zero</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='runtime'>runtime</a></td><td class='home-data'>print runtime values</td></tr>
                <tr class='vert-space'><td class='home-data'><form action='runtime_modify' method='post'><button class='button-as-link'>runtime_modify</button></form></td><td class='home-data'>Adds or modifies runtime values as passed in query parameters. To delete a previously added key, use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded from disk can be modified via override but not deleted. E.g. ?key1=value1&amp;key2=value2...</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='server_info'>server_info</a></td><td class='home-data'>print server version/status information</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='stats'>stats</a></td><td class='home-data'>print server stats</td></tr>
                <tr class='vert-space'><td class='home-data'><a href='stats/prometheus'>stats/prometheus</a></td><td class='home-data'>print server stats in prometheus format</td></tr>
              </tbody>
            </table>
            </body>
            </html>

            """, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AdminRequests_AreCountedUnderHttpAdminAndListenerAdmin_NeverTheDataListener()
    {
        await using var server = await AdminTestServer.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
        }
        (await server.GetAsync("/nope")).Dispose();

        var stats = await server.GetStringAsync("/stats?filter=^(http\\.admin\\.downstream_(rq_(total|completed|2xx|4xx|active)|cx_total)|listener\\.admin\\.(http\\.admin\\.downstream_rq_2xx|downstream_cx_total)|http\\.ingress_http\\.downstream_rq_total)$");

        // The /stats request itself is counted as received and active, not yet completed.
        Assert.Equal("""
            http.admin.downstream_cx_total: 1
            http.admin.downstream_rq_2xx: 3
            http.admin.downstream_rq_4xx: 1
            http.admin.downstream_rq_active: 1
            http.admin.downstream_rq_completed: 4
            http.admin.downstream_rq_total: 5
            http.ingress_http.downstream_rq_total: 0
            listener.admin.downstream_cx_total: 1
            listener.admin.http.admin.downstream_rq_2xx: 3

            """, stats);
    }

    [Theory]
    [InlineData("GET", "/stats")]
    [InlineData("GET", "/ready")]
    [InlineData("POST", "/healthcheck/fail")]
    [InlineData("POST", "/quitquitquit")]
    public async Task AdminPath_OnTheDataListener_IsProxiedNotServed(string method, string path)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), server.Gateway.ListenerUri(path)));
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(method, echoed.Method);
        Assert.Equal(path, echoed.Path);
        Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
        Assert.Equal(200, await server.ProxyAsync("/get"));
    }

    [Theory]
    [InlineData("GET", "/stats/../quitquitquit", 405, "Method GET not allowed, POST required.")] // dot segments resolve, as in Envoy
    [InlineData("GET", "/stats/%2e%2e/quitquitquit", 405, "Method GET not allowed, POST required.")]
    [InlineData("GET", "//ready", 200, "LIVE\n")] // merge_slashes is on for Envoy's admin
    [InlineData("GET", "/x\\..\\ready", 200, "LIVE\n")] // '\' is a '/' to Envoy's canonicalizer
    [InlineData("GET", "/rea%64y", 200, "LIVE\n")] // escaped unreserved characters are decoded
    [InlineData("GET", "/ready%2F", 404, null)] // other escapes stay as sent
    [InlineData("GET", "http://admin/ready", 200, "LIVE\n")] // absolute form: only the path counts
    [InlineData("OPTIONS", "*", 404, "")] // not a relative path: refused before the admin filter
    public async Task Dispatch_RawTarget_IsNormalizedAsEnvoysAdminConnectionManagerDoes(string method, string target, int status, string? body)
    {
        await using var server = await AdminTestServer.StartAsync();

        var response = await RawHttpClient.SendAsync(server.Gateway.Gateway.AdminBoundEndPoint!.Port, target, method, host: "admin");

        Assert.Equal(status, response.Status);
        if (body is not null)
        {
            Assert.Equal(body, response.Body);
        }
        Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
    }

    [Fact]
    public async Task Dispatch_QueryInTheRawTarget_ReachesTheHandlerAsSent()
    {
        await using var server = await AdminTestServer.StartAsync();

        var response = await RawHttpClient.SendAsync(server.Gateway.Gateway.AdminBoundEndPoint!.Port, "/stats?filter=%5Eserver%5C.live%24", host: "admin");

        Assert.Equal(200, response.Status);
        Assert.Equal("server.live: 1\n", response.Body);
    }
}
