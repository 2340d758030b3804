using System.Text.RegularExpressions;
using Gateway.Configuration;

namespace Gateway.Tests.Validation;

/// <summary>
/// Every field of a config using most of the model, given a value of the wrong type, gives exactly the binding error:
/// validation, which runs in the same load, adds nothing about the refused field (no "required", no range, no
/// reference or type-dependent check).
/// </summary>
public partial class OneReportMutationTests
{
    private const string Config = """
admin:
  address:
    socket_address:
      address: 127.0.0.1
      port_value: 9901
static_resources:
  listeners:
  - name: edge
    address:
      socket_address:
        address: 0.0.0.0
        port_value: 8080
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: edge_http
          codec_type: AUTO
          max_request_headers_kb: 60
          internal_address_config:
            cidr_ranges:
            - address_prefix: 10.0.0.0
              prefix_len: 8
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            name: edge_routes
            virtual_hosts:
            - name: api
              domains:
              - api.example.com
              retry_policy:
                retry_on: 5xx
                num_retries: 2
                per_try_timeout: 1s
                retry_back_off:
                  base_interval: 0.1s
                  max_interval: 1s
              routes:
              - match:
                  prefix: /v1/
                  headers:
                  - name: x-canary
                    string_match:
                      exact: "1"
                  query_parameters:
                  - name: q
                    present_match: true
                route:
                  cluster: api
                  timeout: 2.5s
              - match:
                  safe_regex:
                    regex: /v2/[a-z]+
                route:
                  cluster: api
              - match:
                  path: /healthz
                direct_response:
                  status: 200
                  body:
                    inline_string: ok
  clusters:
  - name: api
    type: STRICT_DNS
    connect_timeout: 1s
    lb_policy: ROUND_ROBIN
    dns_refresh_rate: 30s
    circuit_breakers:
      thresholds:
      - max_connections: 10
    outlier_detection:
      consecutive_5xx: 5
      interval: 10s
      base_ejection_time: 30s
      max_ejection_percent: 50
    health_checks:
    - timeout: 1s
      interval: 5s
      unhealthy_threshold: 2
      healthy_threshold: 1
      http_health_check:
        path: /health
    load_assignment:
      cluster_name: api
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: api.internal
                port_value: 80
""";

    [Fact]
    public void Load_EachFieldWithAWrongTypedValue_ReportsOnlyTheBindingError()
    {
        EnvoyConfigLoader.LoadYaml(Config);
        var lines = Config.Split('\n');
        var noisy = new List<string>();
        var mutations = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var key = KeyLine().Match(lines[i]);
            if (!key.Success || key.Groups["key"].Value.StartsWith('"'))
            {
                continue;
            }
            // A scalar becomes a list of lists; a message or list (its block dropped) becomes a number.
            var end = i + 1;
            var value = "[[x]]";
            if (!key.Groups["value"].Success)
            {
                var indent = Indent(lines[i]) + (key.Groups["dash"].Success ? 2 : 0);
                while (end < lines.Length && (Indent(lines[end]) > indent || (Indent(lines[end]) == indent && lines[end].TrimStart().StartsWith("- ", StringComparison.Ordinal))))
                {
                    end++;
                }
                value = "7";
            }
            var mutated = string.Join('\n', lines[..i].Append($"{key.Groups["prefix"].Value}{key.Groups["key"].Value}: {value}").Concat(lines[end..]));
            mutations++;
            var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(mutated)).Errors;
            if (errors.Count != 1)
            {
                noisy.Add($"line {i + 1} ({lines[i].Trim()} -> {value}): {string.Join(" | ", errors.Select(e => e.ToString()))}");
            }
        }

        Assert.True(mutations > 60, $"only {mutations} mutations");
        Assert.Empty(noisy);
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;

    [GeneratedRegex(@"^(?<prefix>\s*(?<dash>- )?)(?<key>[a-z_0-9""@]+):(?: (?<value>.+))?$")]
    private static partial Regex KeyLine();
}
