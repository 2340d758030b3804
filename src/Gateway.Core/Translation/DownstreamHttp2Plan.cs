using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>
/// A connection manager's downstream <c>http2_protocol_options</c> as Kestrel takes them: its HTTP/2 limits are
/// server-wide, so validation made every connection manager agree; unset fields are Envoy's defaults (since 1.36:
/// 1024 streams, 16 MiB stream and 24 MiB connection windows; HPACK's 4096; no keepalive).
/// </summary>
/// <param name="MaxConcurrentStreams">SETTINGS_MAX_CONCURRENT_STREAMS (Kestrel's MaxStreamsPerConnection).</param>
/// <param name="InitialStreamWindowSize">The stream receive window (Kestrel's InitialStreamWindowSize).</param>
/// <param name="InitialConnectionWindowSize">The connection receive window (Kestrel's InitialConnectionWindowSize).</param>
/// <param name="HpackTableSize">SETTINGS_HEADER_TABLE_SIZE (Kestrel's HeaderTableSize).</param>
/// <param name="KeepaliveInterval"><c>connection_keepalive.interval</c> (Kestrel's KeepAlivePingDelay); null: no PINGs.</param>
/// <param name="KeepaliveTimeout"><c>connection_keepalive.timeout</c> (Kestrel's KeepAlivePingTimeout).</param>
public sealed record DownstreamHttp2Plan(int MaxConcurrentStreams, int InitialStreamWindowSize, int InitialConnectionWindowSize, int HpackTableSize, TimeSpan? KeepaliveInterval, TimeSpan? KeepaliveTimeout)
{
    /// <summary>Envoy's defaults.</summary>
    public static readonly DownstreamHttp2Plan Default = new(1024, 16 * 1024 * 1024, 24 * 1024 * 1024, (int)Http2ProtocolOptions.DefaultHpackTableSize, null, null);

    /// <summary>The plan of <paramref name="options"/> (validated), or <see cref="Default"/>.</summary>
    public static DownstreamHttp2Plan From(Http2ProtocolOptions? options)
        => options is null ? Default : new(
            (int)(options.MaxConcurrentStreams ?? (uint)Default.MaxConcurrentStreams),
            (int)(options.InitialStreamWindowSize ?? (uint)Default.InitialStreamWindowSize),
            (int)(options.InitialConnectionWindowSize ?? (uint)Default.InitialConnectionWindowSize),
            (int)(options.HpackTableSize ?? Http2ProtocolOptions.DefaultHpackTableSize),
            options.ConnectionKeepalive?.Interval,
            options.ConnectionKeepalive?.Timeout);
}
