using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext</c>: TLS (and mTLS) to a cluster's endpoints.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")]
public sealed class UpstreamTlsContext : EnvoyMessage
{
    /// <summary>The client certificate (at most one), versions, cipher suites, ALPN and the server certificate's validation.</summary>
    [ProtoField(1)]
    public CommonTlsContext? CommonTlsContext { get; set; }

    /// <summary>The SNI sent in the ClientHello; none when empty (unless <c>auto_sni</c> supplies one).</summary>
    [ProtoField(2)]
    public string? Sni { get; set; }

    /// <summary>Server-initiated renegotiation; true is refused (.NET's SslStream cannot renegotiate as a client).</summary>
    [ProtoField(3)]
    public bool AllowRenegotiation { get; set; }

    /// <summary>Session keys kept for resumption (default 1); 0 disables resumption.</summary>
    [ProtoField(4)]
    public uint? MaxSessionKeys { get; set; }

    /// <summary>Refuse an RSA server certificate whose key usage does not fit the cipher suite; false (the default) only, as .NET's OpenSSL does not check it.</summary>
    [ProtoField(5)]
    public bool? EnforceRsaKeyUsage { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.TransportSocketMatch</c>: the transport socket of the endpoints whose metadata matches.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.TransportSocketMatch")]
public sealed class TransportSocketMatch : EnvoyMessage
{
    /// <summary>The match's name (stats).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Key/values every one of which the endpoint's (or its locality's) <c>envoy.transport_socket_match</c> metadata must have; empty matches every endpoint.</summary>
    [ProtoField(2)]
    public JsonObject? Match { get; set; }

    /// <summary>The transport socket used for matching endpoints.</summary>
    [ProtoField(3)]
    public TransportSocket? TransportSocket { get; set; }
}

/// <summary><c>envoy.config.core.v3.UpstreamHttpProtocolOptions</c>.</summary>
[EnvoyType("envoy.config.core.v3.UpstreamHttpProtocolOptions", NotSupported = ["override_auto_sni_header"])]
public sealed class UpstreamHttpProtocolOptions : EnvoyMessage
{
    /// <summary>The SNI of a new upstream TLS connection is the request's <c>Host</c> (after host rewriting).</summary>
    [ProtoField(1)]
    public bool AutoSni { get; set; }

    /// <summary>The server certificate must have a DNS SAN matching that SNI (instead of the configured SAN matchers).</summary>
    [ProtoField(2)]
    public bool AutoSanValidation { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer</c> (no fields): plain text.</summary>
[EnvoyType("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer")]
public sealed class RawBuffer : EnvoyMessage;
