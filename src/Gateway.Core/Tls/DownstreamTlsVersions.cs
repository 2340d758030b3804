using System.Security.Authentication;
using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>Envoy's server protocol versions (ServerContextConfigImpl: TLS_AUTO is 1.2 as a minimum, 1.3 as a maximum) as .NET's.</summary>
internal static class DownstreamTlsVersions
{
    public static TlsProtocol Minimum(TlsProtocol configured) => configured == TlsProtocol.TLS_AUTO ? TlsProtocol.TLSv1_2 : configured;

    public static TlsProtocol Maximum(TlsProtocol configured) => configured == TlsProtocol.TLS_AUTO ? TlsProtocol.TLSv1_3 : configured;

    /// <summary>The enum name as written in Envoy YAML.</summary>
    public static string Name(TlsProtocol version) => version.ToString();

    /// <summary>Every version from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static SslProtocols Range(TlsProtocol min, TlsProtocol max)
    {
        var protocols = SslProtocols.None;
        for (var version = min; version <= max; version++)
        {
#pragma warning disable SYSLIB0039, CA5397 // TLS 1.0 and 1.1 are what the configuration asks for.
            protocols |= version switch
            {
                TlsProtocol.TLSv1_0 => SslProtocols.Tls,
                TlsProtocol.TLSv1_1 => SslProtocols.Tls11,
                TlsProtocol.TLSv1_2 => SslProtocols.Tls12,
                _ => SslProtocols.Tls13,
            };
#pragma warning restore SYSLIB0039, CA5397
        }
        return protocols;
    }

    /// <summary>The negotiated version as Envoy's stat names it (SSL_get_version): <c>TLSv1.2</c>.</summary>
    public static string StatName(SslProtocols protocol) => protocol switch
    {
#pragma warning disable SYSLIB0039, CA5397
        SslProtocols.Tls => "TLSv1",
        SslProtocols.Tls11 => "TLSv1.1",
#pragma warning restore SYSLIB0039, CA5397
        SslProtocols.Tls12 => "TLSv1.2",
        SslProtocols.Tls13 => "TLSv1.3",
        _ => "unknown",
    };
}
