using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Clusters.HealthChecking;

public class HealthCheckConfigTests
{
    private static string WithHealthChecks(string block) => TestConfigs.Seed() + "\n      health_checks:\n" + block;

    private static EnvoyConfigException LoadFails(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    private const string Valid = """
              - timeout: 1s
                interval: 5s
                unhealthy_threshold: 3
                healthy_threshold: 2
                http_health_check:
                  path: /healthz
        """;

    [Fact]
    public void Translate_MinimalHttpHealthCheck_AppliesEnvoyDefaults()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(WithHealthChecks(Valid)));

        var check = Assert.Single(plan.ClusterPlans).HealthCheck!;
        Assert.Equal(TimeSpan.FromSeconds(1), check.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), check.Interval);
        Assert.Equal(3, check.UnhealthyThreshold);
        Assert.Equal(2, check.HealthyThreshold);
        Assert.Equal("httpbin_service", check.Host);
        Assert.Equal("/healthz", check.Path);
        Assert.Equal("GET", check.Method);
        Assert.True(check.ReuseConnection);
        Assert.Equal(TimeSpan.FromSeconds(60), check.NoTrafficInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), check.NoTrafficHealthyInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), check.UnhealthyInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), check.UnhealthyEdgeInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), check.HealthyEdgeInterval);
        Assert.Equal([new StatusRange(200, 201)], check.ExpectedStatuses);
    }

    [Fact]
    public void Translate_IgnoreNewHostsUntilFirstHc_LoadsAndIsCarried()
    {
        var yaml = WithHealthChecks(Valid) + "\n      common_lb_config:\n        ignore_new_hosts_until_first_hc: true\n";

        Assert.True(Assert.Single(EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml)).ClusterPlans).IgnoreNewHostsUntilFirstHc);
    }

    [Theory]
    [InlineData("update_merge_window: 2s")]
    [InlineData("close_connections_on_host_set_change: true")]
    [InlineData("override_host_status: { statuses: [HEALTHY] }")]
    public void Load_CommonLbConfigFieldsNotImplemented_FailWithTheirPath(string field)
    {
        var error = LoadFails(TestConfigs.Seed() + "\n      common_lb_config: { " + field + " }\n");

        Assert.Contains("common_lb_config." + field[..field.IndexOf(':')], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_NoHealthChecks_PlanHasNone()
        => Assert.Null(Assert.Single(EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed())).ClusterPlans).HealthCheck);

    [Fact]
    public void Translate_AllSupportedFields_AreCarried()
    {
        var yaml = WithHealthChecks("""
              - timeout: 2s
                interval: 10s
                unhealthy_interval: 3s
                healthy_edge_interval: 4s
                no_traffic_interval: 7s
                interval_jitter_percent: 10
                reuse_connection: false
                unhealthy_threshold: 1
                healthy_threshold: 1
                http_health_check:
                  host: health.local
                  path: /ready
                  method: HEAD
                  request_headers_to_remove: [User-Agent]
                  expected_statuses: [{ start: 200, end: 300 }]
                  retriable_statuses: [{ start: 503, end: 504 }]
        """);

        var check = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml)).ClusterPlans[0].HealthCheck!;

        Assert.Equal("health.local", check.Host);
        Assert.Equal("HEAD", check.Method);
        Assert.False(check.ReuseConnection);
        Assert.Equal(TimeSpan.FromSeconds(3), check.UnhealthyInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), check.UnhealthyEdgeInterval);
        Assert.Equal(TimeSpan.FromSeconds(4), check.HealthyEdgeInterval);
        Assert.Equal(TimeSpan.FromSeconds(7), check.NoTrafficHealthyInterval);
        Assert.Equal(10, check.IntervalJitterPercent);
        Assert.Equal(["user-agent"], check.RequestHeadersToRemove);
        Assert.Equal([new StatusRange(200, 300)], check.ExpectedStatuses);
        Assert.Equal([new StatusRange(503, 504)], check.RetriableStatuses);
    }

    [Fact]
    public void Load_MissingRequiredFields_ReportsEachWithItsPath()
    {
        var yaml = WithHealthChecks("""
              - http_health_check:
                  host: x
        """);

        var errors = LoadFails(yaml).Errors.Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains("'timeout' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'interval' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'unhealthy_threshold' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'healthy_threshold' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("static_resources.clusters[0].health_checks[0].http_health_check", StringComparison.Ordinal) && e.Contains("'path' is required", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.Contains("health_checks[0]", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_NoCheckerKind_IsRejected()
    {
        var yaml = WithHealthChecks("""
              - timeout: 1s
                interval: 1s
                unhealthy_threshold: 1
                healthy_threshold: 1
        """);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Contains("needs one of http_health_check", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ start: 300, end: 200 }", "expecting start < end, but found start=300 and end=200")]
    [InlineData("{ start: 99, end: 200 }", "expecting start >= 100, but found start=99")]
    [InlineData("{ start: 200, end: 601 }", "expecting end <= 600, but found end=601")]
    public void Load_BadExpectedStatusRange_IsRejected(string range, string message)
    {
        var yaml = WithHealthChecks(Valid + "\n          expected_statuses: [" + range + "]");

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("Invalid http expected status range: " + message, error.Message);
        Assert.StartsWith("static_resources.clusters[0].health_checks[0].http_health_check.expected_statuses[0]", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ZeroDurations_AreRejected()
    {
        var yaml = WithHealthChecks(Valid.Replace("timeout: 1s", "timeout: 0s", StringComparison.Ordinal).Replace("interval: 5s", "interval: 0s", StringComparison.Ordinal));

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Location.Path == "static_resources.clusters[0].health_checks[0].timeout" && e.Message == "'timeout' must be greater than 0s");
        Assert.Contains(errors, e => e.Location.Path == "static_resources.clusters[0].health_checks[0].interval" && e.Message == "'interval' must be greater than 0s");
    }

    [Fact]
    public void Load_SecondHealthCheck_IsRejected()
    {
        var error = Assert.Single(LoadFails(WithHealthChecks(Valid + "\n" + Valid)).Errors);

        Assert.Equal("static_resources.clusters[0].health_checks[1]", error.Location.Path);
        Assert.Contains("only one health check per cluster", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("grpc_health_check: {}", "static_resources.clusters[0].health_checks[0].grpc_health_check", "envoy.config.core.v3.HealthCheck")]
    [InlineData("event_log_path: /tmp/hc.log", "static_resources.clusters[0].health_checks[0].event_log_path", "envoy.config.core.v3.HealthCheck")]
    public void Load_NotSupportedHealthCheckField_NamesIt(string line, string path, string type)
    {
        var error = Assert.Single(LoadFails(WithHealthChecks(Valid + "\n        " + line)).Errors);

        Assert.Equal(path, error.Location.Path);
        Assert.Contains($"of {type} is not supported by this gateway yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotSupportedHttpHealthCheckField_NamesIt()
    {
        var error = Assert.Single(LoadFails(WithHealthChecks(Valid + "\n          service_name_matcher: { exact: foo }")).Errors);

        Assert.Equal("static_resources.clusters[0].health_checks[0].http_health_check.service_name_matcher", error.Location.Path);
        Assert.Equal("field 'service_name_matcher' of envoy.config.core.v3.HealthCheck.HttpHealthCheck is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Load_MethodConnect_IsRejected()
    {
        var error = Assert.Single(LoadFails(WithHealthChecks(Valid + "\n          method: CONNECT")).Errors);

        Assert.Equal("static_resources.clusters[0].health_checks[0].http_health_check.method", error.Location.Path);
    }
}
