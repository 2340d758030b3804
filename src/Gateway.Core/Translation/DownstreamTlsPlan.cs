using System.Net.Security;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Translation;

/// <summary>
/// A listener's TLS termination (<c>transport_socket</c> with a <c>DownstreamTlsContext</c>): the PEM material as read
/// when the configuration was applied, and the settings the runtime builds its <see cref="SslServerAuthenticationOptions"/> from.
/// </summary>
internal sealed record DownstreamTlsPlan(
    IReadOnlyList<TlsCertificatePlan> Certificates,
    CertificateValidationPlan Validation,
    SslProtocols Protocols,
    IReadOnlyList<TlsCipherSuite> CipherSuites,
    IReadOnlyList<SslApplicationProtocol> AlpnProtocols,
    bool RequireClientCertificate,
    bool RequireSni,
    bool FullScanCertsOnSniMismatch)
{
    /// <summary>TLS resumption (tickets and session ids) offered; false when both kinds are disabled.</summary>
    public bool AllowTlsResume { get; init; } = true;

    /// <summary>Translates a validated transport socket; null for plain text.</summary>
    public static DownstreamTlsPlan? Translate(TransportSocket? socket, HttpProtocols protocols, TlsSecrets secrets)
    {
        if (socket?.TypedConfig is not DownstreamTlsContext tls)
        {
            return null;
        }
        var common = tls.CommonTlsContext!;
        // Only what the connection manager's codec speaks is offered: another protocol would be negotiated and then fail.
        var alpn = new List<SslApplicationProtocol>();
        foreach (var protocol in common.AlpnProtocols)
        {
            if ((protocol == "h2" && protocols.HasFlag(HttpProtocols.Http2)) || (protocol == "http/1.1" && protocols.HasFlag(HttpProtocols.Http1)))
            {
                alpn.Add(new SslApplicationProtocol(protocol));
            }
        }
        var configured = secrets.CertificateSourcesOf(common);
        var certificates = new List<TlsCertificatePlan>(configured.Count);
        foreach (var (certificate, reference) in configured)
        {
            certificates.Add(TlsCertificatePlan.Translate(certificate, reference, secrets));
        }
        return new DownstreamTlsPlan(
            certificates,
            CertificateValidationPlan.Translate(common, secrets),
            TlsParametersTranslation.Protocols(common.TlsParams),
            TlsParametersTranslation.CipherSuites(common.TlsParams),
            alpn,
            tls.RequireClientCertificate ?? false,
            tls.RequireSni ?? false,
            tls.FullScanCertsOnSniMismatch ?? false)
        {
            // Validation accepts only both or neither: SslStream allows or disallows resumption as a whole.
            AllowTlsResume = !(tls.DisableStatelessSessionResumption && tls.DisableStatefulSessionResumption),
        };
    }

    /// <summary>
    /// The Kestrel protocols of a TLS listener: AUTO speaks HTTP/2 only when ALPN can select it (Envoy's HCM with AUTO and
    /// no ALPN negotiates HTTP/1.1); HTTP1 and HTTP2 are what they say.
    /// </summary>
    public static HttpProtocols ProtocolsFor(CodecType codec, TransportSocket socket)
    {
        if (codec == CodecType.Http2)
        {
            return HttpProtocols.Http2;
        }
        if (codec == CodecType.Http1)
        {
            return HttpProtocols.Http1;
        }
        var alpn = (socket.TypedConfig as DownstreamTlsContext)?.CommonTlsContext?.AlpnProtocols;
        return alpn is not null && alpn.Contains("h2") ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
    }
}
