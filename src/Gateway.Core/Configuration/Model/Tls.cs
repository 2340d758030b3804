namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.TransportSocket</c>: what runs between the socket and the network filters (TLS).</summary>
[EnvoyType("envoy.config.core.v3.TransportSocket")]
public sealed class TransportSocket : EnvoyMessage
{
    /// <summary>The transport socket's name, e.g. <c>envoy.transport_sockets.tls</c>.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Its configuration, typed by <c>@type</c>.</summary>
    [ProtoField(3, InOneOf = true)]
    [AnyField(EnvoyTypeCategory.TransportSocket)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext</c>: TLS termination on a listener's filter chain.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", NotSupported =
[
    "session_ticket_keys_sds_secret_config",
])]
public sealed class DownstreamTlsContext : EnvoyMessage
{
    /// <summary>Certificates, versions, ALPN and peer validation.</summary>
    [ProtoField(1)]
    public CommonTlsContext? CommonTlsContext { get; set; }

    /// <summary>Reject connections without a valid client certificate (default false).</summary>
    [ProtoField(2)]
    public bool? RequireClientCertificate { get; set; }

    /// <summary>Reject a handshake whose SNI is absent or names none of the certificates (default false; Envoy leaves it unimplemented).</summary>
    [ProtoField(3)]
    public bool? RequireSni { get; set; }

    /// <summary>On an SNI that names no certificate, scan them all for one the client supports (default false).</summary>
    [ProtoField(9)]
    public bool? FullScanCertsOnSniMismatch { get; set; }

    /// <summary>Session ticket keys; refused at validation (.NET's SslStream makes its own).</summary>
    [ProtoField(4)]
    public TlsSessionTicketKeys? SessionTicketKeys { get; set; }

    /// <summary>Session lifetime; refused at validation (.NET's SslStream cannot be given one).</summary>
    [ProtoField(6)]
    public TimeSpan? SessionTimeout { get; set; }

    /// <summary>No session tickets (with <see cref="DisableStatefulSessionResumption"/>: no resumption at all).</summary>
    [ProtoField(7)]
    public bool DisableStatelessSessionResumption { get; set; }

    /// <summary>What a missing or invalid OCSP staple does; only the default (<c>LENIENT_STAPLING</c>) is accepted.</summary>
    [ProtoField(8)]
    public OcspStaplePolicy OcspStaplePolicy { get; set; }

    /// <summary>No session-id resumption (with <see cref="DisableStatelessSessionResumption"/>: no resumption at all).</summary>
    [ProtoField(10)]
    public bool DisableStatefulSessionResumption { get; set; }

    /// <summary>Follow the client's cipher preference; only false (the server's order) is accepted.</summary>
    [ProtoField(11)]
    public bool PreferClientCiphers { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys</c> (bound to be refused with a reason).</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.TlsSessionTicketKeys")]
public sealed class TlsSessionTicketKeys : EnvoyMessage
{
    /// <summary>The 80-byte keys.</summary>
    [ProtoField(1)]
    public List<DataSource> Keys { get; set; } = [];
}

/// <summary><c>DownstreamTlsContext.OcspStaplePolicy</c>.</summary>
public enum OcspStaplePolicy
{
    /// <summary>Staple when a valid response is configured, else go on without (the default).</summary>
    LenientStapling = 0,

    /// <summary>Refuse a connection whose staple expired.</summary>
    StrictStapling = 1,

    /// <summary>Every certificate must have a valid staple.</summary>
    MustStaple = 2,
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.CommonTlsContext</c>.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.CommonTlsContext", NotSupported =
[
    "tls_certificate_provider_instance", "custom_tls_certificate_selector",
    "tls_certificate_certificate_provider", "tls_certificate_certificate_provider_instance",
    "validation_context_certificate_provider", "validation_context_certificate_provider_instance",
    "custom_handshaker", "key_log",
])]
public sealed class CommonTlsContext : EnvoyMessage
{
    /// <summary>Protocol versions and cipher suites.</summary>
    [ProtoField(1)]
    public TlsParameters? TlsParams { get; set; }

    /// <summary>The certificates served (one is supported: several need selection by SNI and key type).</summary>
    [ProtoField(2)]
    public List<TlsCertificate> TlsCertificates { get; set; } = [];

    /// <summary>How a peer certificate is verified.</summary>
    [ProtoField(3, InOneOf = true)]
    public CertificateValidationContext? ValidationContext { get; set; }

    /// <summary>The ALPN protocols offered, in preference order; none: no ALPN is negotiated.</summary>
    [ProtoField(4)]
    public List<string> AlpnProtocols { get; set; } = [];

    /// <summary>Certificates by secret name (static <c>secrets</c>), after those of <see cref="TlsCertificates"/>.</summary>
    [ProtoField(6)]
    public List<SdsSecretConfig> TlsCertificateSdsSecretConfigs { get; set; } = [];

    /// <summary>The validation context by secret name (a static <c>secrets</c> entry, or file-based SDS), instead of <see cref="ValidationContext"/>.</summary>
    [ProtoField(7, InOneOf = true)]
    public SdsSecretConfig? ValidationContextSdsSecretConfig { get; set; }

    /// <summary>A default validation context with the secret's merged over it (Envoy's MergeFrom), re-merged on each SDS update.</summary>
    [ProtoField(8, InOneOf = true)]
    public CombinedCertificateValidationContext? CombinedValidationContext { get; set; }
}

/// <summary>
/// <c>envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext</c>: Istio's shape,
/// SAN matchers in the default and the CAs (<c>ROOTCA</c>) from SDS.
/// </summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext", NotSupported =
[
    "validation_context_certificate_provider", "validation_context_certificate_provider_instance",
])]
public sealed class CombinedCertificateValidationContext : EnvoyMessage
{
    /// <summary>The fields the secret's are merged over (required).</summary>
    [ProtoField(1)]
    public CertificateValidationContext? DefaultValidationContext { get; set; }

    /// <summary>The secret: static by name, or file-based SDS (required).</summary>
    [ProtoField(2)]
    public SdsSecretConfig? ValidationContextSdsSecretConfig { get; set; }
}

/// <summary>
/// <c>envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig</c>: a secret by name. Without <c>sds_config</c> it is a
/// <c>static_resources.secrets</c> entry; with a file <c>sds_config</c> it is read from that file and reloaded when the
/// file is replaced (gRPC SDS comes with xDS).
/// </summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig")]
public sealed class SdsSecretConfig : EnvoyMessage
{
    /// <summary>The secret's name.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Where the secret comes from; absent: the static secret of that name.</summary>
    [ProtoField(2)]
    public EnvoyConfigSource? SdsConfig { get; set; }
}

/// <summary>
/// <c>envoy.config.core.v3.ConfigSource</c> (named so beside the loader's <see cref="ConfigSource"/>): only the file
/// sources, <c>path</c> and <c>path_config_source</c>, for now.
/// </summary>
[EnvoyType("envoy.config.core.v3.ConfigSource", NotSupported = ["authorities", "self"])]
public sealed class EnvoyConfigSource : EnvoyMessage
{
    /// <summary>A gRPC stream of this resource type alone to a management server (<c>GRPC</c>, <c>DELTA_GRPC</c>).</summary>
    [ProtoField(2, InOneOf = true)]
    public ApiConfigSource? ApiConfigSource { get; set; }

    /// <summary>The bootstrap's <c>ads_config</c> stream.</summary>
    [ProtoField(3, InOneOf = true)]
    public AggregatedConfigSource? Ads { get; set; }

    /// <summary>How long initialization waits for the first response (default 15s; 0 waits for ever).</summary>
    [ProtoField(4)]
    public TimeSpan? InitialFetchTimeout { get; set; }

    /// <summary>Deprecated: the file to read and watch (for moves into place).</summary>
    [ProtoField(1, InOneOf = true)]
    public string? Path { get; set; }

    /// <summary>The file to read and watch, and optionally the directory whose moves trigger a reload.</summary>
    [ProtoField(8, InOneOf = true)]
    public PathConfigSource? PathConfigSource { get; set; }

    /// <summary>The xDS API version (AUTO and V3 are the same here; V2 is refused as Envoy does).</summary>
    [ProtoField(6)]
    public ApiVersion ResourceApiVersion { get; set; }
}

/// <summary><c>envoy.config.core.v3.ApiVersion</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum ApiVersion
{
    /// <summary>V3 since v2 was removed.</summary>
    AUTO = 0,

    /// <summary>Removed from Envoy: refused.</summary>
    V2 = 1,

    /// <summary>The xDS v3 API.</summary>
    V3 = 2,
}

/// <summary><c>envoy.config.core.v3.AggregatedConfigSource</c>: "use the ADS stream" (no fields).</summary>
[EnvoyType("envoy.config.core.v3.AggregatedConfigSource")]
public sealed class AggregatedConfigSource : EnvoyMessage;

/// <summary><c>envoy.config.core.v3.ApiConfigSource</c>: a management server reached over gRPC.</summary>
[EnvoyType("envoy.config.core.v3.ApiConfigSource", NotSupported = ["refresh_delay", "request_timeout", "config_validators"])]
public sealed class ApiConfigSource : EnvoyMessage
{
    /// <summary>The protocol: state of the world or incremental, on a stream of its own or aggregated.</summary>
    [ProtoField(1)]
    public ApiType ApiType { get; set; }

    /// <summary>The xDS transport version (V3).</summary>
    [ProtoField(8)]
    public ApiVersion TransportApiVersion { get; set; }

    /// <summary>For REST only: must be empty for gRPC.</summary>
    [ProtoField(2)]
    public List<string> ClusterNames { get; set; } = [];

    /// <summary>The management server (exactly one).</summary>
    [ProtoField(4)]
    public List<GrpcService> GrpcServices { get; set; } = [];

    /// <summary>Limits the requests sent to the management server (a token bucket); unset: no limit.</summary>
    [ProtoField(6)]
    public RateLimitSettings? RateLimitSettings { get; set; }

    /// <summary>Send the node only on the first request of a stream.</summary>
    [ProtoField(7)]
    public bool SetNodeOnFirstMessageOnly { get; set; }
}

/// <summary><c>envoy.config.core.v3.ApiConfigSource.ApiType</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum ApiType
{
    /// <summary>Removed from Envoy: refused.</summary>
    DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE = 0,

    /// <summary>REST polling: not supported.</summary>
    REST = 1,

    /// <summary>State-of-the-world gRPC.</summary>
    GRPC = 2,

    /// <summary>Incremental gRPC.</summary>
    DELTA_GRPC = 3,

    /// <summary>State-of-the-world ADS.</summary>
    AGGREGATED_GRPC = 5,

    /// <summary>Incremental ADS.</summary>
    AGGREGATED_DELTA_GRPC = 6,
}

/// <summary><c>envoy.config.core.v3.RateLimitSettings</c>: a token bucket on discovery requests.</summary>
[EnvoyType("envoy.config.core.v3.RateLimitSettings")]
public sealed class RateLimitSettings : EnvoyMessage
{
    /// <summary>The bucket's size (default 100).</summary>
    [ProtoField(1)]
    public uint? MaxTokens { get; set; }

    /// <summary>Tokens added per second (default 10).</summary>
    [ProtoField(2)]
    public double? FillRate { get; set; }
}

/// <summary><c>envoy.config.core.v3.PathConfigSource</c>.</summary>
[EnvoyType("envoy.config.core.v3.PathConfigSource")]
public sealed class PathConfigSource : EnvoyMessage
{
    /// <summary>The file holding a DiscoveryResponse.</summary>
    [ProtoField(1)]
    public string? Path { get; set; }

    /// <summary>When set, any move into this directory reloads the file (Kubernetes' atomic symlink swap).</summary>
    [ProtoField(2)]
    public WatchedDirectory? WatchedDirectory { get; set; }
}

/// <summary><c>envoy.config.core.v3.WatchedDirectory</c>.</summary>
[EnvoyType("envoy.config.core.v3.WatchedDirectory")]
public sealed class WatchedDirectory : EnvoyMessage
{
    /// <summary>The directory.</summary>
    [ProtoField(1)]
    public string? Path { get; set; }
}

/// <summary><c>envoy.service.discovery.v3.DiscoveryResponse</c>: the content of a file-based subscription.</summary>
[EnvoyType("envoy.service.discovery.v3.DiscoveryResponse", NotSupported = ["canary", "control_plane", "resource_errors"])]
public sealed class DiscoveryResponse : EnvoyMessage
{
    /// <summary>The version of the resources.</summary>
    [ProtoField(1)]
    public string? VersionInfo { get; set; }

    /// <summary>The resources (here: Secrets).</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.DiscoveryResource)]
    public List<EnvoyMessage> Resources { get; set; } = [];

    /// <summary>The resources' type URL.</summary>
    [ProtoField(4)]
    public string? TypeUrl { get; set; }

    /// <summary>The response's nonce (meaningless for a file).</summary>
    [ProtoField(5)]
    public string? Nonce { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.Secret</c>: a named certificate or validation context.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.Secret", NotSupported = ["session_ticket_keys", "generic_secret"])]
public sealed class Secret : EnvoyMessage
{
    /// <summary>The name contexts refer to it by.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>A certificate chain and its key.</summary>
    [ProtoField(2, InOneOf = true)]
    public TlsCertificate? TlsCertificate { get; set; }

    /// <summary>How peer certificates are verified.</summary>
    [ProtoField(4, InOneOf = true)]
    public CertificateValidationContext? ValidationContext { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.TlsParameters</c>.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.TlsParameters", NotSupported = ["signature_algorithms", "compliance_policies"])]
public sealed class TlsParameters : EnvoyMessage
{
    /// <summary>Lowest version accepted (TLS_AUTO: TLSv1_2).</summary>
    [ProtoField(1)]
    public TlsProtocol TlsMinimumProtocolVersion { get; set; }

    /// <summary>Highest version accepted (TLS_AUTO: TLSv1_3 for a server).</summary>
    [ProtoField(2)]
    public TlsProtocol TlsMaximumProtocolVersion { get; set; }

    /// <summary>TLS 1.0-1.2 cipher suites in OpenSSL names, in preference order (no effect on TLS 1.3).</summary>
    [ProtoField(3)]
    public List<string> CipherSuites { get; set; } = [];

    /// <summary>ECDH curves; refused when set, as .NET's SslStream cannot restrict them.</summary>
    [ProtoField(4)]
    public List<string> EcdhCurves { get; set; } = [];
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum TlsProtocol
{
    /// <summary>Envoy's default for the position (min 1.2, max 1.3 on a server).</summary>
    TLS_AUTO = 0,

    /// <summary>TLS 1.0.</summary>
    TLSv1_0 = 1,

    /// <summary>TLS 1.1.</summary>
    TLSv1_1 = 2,

    /// <summary>TLS 1.2.</summary>
    TLSv1_2 = 3,

    /// <summary>TLS 1.3.</summary>
    TLSv1_3 = 4,
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.TlsCertificate</c>: a certificate chain and its private key.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.TlsCertificate", NotSupported =
[
    "password", "ocsp_staple", "signed_certificate_timestamp", "private_key_provider", "watched_directory", "pkcs12",
])]
public sealed class TlsCertificate : EnvoyMessage
{
    /// <summary>PEM: the leaf first, then its intermediates.</summary>
    [ProtoField(1)]
    public DataSource? CertificateChain { get; set; }

    /// <summary>PEM private key of the leaf.</summary>
    [ProtoField(2)]
    [ProtoSensitive]
    public DataSource? PrivateKey { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext</c>.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext", NotSupported =
[
    "ca_certificate_provider_instance", "watched_directory",
    "match_subject_alt_names", "require_signed_certificate_timestamp", "custom_validator_config",
    "max_verify_depth", "system_root_certs",
])]
public sealed class CertificateValidationContext : EnvoyMessage
{
    /// <summary>PEM CA certificates a peer certificate must chain to; when absent a presented certificate is not verified.</summary>
    [ProtoField(1)]
    public DataSource? TrustedCa { get; set; }

    /// <summary>Hex SHA-256 digests (colons allowed) of accepted peer certificates; this or <see cref="VerifyCertificateSpki"/> must match.</summary>
    [ProtoField(2)]
    public List<string> VerifyCertificateHash { get; set; } = [];

    /// <summary>Base64 SHA-256 digests of accepted peer certificates' SubjectPublicKeyInfo.</summary>
    [ProtoField(3)]
    public List<string> VerifyCertificateSpki { get; set; } = [];

    /// <summary>PEM CRLs: a certificate of the peer's chain they revoke (or whose issuer has none) fails verification.</summary>
    [ProtoField(7)]
    public DataSource? Crl { get; set; }

    /// <summary>With <see cref="Crl"/>, check only the leaf (not the intermediates).</summary>
    [ProtoField(14)]
    public bool OnlyVerifyLeafCertCrl { get; set; }

    /// <summary>Accept expired (or not yet valid) certificates.</summary>
    [ProtoField(8)]
    public bool AllowExpiredCertificate { get; set; }

    /// <summary>Verify the chain, or accept an untrusted one.</summary>
    [ProtoField(10)]
    public TrustChainVerification TrustChainVerification { get; set; }

    /// <summary>The peer's certificate must have a SAN matching one of these (any).</summary>
    [ProtoField(15)]
    public List<SubjectAltNameMatcher> MatchTypedSubjectAltNames { get; set; } = [];
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.TrustChainVerification</c>.</summary>
public enum TrustChainVerification
{
    /// <summary>Verify against <c>trusted_ca</c>.</summary>
    VerifyTrustChain = 0,

    /// <summary>Accept a certificate whose chain does not verify.</summary>
    AcceptUntrusted = 1,
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher</c>.</summary>
[EnvoyType("envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher", NotSupported = ["oid"])]
public sealed class SubjectAltNameMatcher : EnvoyMessage
{
    /// <summary>Which kind of SAN is compared.</summary>
    [ProtoField(1)]
    public SanType SanType { get; set; }

    /// <summary>The comparison.</summary>
    [ProtoField(2)]
    public StringMatcher? Matcher { get; set; }
}

/// <summary><c>envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum SanType
{
    /// <summary>Invalid.</summary>
    SAN_TYPE_UNSPECIFIED = 0,

    /// <summary>rfc822Name.</summary>
    EMAIL = 1,

    /// <summary>dNSName.</summary>
    DNS = 2,

    /// <summary>uniformResourceIdentifier (SPIFFE ids).</summary>
    URI = 3,

    /// <summary>iPAddress.</summary>
    IP_ADDRESS = 4,

    /// <summary>otherName (needs <c>oid</c>, not supported).</summary>
    OTHER_NAME = 5,
}
