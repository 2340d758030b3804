namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>, the cluster's
/// <c>typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]</c>. Only HTTP/1.1
/// upstreams and <c>upstream_http_protocol_options</c> (auto_sni) are implemented; HTTP/2 upstreams are issue 14.
/// </summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", NotSupported =
[
    "common_http_protocol_options", "use_downstream_protocol_config", "auto_config", "http_filters",
    "header_validation_config", "outlier_detection",
])]
public sealed class HttpProtocolOptions : EnvoyMessage
{
    /// <summary>Envoy's key of these options in <c>typed_extension_protocol_options</c>.</summary>
    public const string ExtensionName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /// <summary><c>auto_sni</c> and <c>auto_san_validation</c>.</summary>
    [ProtoField(2)]
    public UpstreamHttpProtocolOptions? UpstreamHttpProtocolOptions { get; set; }

    /// <summary>The upstream protocol, stated (the one-of Envoy requires; only <c>http_protocol_options</c>, HTTP/1.1).</summary>
    [ProtoField(3, InOneOf = true)]
    public ExplicitHttpConfig? ExplicitHttpConfig { get; set; }
}

/// <summary><c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig</c>.</summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig", NotSupported = ["http2_protocol_options", "http3_protocol_options"])]
public sealed class ExplicitHttpConfig : EnvoyMessage
{
    /// <summary>HTTP/1.1 to the upstream (what this gateway speaks).</summary>
    [ProtoField(1, InOneOf = true)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }
}

/// <summary><c>envoy.config.core.v3.Http1ProtocolOptions</c>; none of its settings is implemented (an empty message only).</summary>
[EnvoyType("envoy.config.core.v3.Http1ProtocolOptions", NotSupported =
[
    "allow_absolute_url", "accept_http_10", "default_host_for_http_10", "header_key_format", "enable_trailers",
    "allow_chunked_length", "override_stream_error_on_invalid_http_message", "send_fully_qualified_url",
    "use_balsa_parser", "allow_custom_methods", "ignore_http_11_upgrade",
])]
public sealed class Http1ProtocolOptions : EnvoyMessage;
