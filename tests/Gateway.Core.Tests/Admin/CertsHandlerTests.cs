using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Gateway.Tests.Admin;

/// <summary><c>/certs</c> and <c>server.days_until_first_cert_expiring</c> for the TLS contexts a configuration loads.</summary>
public sealed class CertsHandlerTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private static readonly string ListenerTls = $"""
        common_tls_context:
          tls_certificates:
          - certificate_chain: {"{"} filename: {Certs.PathOf("server.pem")} {"}"}
            private_key: {"{"} filename: {Certs.PathOf("server-key.pem")} {"}"}
          validation_context:
            trusted_ca: {"{"} filename: {Certs.PathOf("ca.pem")} {"}"}
        """;

    /// <summary>The serial as BN_bn2hex prints it, computed from the certificate's bytes (little-endian in .NET).</summary>
    private static string Serial(X509Certificate2 certificate)
    {
        var bytes = certificate.GetSerialNumber();
        Array.Reverse(bytes);
        var start = 0;
        while (start < bytes.Length - 1 && bytes[start] == 0)
        {
            start++;
        }
        return Convert.ToHexString(bytes, start, bytes.Length - start).ToLowerInvariant();
    }

    [Fact]
    public async Task Certs_TlsListener_ListsTheCaAndTheServedCertificateAsEnvoy()
    {
        var server = X509CertificateLoader.LoadCertificateFromFile(Certs.PathOf("server.pem"));
        // Ten days before the server certificate expires, plus a little: 10 whole days remain.
        var time = new FakeTimeProvider(new DateTimeOffset(server.NotAfter.ToUniversalTime(), TimeSpan.Zero).AddDays(-10).AddHours(-1));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, ListenerTls), services => services.AddSingleton<TimeProvider>(time));

        using var document = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));

        var context = Assert.Single(document.RootElement.GetProperty("certificates").EnumerateArray());
        var ca = Assert.Single(context.GetProperty("ca_cert").EnumerateArray());
        Assert.Equal(Certs.PathOf("ca.pem"), ca.GetProperty("path").GetString());
        Assert.Equal(Serial(Certs.Ca), ca.GetProperty("serial_number").GetString());
        Assert.Empty(ca.GetProperty("subject_alt_names").EnumerateArray());
        var leaf = Assert.Single(context.GetProperty("cert_chain").EnumerateArray());
        Assert.Equal(Certs.PathOf("server.pem"), leaf.GetProperty("path").GetString());
        Assert.Equal(Serial(server), leaf.GetProperty("serial_number").GetString());
        var names = leaf.GetProperty("subject_alt_names").EnumerateArray().Select(n => n.GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["{\"dns\":\"localhost\"}", "{\"ip_address\":\"127.0.0.1\"}"], names);
        // uint64 prints as a JSON string, timestamps as RFC 3339 in UTC.
        Assert.Equal("10", leaf.GetProperty("days_until_expiration").GetString());
        Assert.Equal(server.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), leaf.GetProperty("expiration_time").GetString());
        Assert.Equal(server.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), leaf.GetProperty("valid_from").GetString());
        // The server certificate expires before the CA: it is the first to.
        await gateway.AssertStatAsync("server.days_until_first_cert_expiring", 10);

        time.Advance(TimeSpan.FromDays(11));
        await gateway.AssertStatAsync("server.days_until_first_cert_expiring", 0);
    }

    [Fact]
    public async Task Certs_NoTls_EmptyListAndLargestDays()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Common.ListenerYaml.Build(upstream.Port, httpFilters: string.Empty));

        var body = await gateway.Client.GetStringAsync(gateway.AdminUri("/certs"));

        Assert.Equal("{\n \"certificates\": []\n}\n", body.Replace("\r\n", "\n", StringComparison.Ordinal));
        await gateway.AssertStatAsync("server.days_until_first_cert_expiring", uint.MaxValue);
    }
}
