namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.HttpProtocolOptions</c>, the options common to HTTP/1 and HTTP/2 (named so here to keep it apart
/// from the upstream extension's <see cref="HttpProtocolOptions"/>). A cluster's are validated by the cluster validator
/// (what .NET's client cannot honour is refused there by its path), a connection manager's by its validator.
/// </summary>
[EnvoyType("envoy.config.core.v3.HttpProtocolOptions")]
public sealed class CommonHttpProtocolOptions : EnvoyMessage
{
    /// <summary>How long a connection may have no active request; default 1 h, zero disables it.</summary>
    [ProtoField(1)]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>The most headers a message may have (Envoy's default 100); at least 1.</summary>
    [ProtoField(2)]
    public uint? MaxHeadersCount { get; set; }

    /// <summary>How long a connection may live from its establishment; not set: no limit.</summary>
    [ProtoField(3)]
    public TimeSpan? MaxConnectionDuration { get; set; }

    /// <summary>How long a stream may live; not set: no limit.</summary>
    [ProtoField(4)]
    public TimeSpan? MaxStreamDuration { get; set; }

    /// <summary>What to do with request header names containing underscores (default ALLOW).</summary>
    [ProtoField(5)]
    public HeadersWithUnderscoresAction HeadersWithUnderscoresAction { get; set; }

    /// <summary>The most requests a connection may carry; not set: no limit.</summary>
    [ProtoField(6)]
    public uint? MaxRequestsPerConnection { get; set; }

    /// <summary>The largest response headers, in KiB (1–8192).</summary>
    [ProtoField(7)]
    public uint? MaxResponseHeadersKb { get; set; }
}

/// <summary><c>envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction</c>.</summary>
public enum HeadersWithUnderscoresAction
{
    /// <summary>Headers with underscores pass (the default).</summary>
    Allow = 0,

    /// <summary>The request is refused (400 over HTTP/1, a reset over HTTP/2).</summary>
    RejectRequest = 1,

    /// <summary>The header is dropped before the filters see it.</summary>
    DropHeader = 2,
}

/// <summary>
/// <c>envoy.config.core.v3.Http2ProtocolOptions</c>. Upstream, the cluster validator refuses the values .NET's HTTP/2 client
/// cannot honour (a limit below the peer's <c>max_concurrent_streams</c>, a fixed connection window, ...) by their path.
/// </summary>
[EnvoyType("envoy.config.core.v3.Http2ProtocolOptions", NotSupported =
[
    "allow_metadata", "max_outbound_frames", "max_outbound_control_frames",
    "max_consecutive_inbound_frames_with_empty_payload", "max_inbound_priority_frames_per_stream",
    "max_inbound_window_update_frames_per_data_frame_sent", "stream_error_on_invalid_http_messaging",
    "override_stream_error_on_invalid_http_message", "custom_settings_parameters", "use_oghttp2_codec",
    "max_metadata_size", "enable_huffman_encoding", "max_header_field_size_kb",
])]
public sealed class Http2ProtocolOptions : EnvoyMessage
{
    /// <summary>Envoy's default <c>hpack_table_size</c> (RFC 7541's).</summary>
    public const uint DefaultHpackTableSize = 4096;

    /// <summary>Envoy's default and largest <c>max_concurrent_streams</c>, and the largest window size (2^31 - 1).</summary>
    public const uint MaxValue = 2147483647;

    /// <summary>The smallest window size Envoy accepts (HTTP/2's initial window).</summary>
    public const uint MinWindowSize = 65535;

    /// <summary>The HPACK dynamic table size the peer's encoder may use (default 4096).</summary>
    [ProtoField(1)]
    public uint? HpackTableSize { get; set; }

    /// <summary>Concurrent streams per connection, 1 to 2^31 - 1 (default the maximum).</summary>
    [ProtoField(2)]
    public uint? MaxConcurrentStreams { get; set; }

    /// <summary>The initial stream flow-control window, 65535 to 2^31 - 1 (Envoy's default 256 MiB).</summary>
    [ProtoField(3)]
    public uint? InitialStreamWindowSize { get; set; }

    /// <summary>The initial connection flow-control window, 65535 to 2^31 - 1.</summary>
    [ProtoField(4)]
    public uint? InitialConnectionWindowSize { get; set; }

    /// <summary>RFC 8441 extended CONNECT (WebSocket over HTTP/2) is allowed (default false).</summary>
    [ProtoField(5)]
    public bool? AllowConnect { get; set; }

    /// <summary>PING frames that prove the connection alive.</summary>
    [ProtoField(15)]
    public KeepaliveSettings? ConnectionKeepalive { get; set; }
}

/// <summary><c>envoy.config.core.v3.KeepaliveSettings</c>: HTTP/2 PINGs every <c>interval</c>, the connection closed when one is not answered within <c>timeout</c>.</summary>
[EnvoyType("envoy.config.core.v3.KeepaliveSettings", NotSupported = ["interval_jitter", "connection_idle_interval"])]
public sealed class KeepaliveSettings : EnvoyMessage
{
    /// <summary>How often a PING is sent (at least 1 ms).</summary>
    [ProtoField(1)]
    public TimeSpan? Interval { get; set; }

    /// <summary>How long a PING may go unanswered (at least 1 ms; required).</summary>
    [ProtoField(2)]
    public TimeSpan? Timeout { get; set; }
}
