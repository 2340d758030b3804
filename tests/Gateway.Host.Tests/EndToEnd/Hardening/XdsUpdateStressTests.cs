using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// The gateway process reconfigured 100 times by file-based CDS and RDS while <c>wrk</c> (Debian's package) drives it:
/// every response must be a 200 of one consistent configuration, checked by a wrk Lua script on each response (the
/// route table's version in <c>x-route</c> and the cluster the request went to in <c>x-cluster</c> must belong together).
/// </summary>
[Trait("Category", "Stress")]
[Collection(StressCollection.Name)]
public sealed partial class XdsUpdateStressTests(ITestOutputHelper log) : IDisposable
{
    private const string Wrk = "/usr/bin/wrk";
    private const int Updates = 100;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-xds-stress-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CdsPath => Path.Combine(_directory, "cds.yaml");

    private string RdsPath => Path.Combine(_directory, "rds.yaml");

    private static string Clusters(int version, int upstreamPort, params int[] names)
        => $"version_info: \"{version}\"\nresources:\n" + string.Concat(names.Select(n => $$"""
            - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
              name: c{{n}}
              connect_timeout: 1s
              load_assignment: { cluster_name: c{{n}}, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } } } ] } ] }

            """));

    /// <summary>Route table <paramref name="version"/>: everything to cluster <c>c&lt;version&gt;</c>, saying which table and cluster served it.</summary>
    private static string Routes(int version) => $$"""
        version_info: "{{version}}"
        resources:
        - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
          name: stress_route
          virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
            - match: { prefix: "/" }
              route: { cluster: c{{version}} }
              response_headers_to_add:
              - header: { key: x-route, value: "{{version}}" }
              - header: { key: x-cluster, value: "%UPSTREAM_CLUSTER%" }
        """;

    private const string CheckScript = """
        local threads = {}
        function setup(thread) table.insert(threads, thread) end
        function init(args) checked = 0; mismatched = 0 end
        function response(status, headers, body)
          checked = checked + 1
          local route = headers["x-route"]
          if status ~= 200 or route == nil or headers["x-cluster"] ~= ("c" .. route) then mismatched = mismatched + 1 end
        end
        function done(summary, latency, requests)
          local c, m = 0, 0
          for _, t in ipairs(threads) do c = c + t:get("checked"); m = m + t:get("mismatched") end
          io.write(string.format("checked %d mismatched %d\n", c, m))
        end
        """;

    private static void MoveIntoPlace(string path, string text)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    [GeneratedRegex(@"checked (\d+) mismatched (\d+)")]
    private static partial Regex Checked();

    [StressFact]
    public async Task Updates_HundredRouteAndClusterChangesUnderWrk_NoFailedOrMixedResponse()
    {
        if (!File.Exists(Wrk))
        {
            Assert.Fail($"wrk is needed for this test: apt-get install wrk ({Wrk} not found){(Environment.GetEnvironmentVariable("CI") == "true" ? "; .ci/run must install it" : string.Empty)}");
        }
        await using var upstream = RawUpstream.Start();
        File.WriteAllText(CdsPath, Clusters(0, upstream.Port, 0));
        File.WriteAllText(RdsPath, Routes(0));
        var script = Path.Combine(_directory, "check.lua");
        File.WriteAllText(script, CheckScript);
        var ports = FreePort.Next(2);
        var yaml = $$"""
            admin:
              address: { socket_address: { address: 127.0.0.1, port_value: {{ports[1]}} } }
            dynamic_resources:
              cds_config: { resource_api_version: V3, path_config_source: { path: {{CdsPath}} } }
            static_resources:
              listeners:
              - name: stress
                address: { socket_address: { address: 127.0.0.1, port_value: {{ports[0]}} } }
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: stress
                      http_filters: [ { name: envoy.filters.http.router } ]
                      rds: { route_config_name: stress_route, config_source: { resource_api_version: V3, path_config_source: { path: {{RdsPath}} } } }
            """;
        await using var gateway = await GatewayProcess.StartAsync(yaml, ports[0], ports[1], log);

        var psi = new ProcessStartInfo(Wrk) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-t", "2", "-c", "16", "-d", "100s", "-s", script, $"http://127.0.0.1:{ports[0]}/" })
        {
            psi.ArgumentList.Add(arg);
        }
        using var wrk = Process.Start(psi)!;
        var output = wrk.StandardOutput.ReadToEndAsync();
        var errors = wrk.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.Delay(1000);
            for (var i = 1; i <= Updates; i++)
            {
                // CDS first (the new cluster beside the one in use), then the route table moving to it; the cluster of two
                // versions ago goes with the next CDS update.
                MoveIntoPlace(CdsPath, Clusters(i, upstream.Port, i - 1, i));
                await WaitForStatAsync(gateway, "cluster_manager.cds.update_success", i + 1);
                MoveIntoPlace(RdsPath, Routes(i));
                await WaitForStatAsync(gateway, "http.stress.rds.stress_route.update_success", i + 1);
            }
        }
        finally
        {
            // wrk reports what it did when interrupted.
            Process.Start("kill", ["-INT", wrk.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        }
        await wrk.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var report = await output + await errors;
        log.WriteLine($"{Updates} CDS+RDS updates in {clock.Elapsed.TotalSeconds:F1} s\n{report}");

        await gateway.AssertStatsAsync(("cluster_manager.cds.update_rejected", 0), ("http.stress.rds.stress_route.update_rejected", 0), ("cluster_manager.active_clusters", 2));
        var counts = Checked().Match(report);
        Assert.True(counts.Success, report);
        Assert.True(long.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture) > 1000, "the load ran: " + report);
        Assert.Equal("0", counts.Groups[2].Value);
        Assert.DoesNotContain("Non-2xx", report, StringComparison.Ordinal);
        Assert.DoesNotContain("Socket errors", report, StringComparison.Ordinal);
    }

    private static async Task WaitForStatAsync(GatewayProcess gateway, string name, long value)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var line = GatewayProcess.FindStatLine(await gateway.GetStatsAsync(), name);
            if (line is not null && long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture) >= value)
            {
                return;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"{name} did not reach {value}: {line}");
            await Task.Delay(10);
        }
    }
}
