using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using static Gateway.Tests.Clusters.HealthChecking.HealthCheckTestConfig;

namespace Gateway.Tests.Tls;

/// <summary>
/// Cluster TLS (<c>transport_socket</c> with an <c>UpstreamTlsContext</c>, <c>transport_socket_matches</c>) against a real
/// Kestrel TLS upstream on loopback that can require a client certificate and answers with what it saw.
/// </summary>
public sealed class UpstreamTlsIntegrationTests : IDisposable
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private const string Ssl = "cluster.backend.ssl.";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gateway-upstream-tls-" + Guid.NewGuid().ToString("N"));

    public UpstreamTlsIntegrationTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>An <c>envoy.transport_sockets.tls</c> socket (flush left) with an UpstreamTlsContext body.</summary>
    internal static string Socket(string context) => $"""
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        {ListenerYaml.Indent(ListenerYaml.Dedent(context), 2)}
        """;

    /// <summary>An UpstreamTlsContext body: the client certificate (unless <paramref name="clientCertificate"/> is false), a validation context, extra fields.</summary>
    internal static string Context(string validation = "", bool clientCertificate = true, string extra = "", string parameters = "")
    {
        var common = new List<string>();
        if (clientCertificate)
        {
            common.Add($$"""
                tls_certificates:
                - certificate_chain: { filename: {{Certs.PathOf("client.pem")}} }
                  private_key: { filename: {{Certs.PathOf("client-key.pem")}} }
                """);
        }
        if (validation.Length > 0)
        {
            common.Add("validation_context:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(validation), 2));
        }
        if (parameters.Length > 0)
        {
            common.Add("tls_params:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(parameters), 2));
        }
        var text = common.Count == 0 ? "common_tls_context: {}" : "common_tls_context:\n" + ListenerYaml.Indent(string.Join("\n", common), 2);
        return extra.Length == 0 ? text : text + "\n" + ListenerYaml.Dedent(extra);
    }

    internal static string TrustedCa(string ca = "ca.pem", string san = "")
        => $"trusted_ca: {{ filename: {Certs.PathOf(ca)} }}" + (san.Length == 0 ? "" : $"\nmatch_typed_subject_alt_names:\n- san_type: DNS\n  matcher: {{ exact: {san} }}");

    /// <summary>
    /// A bootstrap whose listener routes everything to cluster <c>backend</c> (the second cluster, after ListenerYaml's
    /// unused <c>echo</c>), whose endpoints and extra fields (flush left) are given.
    /// </summary>
    internal static string Yaml(string endpoints, string cluster, string accessLogPath = "")
    {
        var backend = $"""
            - name: backend
              connect_timeout: 2s
              type: STATIC
            {ListenerYaml.Indent(ListenerYaml.Dedent(cluster), 2)}
              load_assignment:
                cluster_name: backend
                endpoints:
                - lb_endpoints:
            {ListenerYaml.Indent(ListenerYaml.Dedent(endpoints), 6)}
            """;
        var yaml = ListenerYaml.Build(1, httpFilters: string.Empty, routes: "- match: { prefix: \"/\" }\n  route: { cluster: backend }", clusters: backend);
        return accessLogPath.Length == 0 ? yaml : yaml.Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + ListenerYaml.Indent(ListenerYaml.Dedent($$"""
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: {{accessLogPath}}
                log_format: { text_format: "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_TRANSPORT_FAILURE_REASON%\n" }
            """), 10), StringComparison.Ordinal);
    }

    internal static string Endpoint(int port, string metadata = "")
        => $"- endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }} }}"
           + (metadata.Length == 0 ? "" : $"\n  metadata: {{ filter_metadata: {{ envoy.transport_socket_match: {metadata} }} }}");

    /// <summary>A <c>transport_socket_matches</c> list whose first entry, <c>mtls</c>, matches <c>mode: mtls</c> with the client certificate (more entries may follow).</summary>
    private static string MtlsMatch => "transport_socket_matches:\n- name: mtls\n  match: { mode: mtls }\n  transport_socket:\n" + ListenerYaml.Indent(Socket(Context(TrustedCa())), 4);

    internal static string TlsCluster(string context, string extra = "") => "transport_socket:\n" + ListenerYaml.Indent(Socket(context), 2) + (extra.Length == 0 ? "" : "\n" + ListenerYaml.Dedent(extra));

    [Fact]
    public async Task Cluster_MutualTlsWithSni_UpstreamSeesClientCertificateAndServerName()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: true);
        var yaml = Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(san: "localhost"), extra: "sni: backend.example")));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        var body = await gateway.Client.GetStringAsync(gateway.ListenerUri("/mtls"));

        Assert.Equal("client=CN=client;sni=backend.example", body);
        Assert.Equal("backend.example", Assert.Single(upstream.ServerNames));
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_total", 1);
    }

    [Fact]
    public async Task Cluster_NoValidationContext_AcceptsServerWithoutVerifying()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        // Envoy's client defaults: no verification without a validation context; no SNI without sni or auto_sni.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(clientCertificate: false))));

        var body = await gateway.Client.GetStringAsync(gateway.ListenerUri("/plain-context"));

        Assert.Equal("client=none;sni=", body);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
    }

    [Theory]
    [InlineData("auto.example", false, "auto.example")]
    [InlineData("localhost:8443", true, "localhost")]
    public async Task Cluster_AutoSni_HostHeaderIsTheServerName(string host, bool autoSanValidation, string expectedSni)
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var options = $"upstream_http_protocol_options: {{ auto_sni: true, auto_san_validation: {(autoSanValidation ? "true" : "false")} }}";
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(), clientCertificate: false), options)));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/auto"));
        request.Headers.Host = host;

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedSni, Assert.Single(upstream.ServerNames));
    }

    [Fact]
    public async Task Cluster_AutoSanValidationHostNotInCertificate_FailsVerifySan()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var options = """
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: { http_protocol_options: {} }
                upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true }
            """;
        // The configured matcher would pass: auto_san_validation replaces it with the SNI.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(san: "localhost"), clientCertificate: false), options)));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/auto"));
        request.Headers.Host = "elsewhere.example";

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
    }

    [Theory]
    [InlineData("ca.pem", "other.example", "fail_verify_san")]
    [InlineData("other-ca.pem", "", "fail_verify_error")]
    public async Task Cluster_ServerCertificateRefused_503UfWithTransportFailureReason(string ca, string san, string stat)
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: true);
        var log = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(ca, san))), log));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/refused"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        const string Reason = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end";
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: " + Reason, await response.Content.ReadAsStringAsync());
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, log));
        var underscored = Reason.Replace(' ', '_');
        Assert.Equal($"503 UF upstream_reset_before_response_started{{connection_failure|{underscored}}} {underscored}", line);
        await gateway.AssertStatAsync(Ssl + stat, 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
        await gateway.AssertStatAsync(Ssl + "connection_error", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_active", 0);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Cluster_NoCommonProtocolVersion_ConnectFailureWithConnectionError()
    {
        // (A Kestrel server that requires a client certificate cannot stand in for a refusal in the handshake: .NET
        // verifies the client's certificate after its handshake completed, so the client sees a closed connection.)
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false, protocols: SslProtocols.Tls12);
        var context = Context(TrustedCa(), clientCertificate: false, parameters: "tls_minimum_protocol_version: TLSv1_3");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(context)));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/no-common-version"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        // Envoy (BoringSSL) gives the same text for this alert.
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: "
            + "TLS_error:|268436526:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION:TLS_error_end", body);
        await gateway.AssertStatAsync(Ssl + "connection_error", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 1);
    }

    [Fact]
    public async Task Cluster_ConnectFailureRetryPolicy_TlsFailureIsRetriedAsConnectFailure()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var yaml = Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa("other-ca.pem"), clientCertificate: false)))
            .Replace("route: { cluster: backend }", "route: { cluster: backend, retry_policy: { retry_on: connect-failure, num_retries: 2 } }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/retried"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_retry", 2);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 3);
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 3);
    }

    [Fact]
    public async Task Cluster_TlsVerificationFailures_EjectedByOutlierDetectionAsConnectFailures()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var cluster = TlsCluster(Context(TrustedCa("other-ca.pem"), clientCertificate: false), "outlier_detection: { consecutive_5xx: 2, interval: 60s, base_ejection_time: 60s, max_ejection_percent: 100 }");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), cluster));

        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/eject"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        await gateway.AssertStatAsync("cluster.backend.outlier_detection.ejections_detected_consecutive_5xx", 1);
        await gateway.AssertStatAsync("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx", 1);
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_outlier_check");
    }

    [Fact]
    public async Task TransportSocketMatches_TlsAndPlainTextEndpoints_BothServe()
    {
        await using var tls = await TlsUpstream.StartAsync(requireClientCertificate: true);
        await using var plain = await EchoUpstream.StartAsync();
        var endpoints = Endpoint(tls.Port, "{ mode: mtls }") + "\n" + Endpoint(plain.Port);
        var cluster = $"""
            {MtlsMatch}
            - name: plain
              match: {"{"}{"}"}
              transport_socket: {"{"} name: envoy.transport_sockets.raw_buffer {"}"}
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(endpoints, cluster));

        var bodies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/both"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(2, bodies.Count(b => b == "client=CN=client;sni="));
        Assert.Equal(2, plain.Requests);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
    }

    [Fact]
    public async Task HealthCheck_TransportSocketMatchCriteria_ChecksTlsEndpointOverTls()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: true);
        // The endpoint has no metadata (plain text for requests); the criteria pick the TLS match for the checks.
        var cluster = $"""
            {MtlsMatch}
            health_checks:
            {ListenerYaml.Indent(ListenerYaml.Dedent(Check(extra: "      transport_socket_match_criteria: { mode: mtls }")), 0)}
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), cluster));

        await WaitUntilAsync(() => Task.FromResult(upstream.HealthChecks > 0), "a TLS health check arrives");
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");
        Assert.True(await gateway.StatAsync(Ssl + "handshake") >= 1);
    }

    [Theory]
    [InlineData("ca.pem", "healthy")]
    [InlineData("other-ca.pem", "/failed_active_hc")]
    public async Task TcpHealthCheck_ConnectOnlyOverTls_HealthyOnlyWhenTheHandshakeSucceeds(string ca, string flags)
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var check = """
            health_checks:
            - timeout: 1s
              interval: 0.1s
              no_traffic_interval: 0.1s
              unhealthy_threshold: 1
              healthy_threshold: 1
              tcp_health_check: {}
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(ca), clientCertificate: false)) + "\n" + check));

        await WaitForFlagsAsync(gateway, upstream.Port, flags);
        Assert.True(await gateway.StatAsync(Ssl + (flags == "healthy" ? "handshake" : "fail_verify_error")) >= 1);
    }

    [Fact]
    public async Task HealthCheck_ClusterTransportSocket_MarksTlsEndpointHealthy()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: true, healthStatus: 503);
        var cluster = TlsCluster(Context(TrustedCa())) + "\nhealth_checks:\n" + ListenerYaml.Dedent(Check());
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), cluster));

        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");
        upstream.HealthStatus = 200;
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");
        Assert.True(await gateway.StatAsync(Ssl + "handshake") >= 1);
    }
}

/// <summary>
/// A Kestrel HTTPS upstream on 127.0.0.1 serving <c>server.pem</c> (SANs localhost, 127.0.0.1), optionally requiring a
/// client certificate; it answers <c>client=&lt;subject&gt;;sni=&lt;server name&gt;</c> with the connection's id in
/// <c>x-connection-id</c>, and records the SNI of every handshake.
/// <c>/healthz</c> answers <see cref="HealthStatus"/>.
/// </summary>
internal sealed class TlsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _healthChecks;

    private TlsUpstream(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public ConcurrentQueue<string> ServerNames { get; } = new();

    public int Requests => Volatile.Read(ref _requests);

    public int HealthChecks => Volatile.Read(ref _healthChecks);

    public int HealthStatus { get; set; } = 200;

    public static async Task<TlsUpstream> StartAsync(bool requireClientCertificate, int healthStatus = 200, SslProtocols protocols = SslProtocols.None)
    {
        var certificate = TestCertificates.Shared.Client("server");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        TlsUpstream? upstream = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = context =>
            {
                upstream!.ServerNames.Enqueue(context.ClientHelloInfo.ServerName);
                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    EnabledSslProtocols = protocols,
                    ClientCertificateRequired = requireClientCertificate,
                    RemoteCertificateValidationCallback = (_, presented, _, _) => !requireClientCertificate || presented is not null,
                });
            },
        })));
        var app = builder.Build();
        upstream = new TlsUpstream(app) { HealthStatus = healthStatus };
        app.Run(async context =>
        {
            if (context.Request.Path == "/healthz")
            {
                Interlocked.Increment(ref upstream._healthChecks);
                context.Response.StatusCode = upstream.HealthStatus;
                return;
            }
            Interlocked.Increment(ref upstream._requests);
            var client = context.Connection.ClientCertificate?.Subject ?? "none";
            var sni = context.Features.Get<ITlsHandshakeFeature>()?.HostName ?? string.Empty;
            // Which connection carried the request (auto_sni pools connections per host).
            context.Response.Headers["x-connection-id"] = context.Connection.Id;
            await context.Response.WriteAsync($"client={client};sni={sni}");
        });
        await app.StartAsync();
        upstream.Port = new Uri(app.Urls.First()).Port;
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
