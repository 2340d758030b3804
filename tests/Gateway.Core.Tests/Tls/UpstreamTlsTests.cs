using System.Security.Authentication;
using Gateway.Tls;

namespace Gateway.Tests.Tls;

public class UpstreamTlsTests
{
    [Theory]
    // OpenSSL 3's SSL reasons share BoringSSL's numbers: Envoy's well-known texts come out.
    [InlineData("error:0A000412:SSL routines::sslv3 alert bad certificate", "TLS_error:|268436498:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE:TLS_error_end")]
    [InlineData("error:0A00042E:SSL routines::tlsv1 alert protocol version", "TLS_error:|268436526:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION:TLS_error_end")]
    [InlineData("Received an unexpected EOF or 0 bytes from the transport stream.", "TLS_error:|Received an unexpected EOF or 0 bytes from the transport stream.:TLS_error_end")]
    public void FailureReason_InnermostError_EnvoysFormat(string innermost, string expected)
    {
        var exception = new AuthenticationException("Authentication failed", new IOException("SSL Handshake failed", new InvalidOperationException(innermost)));

        Assert.Equal(expected, UpstreamTls.FailureReason(exception));
    }
}
