namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>, the cluster's
/// <c>typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]</c>: the upstream
/// protocol (HTTP/1.1 or HTTP/2, stated, following the downstream's, or by ALPN), the options common to both, and
/// <c>upstream_http_protocol_options</c> (auto_sni). <c>Translation.UpstreamProtocolPlan</c> applies them.
/// </summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", NotSupported =
[
    "http_filters", "header_validation_config", "outlier_detection",
])]
public sealed class HttpProtocolOptions : EnvoyMessage
{
    /// <summary>Envoy's key of these options in <c>typed_extension_protocol_options</c>.</summary>
    public const string ExtensionName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /// <summary>Idle timeout, connection lifetime and the other options common to HTTP/1 and HTTP/2.</summary>
    [ProtoField(1)]
    public CommonHttpProtocolOptions? CommonHttpProtocolOptions { get; set; }

    /// <summary><c>auto_sni</c> and <c>auto_san_validation</c>.</summary>
    [ProtoField(2)]
    public UpstreamHttpProtocolOptions? UpstreamHttpProtocolOptions { get; set; }

    /// <summary>The upstream protocol, stated (one of the one-of Envoy requires).</summary>
    [ProtoField(3, InOneOf = true)]
    public ExplicitHttpConfig? ExplicitHttpConfig { get; set; }

    /// <summary>The downstream request's protocol: HTTP/2 for an HTTP/2 (or HTTP/3) request, else HTTP/1.1.</summary>
    [ProtoField(4, InOneOf = true)]
    public UseDownstreamHttpConfig? UseDownstreamProtocolConfig { get; set; }

    /// <summary>HTTP/2 or HTTP/1.1 as ALPN negotiates it (TLS only, as in Envoy).</summary>
    [ProtoField(5, InOneOf = true)]
    public AutoHttpConfig? AutoConfig { get; set; }
}

/// <summary><c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig</c>.</summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig", NotSupported = ["http3_protocol_options"])]
public sealed class UseDownstreamHttpConfig : EnvoyMessage
{
    /// <summary>The options of HTTP/1.1 requests.</summary>
    [ProtoField(1)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }

    /// <summary>The options of HTTP/2 requests.</summary>
    [ProtoField(2)]
    public Http2ProtocolOptions? Http2ProtocolOptions { get; set; }
}

/// <summary><c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig</c>.</summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig", NotSupported = ["http3_protocol_options", "alternate_protocols_cache_options"])]
public sealed class AutoHttpConfig : EnvoyMessage
{
    /// <summary>The options of connections that negotiated HTTP/1.1.</summary>
    [ProtoField(1)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }

    /// <summary>The options of connections that negotiated HTTP/2.</summary>
    [ProtoField(2)]
    public Http2ProtocolOptions? Http2ProtocolOptions { get; set; }
}

/// <summary><c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig</c>.</summary>
[EnvoyType("envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig", NotSupported = ["http3_protocol_options"])]
public sealed class ExplicitHttpConfig : EnvoyMessage
{
    /// <summary>HTTP/1.1 to the upstream.</summary>
    [ProtoField(1, InOneOf = true)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }

    /// <summary>HTTP/2 to the upstream: prior knowledge over plain text (h2c), ALPN <c>h2</c> over TLS.</summary>
    [ProtoField(2, InOneOf = true)]
    public Http2ProtocolOptions? Http2ProtocolOptions { get; set; }
}

/// <summary>
/// <c>envoy.config.core.v3.Http1ProtocolOptions</c>. On a connection manager: <c>accept_http_10</c>,
/// <c>default_host_for_http_10</c>, <c>allow_chunked_length</c> and <c>header_key_format.proper_case_words</c>; on a
/// cluster none of them yet (the upstream validator refuses them by path).
/// </summary>
[EnvoyType("envoy.config.core.v3.Http1ProtocolOptions", NotSupported =
[
    "allow_absolute_url", "enable_trailers", "override_stream_error_on_invalid_http_message", "send_fully_qualified_url",
    "use_balsa_parser", "allow_custom_methods", "ignore_http_11_upgrade",
])]
public sealed class Http1ProtocolOptions : EnvoyMessage
{
    /// <summary>HTTP/1.0 requests are served (Envoy answers them 426 otherwise).</summary>
    [ProtoField(2)]
    [EnvoyField("accept_http_10")]
    public bool AcceptHttp10 { get; set; }

    /// <summary>The Host given to an HTTP/1.0 request that has none (with <see cref="AcceptHttp10"/>).</summary>
    [ProtoField(3)]
    [EnvoyField("default_host_for_http_10")]
    public string? DefaultHostForHttp10 { get; set; }

    /// <summary>How header names are cased on the wire (Envoy lower-cases them otherwise).</summary>
    [ProtoField(4)]
    public HeaderKeyFormat? HeaderKeyFormat { get; set; }

    /// <summary>A request with both <c>content-length</c> and chunked <c>transfer-encoding</c> is taken as chunked (the length dropped) instead of refused.</summary>
    [ProtoField(6)]
    public bool AllowChunkedLength { get; set; }
}

/// <summary><c>envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat</c>; the one-of is required.</summary>
[EnvoyType("envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat", NotSupported = ["stateful_formatter"])]
public sealed class HeaderKeyFormat : EnvoyMessage
{
    /// <summary>Each word of a header name starts upper-case (<c>X-Request-Id</c>).</summary>
    [ProtoField(1, InOneOf = true)]
    public ProperCaseWords? ProperCaseWords { get; set; }
}

/// <summary><c>envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords</c> (no fields).</summary>
[EnvoyType("envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords")]
public sealed class ProperCaseWords : EnvoyMessage;
