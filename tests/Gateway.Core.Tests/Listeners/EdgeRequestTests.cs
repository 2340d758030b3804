using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// <c>use_remote_address</c>, <c>xff_num_trusted_hops</c>, <c>skip_xff_append</c>, <c>via</c> and the x-request-id rules
/// through a real gateway and an upstream that echoes the headers it got. The client is on loopback, which Envoy records
/// in <c>x-forwarded-for</c> as the machine's local address.
/// </summary>
public class EdgeRequestTests
{
    private const string UuidV4 = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private const string Routes = """
        - name: echo
          match: { prefix: "/echo" }
          route: { cluster: echo }
        """;

    /// <summary>A one-listener bootstrap with <paramref name="hcmFields"/> (flow-style YAML lines) in the HCM.</summary>
    private static string Config(EchoUpstream upstream, params string[] hcmFields)
        => ListenerYaml.Build(upstream.Port, string.Empty, routes: Routes)
            .Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http" + string.Concat(hcmFields.Select(f => "\n          " + f)), StringComparison.Ordinal);

    private static async Task<(HttpResponseMessage Response, EchoedRequest? Echoed)> SendAsync(InProcessGateway gateway, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response, response.StatusCode == HttpStatusCode.OK ? JsonSerializer.Deserialize<EchoedRequest>(body, EchoJson) : null);
    }

    private static string? Header(EchoedRequest echoed, string name) => echoed.Headers.TryGetValue(name, out var value) ? value : null;

    [Fact]
    public async Task UseRemoteAddress_ExternalLoopbackClient_IsAnEdgeRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-request-id", "client-chosen"), ("x-envoy-internal", "true"), ("x-envoy-max-retries", "3"),
            ("x-envoy-decorator-operation", "op"));

        using (response)
        {
            Assert.Equal(RequestHeaderMutation.LocalAddressText, Header(echoed!, "x-forwarded-for"));
            Assert.Equal("127.0.0.1", Header(echoed!, "x-envoy-external-address"));
            Assert.Null(Header(echoed!, "x-envoy-internal"));
            Assert.Null(Header(echoed!, "x-envoy-max-retries"));
            Assert.Null(Header(echoed!, "x-envoy-decorator-operation"));
            // An edge request's id is Envoy's own.
            Assert.Matches(UuidV4, Header(echoed!, "x-request-id"));
            Assert.Equal("http", Header(echoed!, "x-forwarded-proto"));
        }
    }

    [Fact]
    public async Task AppendXForwardedPort_UntrustedHop_PortIsTheListeners()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true", "append_x_forwarded_port: true"));
        var listenerPort = gateway.ListenerUri("/").Port;

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-forwarded-port", "9999"));

        using (response)
        {
            Assert.Equal(listenerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(echoed!, "x-forwarded-port"));
        }
    }

    [Fact]
    public async Task SchemeHeaderTransformation_PlainConnection_RoutesAndForwardsTheOverwrittenScheme()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        const string schemeRoutes = """
            - match: { prefix: "/echo", headers: [ { name: ":scheme", string_match: { exact: https } } ] }
              route: { cluster: echo }
            - match: { prefix: "/" }
              direct_response: { status: 418 }
            """;
        var yaml = ListenerYaml.Build(upstream.Port, string.Empty, routes: schemeRoutes, connectionManager: "scheme_header_transformation: { scheme_to_overwrite: https }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-forwarded-proto", "http"));

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https", Header(echoed!, "x-forwarded-proto"));
        }
    }

    [Fact]
    public async Task AddUserAgent_NoUserAgent_NodeClusterAndIdForwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ListenerYaml.Build(upstream.Port, string.Empty, routes: Routes, bootstrap: "node: { id: front-1, cluster: front }", connectionManager: "use_remote_address: true\nadd_user_agent: true");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/echo"));
        request.Headers.TryAddWithoutValidation("x-envoy-downstream-service-cluster", "spoofed");
        request.Headers.TryAddWithoutValidation("x-envoy-downstream-service-node", "spoofed");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.Equal("front", Header(echoed, "x-envoy-downstream-service-cluster"));
        Assert.Equal("front-1", Header(echoed, "x-envoy-downstream-service-node"));
        Assert.Equal("front", Header(echoed, "user-agent"));
    }

    [Fact]
    public void LocalAddressText_Machine_IsItsFirstNonLoopbackIpv4Address()
    {
        var expected = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)) ?? IPAddress.Loopback;

        Assert.Equal(expected.ToString(), RequestHeaderMutation.LocalAddressText);
    }

    [Fact]
    public async Task UseRemoteAddress_PreserveExternalRequestId_KeepsTheClientsId()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true", "preserve_external_request_id: true"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-request-id", "client-chosen"));

        using (response)
        {
            Assert.Equal("client-chosen", Header(echoed!, "x-request-id"));
            Assert.Equal("127.0.0.1", Header(echoed!, "x-envoy-external-address"));
        }
    }

    [Fact]
    public async Task UseRemoteAddress_InternalPeer_IsInternalAndKeepsTheId()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true",
            "internal_address_config: { cidr_ranges: [ { address_prefix: 127.0.0.1, prefix_len: 32 } ] }"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-request-id", "client-chosen"), ("x-envoy-force-trace", "true"));

        using (response)
        {
            Assert.Equal("true", Header(echoed!, "x-envoy-internal"));
            Assert.Equal("client-chosen", Header(echoed!, "x-request-id"));
            Assert.Null(Header(echoed!, "x-envoy-external-address"));
            Assert.Equal("true", Header(echoed!, "x-envoy-force-trace"));
            // x-envoy-force-trace makes Envoy echo the request id (mutateResponseHeaders).
            Assert.Equal("client-chosen", Assert.Single(response.Headers.GetValues("x-request-id")));
        }
    }

    [Fact]
    public async Task UseRemoteAddress_ClientSentXffFromAnInternalPeer_IsExternal()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true",
            "internal_address_config: { cidr_ranges: [ { address_prefix: 127.0.0.0, prefix_len: 8 } ] }"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-forwarded-for", "203.0.113.9"), ("x-envoy-force-trace", "true"));

        using (response)
        {
            Assert.Null(Header(echoed!, "x-envoy-internal"));
            Assert.Equal("203.0.113.9," + RequestHeaderMutation.LocalAddressText, Header(echoed!, "x-forwarded-for"));
            Assert.Equal("127.0.0.1", Header(echoed!, "x-envoy-external-address"));
            Assert.Null(Header(echoed!, "x-envoy-force-trace"));
            Assert.False(response.Headers.Contains("x-request-id"));
        }
    }

    [Fact]
    public async Task UseRemoteAddress_OneTrustedHop_TrustsTheAddressItAppended()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true", "xff_num_trusted_hops: 1"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-forwarded-for", "192.0.2.1, 198.51.100.1"), ("x-forwarded-proto", "https"));

        using (response)
        {
            Assert.Equal("198.51.100.1", Header(echoed!, "x-envoy-external-address"));
            Assert.Equal("192.0.2.1, 198.51.100.1," + RequestHeaderMutation.LocalAddressText, Header(echoed!, "x-forwarded-for"));
            // The trusted hop's x-forwarded-proto stands.
            Assert.Equal("https", Header(echoed!, "x-forwarded-proto"));
        }
    }

    [Fact]
    public async Task UseRemoteAddress_SkipXffAppend_ForwardsXffAsItCame()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true", "skip_xff_append: true"));

        var (withXff, echoedWith) = await SendAsync(gateway, "/echo", ("x-forwarded-for", "198.51.100.1"));
        var (withoutXff, echoedWithout) = await SendAsync(gateway, "/echo");

        using (withXff)
        using (withoutXff)
        {
            Assert.Equal("198.51.100.1", Header(echoedWith!, "x-forwarded-for"));
            Assert.Null(Header(echoedWithout!, "x-forwarded-for"));
            Assert.Equal("127.0.0.1", Header(echoedWithout!, "x-envoy-external-address"));
        }
    }

    [Fact]
    public async Task DontUseRemoteAddress_ClientsXffAndId_AreForwardedUnchanged()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("x-forwarded-for", "198.51.100.1"), ("x-request-id", "client-chosen"));

        using (response)
        {
            Assert.Equal("198.51.100.1", Header(echoed!, "x-forwarded-for"));
            Assert.Equal("client-chosen", Header(echoed!, "x-request-id"));
            Assert.Null(Header(echoed!, "x-envoy-external-address"));
        }
    }

    [Fact]
    public async Task NoRequestId_IsGeneratedAsAVersion4Uuid()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));

        var (response, echoed) = await SendAsync(gateway, "/echo");

        using (response)
        {
            Assert.Matches(UuidV4, Header(echoed!, "x-request-id"));
            Assert.False(response.Headers.Contains("x-request-id"));
        }
    }

    [Fact]
    public async Task GenerateRequestIdFalse_EdgeRequest_NeitherAddsNorReplacesTheId()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "use_remote_address: true", "generate_request_id: false"));

        var (without, echoedWithout) = await SendAsync(gateway, "/echo");
        var (with, echoedWith) = await SendAsync(gateway, "/echo", ("x-request-id", "client-chosen"));

        using (without)
        using (with)
        {
            Assert.Null(Header(echoedWithout!, "x-request-id"));
            Assert.Equal("client-chosen", Header(echoedWith!, "x-request-id"));
        }
    }

    [Fact]
    public async Task Via_ProxiedRequestAndResponse_AreAppendedTo()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "via: envoy-edge"));

        var (response, echoed) = await SendAsync(gateway, "/echo", ("via", "1.1 client-proxy"));

        using (response)
        {
            Assert.Equal("1.1 client-proxy, envoy-edge", Header(echoed!, "via"));
            Assert.Equal("envoy-edge", string.Join(", ", response.Headers.GetValues("via")));
        }
    }

    [Fact]
    public async Task LocalReply_ViaAndAlwaysSetRequestIdInResponse_AreSetOnIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "via: envoy-edge", "always_set_request_id_in_response: true"));

        var (response, _) = await SendAsync(gateway, "/no-route", ("x-request-id", "client-chosen"));

        using (response)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("envoy-edge", string.Join(", ", response.Headers.GetValues("via")));
            Assert.Equal("client-chosen", Assert.Single(response.Headers.GetValues("x-request-id")));
        }
    }

    [Fact]
    public async Task LocalReply_InternalForceTrace_EchoesTheRequestId()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "internal_address_config: { cidr_ranges: [ { address_prefix: 10.0.0.0, prefix_len: 8 } ] }"));

        var (response, _) = await SendAsync(gateway, "/no-route", ("x-forwarded-for", "10.1.1.1"), ("x-request-id", "client-chosen"), ("x-envoy-force-trace", "true"));

        using (response)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("client-chosen", Assert.Single(response.Headers.GetValues("x-request-id")));
        }
    }

    [Fact]
    public void LoadYaml_UuidRequestIdExtension_IsCompiledIntoThePlan()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("""
                      request_id_extension:
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig
                          pack_trace_reason: false
                          use_request_id_for_trace_sampling: false
            """));

        var plan = Gateway.Translation.EnvoyTranslator.Translate(bootstrap).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.False(plan.PackTraceReason);
        Assert.False(plan.UseRequestIdForTraceSampling);
    }

    [Fact]
    public void LoadYaml_NoRequestIdExtension_HasTheUuidDefaults()
    {
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed())).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.True(plan.PackTraceReason);
        Assert.True(plan.UseRequestIdForTraceSampling);
        Assert.False(plan.UseRemoteAddress);
        Assert.Equal(string.Empty, plan.Via);
    }

    [Theory]
    [InlineData("original_ip_detection_extensions: [ { name: envoy.http.original_ip_detection.xff } ]",
        "'typed_config' is required (envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig or .xff.v3.XffConfig)")]
    [InlineData("via: \"a\\r\\nb: c\"", "'via' must not contain NUL, CR or LF")]
    [InlineData("scheme_header_transformation: { scheme_to_overwrite: ftp }", "'scheme_to_overwrite': 'ftp' must be in list [http, https]")]
    [InlineData("scheme_header_transformation: { match_upstream: true }",
        "field 'match_upstream' of envoy.config.core.v3.SchemeHeaderTransformation is not supported by this gateway yet")]
    [InlineData("request_id_extension: {}", "'typed_config' is required (envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig)")]
    [InlineData("request_id_extension: { typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }",
        "@type 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' is not valid here; supported types are: envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig")]
    public void LoadYaml_BadEdgeSettings_AreRejected(string field, string message)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          " + field)));

        Assert.Contains(message, Assert.Single(ex.Errors).Message, StringComparison.Ordinal);
    }
}
