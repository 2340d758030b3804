using System.Net.Security;
using System.Security.Authentication;
using System.Text;

namespace Gateway.Tls;

/// <summary><c>set_current_client_cert_details</c>: what of the client certificate the connection manager adds to <c>x-forwarded-client-cert</c>.</summary>
[Flags]
internal enum ClientCertDetails
{
    None = 0,
    Subject = 1,
    Cert = 2,
    Chain = 4,
    Dns = 8,
    Uri = 16,
}

/// <summary>Translation of <c>set_current_client_cert_details</c>.</summary>
internal static class ClientCertDetailsPlan
{
    public static ClientCertDetails From(Gateway.Configuration.SetCurrentClientCertDetails? details)
    {
        if (details is null)
        {
            return ClientCertDetails.None;
        }
        var flags = ClientCertDetails.None;
        flags |= details.Subject == true ? ClientCertDetails.Subject : 0;
        flags |= details.Cert ? ClientCertDetails.Cert : 0;
        flags |= details.Chain ? ClientCertDetails.Chain : 0;
        flags |= details.Dns ? ClientCertDetails.Dns : 0;
        flags |= details.Uri ? ClientCertDetails.Uri : 0;
        return flags;
    }
}

/// <summary>
/// One TLS downstream connection's facts after its handshake (Envoy's Ssl::ConnectionInfo): version, cipher, the peer's
/// certificate and chain and the local certificate. A connection feature: the connection manager's
/// <c>x-forwarded-client-cert</c> and the <c>%DOWNSTREAM_PEER_*%</c> / <c>%DOWNSTREAM_TLS_*%</c> operators read it.
/// </summary>
internal sealed class DownstreamTlsInfo(SslProtocols protocol, TlsCipherSuite? cipher, CertificateFacts? peer, CertificateFacts? local)
{
    private XfccCache? _xfcc;

    /// <summary>The negotiated version as Envoy prints it (<c>TLSv1.3</c>).</summary>
    public string Version { get; } = DownstreamTlsVersions.StatName(protocol);

    /// <summary>The negotiated suite's OpenSSL name, or null when unknown.</summary>
    public string? Cipher { get; } = cipher is { } suite ? TlsCipherNames.NameOf(suite) : null;

    /// <summary>The client certificate, or null when none was presented.</summary>
    public CertificateFacts? Peer { get; } = peer;

    /// <summary>The certificate the gateway served.</summary>
    public CertificateFacts? Local { get; } = local;

    /// <summary>
    /// This connection's own <c>x-forwarded-client-cert</c> element (Envoy's mutateXfccRequestHeader for APPEND_FORWARD and
    /// SANITIZE_SET): <c>By</c> for each local URI SAN, <c>Hash</c>, then the details in Envoy's order (Cert, Chain,
    /// Subject, URI, DNS), joined by <c>;</c>. Built once per connection and kept (keyed by the details asked for).
    /// </summary>
    public string ClientCertElement(ClientCertDetails details)
    {
        if (_xfcc is { } cached && cached.Details == details)
        {
            return cached.Value;
        }
        var value = BuildElement(details);
        _xfcc = new XfccCache(details, value);
        return value;
    }

    private string BuildElement(ClientCertDetails details)
    {
        var builder = new StringBuilder();
        void Part(string text)
        {
            if (builder.Length > 0)
            {
                builder.Append(';');
            }
            builder.Append(text);
        }
        if (Local is { } local)
        {
            foreach (var uri in local.UriSans)
            {
                Part("By=" + uri);
            }
        }
        if (Peer is not { } peer)
        {
            return builder.ToString();
        }
        Part("Hash=" + peer.Sha256);
        if ((details & ClientCertDetails.Cert) != 0)
        {
            Part("Cert=\"" + peer.UrlEncodedPem + "\"");
        }
        if ((details & ClientCertDetails.Chain) != 0)
        {
            Part("Chain=\"" + peer.UrlEncodedPemChain + "\"");
        }
        if ((details & ClientCertDetails.Subject) != 0)
        {
            // The key is there even when the subject is empty.
            Part("Subject=\"" + peer.Subject + "\"");
        }
        if ((details & ClientCertDetails.Uri) != 0)
        {
            if (peer.UriSans.Length == 0)
            {
                Part("URI=");
            }
            foreach (var uri in peer.UriSans)
            {
                Part("URI=" + uri);
            }
        }
        if ((details & ClientCertDetails.Dns) != 0)
        {
            foreach (var dns in peer.DnsSans)
            {
                Part("DNS=" + dns);
            }
        }
        return builder.ToString();
    }

    private sealed record XfccCache(ClientCertDetails Details, string Value);
}
