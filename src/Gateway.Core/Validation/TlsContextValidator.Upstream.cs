using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// A cluster's <c>transport_socket</c> (or a <c>transport_socket_matches</c> entry's): an <c>UpstreamTlsContext</c> whose
/// client certificate and CAs are loaded now, or <c>raw_buffer</c> (plain text).
/// </summary>
internal sealed partial class TlsContextValidator
{
    /// <summary>Envoy's name of the plain-text transport socket.</summary>
    public const string RawBufferTransportSocketName = "envoy.transport_sockets.raw_buffer";

    private const string UpstreamTlsContextName = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

    public void ValidateUpstream(TransportSocket socket)
    {
        if (string.IsNullOrEmpty(socket.Name) && !socket.HasBindingError("name"))
        {
            context.Error(socket, "name", "Proto constraint validation failed (TransportSocketValidationError.Name: value length must be at least 1 characters)");
        }
        switch (socket.TypedConfig)
        {
            case UpstreamTlsContext tls:
                ValidateUpstreamContext(tls);
                break;
            case RawBuffer:
            case null when socket.HasBindingError("typed_config") || string.IsNullOrEmpty(socket.Name):
            case null when string.Equals(socket.Name, RawBufferTransportSocketName, StringComparison.Ordinal):
                break;
            case null when string.Equals(socket.Name, TlsTransportSocketName, StringComparison.Ordinal):
                context.Error(socket, "name", $"'{TlsTransportSocketName}' needs a typed_config with \"@type\": type.googleapis.com/{UpstreamTlsContextName}");
                break;
            case null:
                context.Error(socket, "name", $"transport socket '{socket.Name}' is not supported by this gateway; only {TlsTransportSocketName} (UpstreamTlsContext) and {RawBufferTransportSocketName} are");
                break;
            default:
                // Envoy's factory unpacks the Any as its own type (a DownstreamTlsContext on a cluster fails here).
                context.Error(socket, "typed_config", $"Unable to unpack as {UpstreamTlsContextName}: [type.googleapis.com/{BootstrapValidator.MessageSchemaName(socket.TypedConfig)}]");
                break;
        }
    }

    private void ValidateUpstreamContext(UpstreamTlsContext tls)
    {
        if (tls.AllowRenegotiation)
        {
            context.Error(tls, "allow_renegotiation", "allow_renegotiation cannot be honoured: .NET's SslStream does not accept a server's renegotiation as a client");
        }
        if (tls.EnforceRsaKeyUsage == true)
        {
            context.Error(tls, "enforce_rsa_key_usage", "enforce_rsa_key_usage cannot be honoured: .NET's TLS (OpenSSL) does not check an RSA server certificate's key usage against the cipher suite");
        }
        if (tls.Sni is { } sni && System.Text.Encoding.UTF8.GetByteCount(sni) > 255)
        {
            context.Error(tls, "sni", "Proto constraint validation failed (UpstreamTlsContextValidationError.Sni: value length must be at most 255 bytes)");
        }
        if (tls.CommonTlsContext is not { } common)
        {
            return;
        }
        ValidateSecretReferences(common, fileSds: false);
        if (context.Secrets.CertificatesOf(common).Count > 1)
        {
            context.Error(common, "tls_certificates", "Multiple TLS certificates are not supported for client contexts");
        }
        foreach (var certificate in common.TlsCertificates)
        {
            ValidateCertificate(certificate);
        }
        if (common.TlsParams is { } parameters)
        {
            ValidateParameters(parameters);
        }
        if (common.ValidationContext is { } validation)
        {
            ValidateValidationContext(validation);
        }
        foreach (var protocol in common.AlpnProtocols)
        {
            if (protocol.Length is 0 or > 255)
            {
                context.Error(common, "alpn_protocols", $"Invalid ALPN protocol string '{protocol}'");
            }
        }
    }
}
