using Gateway.Configuration;
using Gateway.Tests.Listeners;
using Gateway.Translation;

namespace Gateway.Tests.Validation;

/// <summary>A listener's filter chains, their matches and listener filters: Envoy's messages, at the offending path.</summary>
public class FilterChainValidatorTests
{
    private const string Inspector = """
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
        """;

    private static IReadOnlyList<ConfigError> Errors(string chains, string extra = "")
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(FilterChainIntegrationTests.Yaml(chains, extra, port: 10000), "envoy.yaml")).Errors;

    private static (string Path, string Message) Single(string chains, string extra = "")
    {
        var error = Assert.Single(Errors(chains, extra));
        return (error.Location.Path, error.Message);
    }

    private static string Chain(string name, string match = "", string codec = "AUTO") => FilterChainIntegrationTests.Chain(name, match, codec: codec);

    [Fact]
    public void Load_EveryImplementedField_TranslatesIntoChainsAndMatches()
    {
        var chains = string.Join('\n',
            Chain("a", "{ destination_port: 10000, prefix_ranges: [{ address_prefix: 127.0.0.1, prefix_len: 32 }], server_names: [A.Example.com, \"*.b.example.com\"], "
                + "transport_protocol: tls, application_protocols: [h2], direct_source_prefix_ranges: [{ address_prefix: 10.1.2.3, prefix_len: 8 }], "
                + "source_type: EXTERNAL, source_prefix_ranges: [{ address_prefix: \"::1\", prefix_len: 128 }], source_ports: [1234, 5678] }"),
            Chain("b"));
        var extra = Inspector + "\n    listener_filters_timeout: 3s\n    continue_on_listener_filters_timeout: true\n    default_filter_chain:\n" + FilterChainIntegrationTests.Chain("fallback", key: " ");

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(FilterChainIntegrationTests.Yaml(chains, extra, port: 10000), "envoy.yaml"));

        var listener = Assert.Single(plan.Listeners);
        Assert.Equal(["a", "b"], listener.FilterChains.Select(c => c.Name));
        Assert.Equal("fallback", listener.DefaultFilterChain!.Name);
        Assert.True(listener.TlsInspector);
        Assert.Equal(TimeSpan.FromSeconds(3), listener.ListenerFiltersTimeout);
        Assert.True(listener.ContinueOnListenerFiltersTimeout);
        var match = listener.FilterChains[0].Match;
        Assert.Equal(10000, match.DestinationPort);
        Assert.Equal("127.0.0.1/32", Assert.Single(match.PrefixRanges).ToString());
        Assert.Equal(["a.example.com", "*.b.example.com"], match.ServerNames);
        Assert.Equal("tls", match.TransportProtocol);
        Assert.Equal(["h2"], match.ApplicationProtocols);
        // Host bits are cleared, as Envoy's CidrRange does.
        Assert.Equal("10.0.0.0/8", Assert.Single(match.DirectSourcePrefixRanges).ToString());
        Assert.Equal(ConnectionSourceType.External, match.SourceType);
        Assert.Equal("::1/128", Assert.Single(match.SourcePrefixRanges).ToString());
        Assert.Equal([1234, 5678], match.SourcePorts);
        Assert.Same(FilterChainMatchPlan.Any, listener.FilterChains[1].Match);
    }

    [Fact]
    public void Load_NoFilterChains_EnvoysError()
    {
        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(FilterChainIntegrationTests.Yaml("      []", port: 10000).Replace("filter_chains:\n      []", "filter_chains: []", StringComparison.Ordinal), "envoy.yaml")).Errors);

        Assert.Equal("error adding listener '127.0.0.1:10000': no filter chains specified", error.Message);
    }

    [Fact]
    public void Load_SameMatchTwice_EnvoysDuplicateError()
    {
        var (path, message) = Single(Chain("one", "{ server_names: [a.example.com] }") + "\n" + Chain("two", "{ server_names: [a.example.com] }"), Inspector);

        Assert.Equal("static_resources.listeners[0].filter_chains[1].filter_chain_match", path);
        Assert.Equal("error adding listener '127.0.0.1:10000': filter chain 'two' has the same matching rules defined as 'one'", message);
    }

    [Fact]
    public void Load_TwoChainsWithoutMatch_DuplicateError()
    {
        var (_, message) = Single(Chain("one") + "\n" + Chain("two"));

        Assert.Equal("error adding listener '127.0.0.1:10000': filter chain 'two' has the same matching rules defined as 'one'", message);
    }

    [Fact]
    public void Load_OverlappingServerNames_EnvoysOverlapError()
    {
        var (path, message) = Single(Chain("one", "{ server_names: [a.example.com, b.example.com] }") + "\n" + Chain("two", "{ server_names: [b.example.com, c.example.com] }"), Inspector);

        Assert.Equal("static_resources.listeners[0].filter_chains[1].filter_chain_match", path);
        Assert.Equal("error adding listener '127.0.0.1:10000': multiple filter chains with overlapping matching rules are defined", message);
    }

    [Fact]
    public void Load_SameNamesOtherTransport_NoOverlap()
    {
        var chains = Chain("one", "{ server_names: [a.example.com], transport_protocol: tls }") + "\n" + Chain("two", "{ server_names: [a.example.com], transport_protocol: raw_buffer }");

        Assert.Equal(2, EnvoyConfigLoader.LoadYaml(FilterChainIntegrationTests.Yaml(chains, Inspector, port: 10000), "envoy.yaml").StaticResources!.Listeners[0].FilterChains.Count);
    }

    [Theory]
    [InlineData("{ server_names: [\"a*.example.com\"] }", "filter_chain_match.server_names", "error adding listener '127.0.0.1:10000': partial wildcards are not supported in \"server_names\"")]
    [InlineData("{ server_names: [\"*\"] }", "filter_chain_match.server_names", "error adding listener '127.0.0.1:10000': partial wildcards are not supported in \"server_names\"")]
    [InlineData("{ destination_port: 0 }", "filter_chain_match.destination_port", "Proto constraint validation failed (FilterChainMatchValidationError.DestinationPort: value must be inside range [1, 65535])")]
    [InlineData("{ source_ports: [70000] }", "filter_chain_match.source_ports", "Proto constraint validation failed (FilterChainMatchValidationError.SourcePorts: value must be inside range [1, 65535])")]
    [InlineData("{ prefix_ranges: [{ address_prefix: not-an-ip, prefix_len: 8 }] }", "filter_chain_match.prefix_ranges[0].address_prefix", "malformed IP address: 'not-an-ip'")]
    [InlineData("{ source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 33 }] }", "filter_chain_match.source_prefix_ranges[0].prefix_len", "'prefix_len' 33 is too long for 10.0.0.0")]
    [InlineData("{ address_suffix: x }", "filter_chain_match.address_suffix", null)]
    public void Load_BadMatchField_ErrorAtItsPath(string match, string field, string? message)
    {
        var (path, actual) = Single(Chain("one", match), Inspector);

        Assert.Equal("static_resources.listeners[0].filter_chains[0]." + field, path);
        if (message is not null)
        {
            Assert.Equal(message, actual);
        }
    }

    [Theory]
    [InlineData("- name: envoy.filters.listener.http_inspector", "listener_filters[0].name", "listener filter 'envoy.filters.listener.http_inspector' is not supported by this gateway; only envoy.filters.listener.tls_inspector is")]
    [InlineData("- name: envoy.filters.listener.tls_inspector", "listener_filters[0].name", "'envoy.filters.listener.tls_inspector' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")]
    [InlineData("- name: t\n      typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector, enable_ja3_fingerprinting: true }", "listener_filters[0].typed_config.enable_ja3_fingerprinting", "JA3 fingerprinting is not supported (only false)")]
    [InlineData("- name: t\n      typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }\n    - name: u\n      typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }", "listener_filters[1].typed_config", "only one envoy.filters.listener.tls_inspector per listener is supported")]
    public void Load_BadListenerFilter_ErrorAtItsPath(string filters, string field, string message)
    {
        var (path, actual) = Single(Chain("one"), "    listener_filters:\n    " + filters);

        Assert.Equal(("static_resources.listeners[0]." + field, message), (path, actual));
    }

    [Fact]
    public void Load_PlainTextHttp2NextToHttp1Chain_Refused()
    {
        var (path, message) = Single(Chain("h2c", "{ source_ports: [1234] }", codec: "HTTP2") + "\n" + Chain("h1"));

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters", path);
        Assert.StartsWith("filter chain 'h2c' serves HTTP/2 in plain text while filter chain 'h1' of the same listener serves HTTP/1.1", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PlainTextHttp2Chains_EndpointIsHttp2Only()
    {
        var chains = Chain("a", "{ source_ports: [1234] }", codec: "HTTP2") + "\n" + Chain("b", codec: "HTTP2");

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(FilterChainIntegrationTests.Yaml(chains, port: 10000), "envoy.yaml"));

        Assert.Equal(Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2, plan.Listeners[0].Protocols);
    }

    [Fact]
    public void Load_EveryChainInvalid_EveryErrorReported()
    {
        var errors = Errors(Chain("one", "{ destination_port: 0 }") + "\n" + Chain("two", "{ server_names: [\"x*\"] }"), "    listener_filters:\n    - name: envoy.filters.listener.original_dst");

        Assert.Equal(3, errors.Count);
    }
}
