using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Cors;

/// <summary>The loaded CORS and CSRF configuration as /config_dump prints it.</summary>
public class CorsCsrfConfigDumpTests
{
    [Fact]
    public async Task ConfigDump_PrintsThePoliciesInProtoFieldOrder()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var filters = """
            - name: envoy.filters.http.cors
            - name: envoy.filters.http.csrf
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy
                filter_enabled: { default_value: { numerator: 10, denominator: TEN_THOUSAND }, runtime_key: k }
                additional_origins: [{ exact: a.example }]
            """;
        var virtualHost = """
            typed_per_filter_config:
              envoy.filters.http.cors:
                "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                max_age: "5"
                allow_origin_string_match: [{ exact: "*" }]
                allow_credentials: false
            """;
        await using var gateway = await InProcessGateway.StartAsync(
            ListenerYaml.Build(upstream.Port, filters, virtualHost), configureGateway: g => g.AddBuiltInHttpFilters());

        var dump = string.Concat((await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"))).Where(c => !char.IsWhiteSpace(c)));

        Assert.Contains(
            "\"envoy.filters.http.cors\":{\"@type\":\"type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy\",\"allow_origin_string_match\":[{\"exact\":\"*\"}],\"max_age\":\"5\",\"allow_credentials\":false}",
            dump, StringComparison.Ordinal);
        Assert.Contains(
            "{\"name\":\"envoy.filters.http.csrf\",\"typed_config\":{\"@type\":\"type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy\",\"filter_enabled\":{\"default_value\":{\"numerator\":10,\"denominator\":\"TEN_THOUSAND\"},\"runtime_key\":\"k\"},\"additional_origins\":[{\"exact\":\"a.example\"}]}}",
            dump, StringComparison.Ordinal);
    }
}
