using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>Which HTTP version a cluster speaks to its hosts.</summary>
internal enum UpstreamProtocolMode
{
    /// <summary>HTTP/1.1 (Envoy's default).</summary>
    Http1,

    /// <summary>HTTP/2: prior knowledge over plain text (h2c), ALPN <c>h2</c> over TLS.</summary>
    Http2,

    /// <summary>The downstream request's: HTTP/2 for HTTP/2 and HTTP/3 requests, else HTTP/1.1 (<c>use_downstream_protocol_config</c>).</summary>
    Downstream,

    /// <summary>HTTP/2 or HTTP/1.1 as the TLS handshake's ALPN decides (<c>auto_config</c>).</summary>
    Alpn,
}

/// <summary>
/// A cluster's upstream protocol and its connection pool settings, from <c>typed_extension_protocol_options</c>'
/// <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>, else the deprecated cluster-level fields (Envoy's
/// createOptions: the typed options win, the deprecated ones are then ignored). Values the validator refused never get here.
/// </summary>
internal sealed record UpstreamProtocolPlan(UpstreamProtocolMode Mode)
{
    /// <summary>Envoy's default <c>idle_timeout</c> of upstream connections.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromHours(1);

    /// <summary>Envoy's default <c>max_response_headers_kb</c>.</summary>
    public const int DefaultMaxResponseHeadersKb = 60;

    /// <summary>HTTP/1.1 with Envoy's defaults.</summary>
    public static readonly UpstreamProtocolPlan Default = new(UpstreamProtocolMode.Http1);

    /// <summary>How long a pooled connection may be idle; <see cref="Timeout.InfiniteTimeSpan"/> when <c>idle_timeout</c> is 0.</summary>
    public TimeSpan IdleTimeout { get; init; } = DefaultIdleTimeout;

    /// <summary><c>max_connection_duration</c>: a connection older than this is not reused; null: no limit.</summary>
    public TimeSpan? MaxConnectionDuration { get; init; }

    /// <summary><c>max_response_headers_kb</c>: the largest response header block, in KiB.</summary>
    public int MaxResponseHeadersKb { get; init; } = DefaultMaxResponseHeadersKb;

    /// <summary><c>initial_stream_window_size</c>; null: .NET's default (65535, grown by its dynamic window scaling).</summary>
    public int? InitialStreamWindowSize { get; init; }

    /// <summary><c>connection_keepalive.interval</c>; null: no keepalive PINGs.</summary>
    public TimeSpan? KeepaliveInterval { get; init; }

    /// <summary><c>connection_keepalive.timeout</c>.</summary>
    public TimeSpan? KeepaliveTimeout { get; init; }

    /// <summary>The version YARP sends with: HTTP/2 is asked for without a fallback (prior knowledge on the http:// destinations TLS runs under).</summary>
    public Version RequestVersion => Mode is UpstreamProtocolMode.Http2 or UpstreamProtocolMode.Alpn ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11;

    /// <summary>
    /// The policy YARP sends with: HTTP/2 exactly (prior knowledge over plain text); ALPN (auto_config) is HTTP/2 or lower,
    /// which SocketsHttpHandler speaks as HTTP/1.1 over plain text and as the handshake chose over TLS, where the connect
    /// callback offers both <c>h2</c> and <c>http/1.1</c>.
    /// </summary>
    public HttpVersionPolicy RequestVersionPolicy
        => Mode == UpstreamProtocolMode.Http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>Translates a validated cluster.</summary>
    public static UpstreamProtocolPlan Translate(Cluster cluster)
    {
        CommonHttpProtocolOptions? common;
        Http2ProtocolOptions? http2;
        UpstreamProtocolMode mode;
        if (cluster.TypedExtensionProtocolOptions.GetValueOrDefault(HttpProtocolOptions.ExtensionName) is HttpProtocolOptions typed)
        {
            common = typed.CommonHttpProtocolOptions;
            (mode, http2) = typed switch
            {
                { UseDownstreamProtocolConfig: { } downstream } => (UpstreamProtocolMode.Downstream, downstream.Http2ProtocolOptions),
                { AutoConfig: { } auto } => (UpstreamProtocolMode.Alpn, auto.Http2ProtocolOptions),
                { ExplicitHttpConfig.Http2ProtocolOptions: { } explicitHttp2 } => (UpstreamProtocolMode.Http2, explicitHttp2),
                _ => (UpstreamProtocolMode.Http1, null),
            };
        }
        else
        {
            common = cluster.CommonHttpProtocolOptions;
            http2 = cluster.Http2ProtocolOptions;
            mode = cluster.ProtocolSelection == ClusterProtocolSelection.UseDownstreamProtocol ? UpstreamProtocolMode.Downstream
                : http2 is not null ? UpstreamProtocolMode.Http2
                : UpstreamProtocolMode.Http1;
        }
        if (common is null && http2 is null && mode == UpstreamProtocolMode.Http1)
        {
            return Default;
        }
        var keepalive = http2?.ConnectionKeepalive;
        return new UpstreamProtocolPlan(mode)
        {
            IdleTimeout = common?.IdleTimeout is { } idle ? (idle <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : idle) : DefaultIdleTimeout,
            MaxConnectionDuration = common?.MaxConnectionDuration is { } duration && duration > TimeSpan.Zero ? duration : null,
            MaxResponseHeadersKb = (int?)common?.MaxResponseHeadersKb ?? DefaultMaxResponseHeadersKb,
            InitialStreamWindowSize = (int?)http2?.InitialStreamWindowSize,
            KeepaliveInterval = keepalive?.Interval,
            KeepaliveTimeout = keepalive?.Timeout,
        };
    }

    /// <summary>
    /// The handler settings as one string, carried in the YARP cluster's metadata: the forwarder's client is rebuilt when
    /// it changes, and <see cref="FromMetadata"/> reads it back when the handler is configured.
    /// </summary>
    public string ToMetadata()
        => string.Join(';',
            Mode.ToString(),
            Milliseconds(IdleTimeout),
            Milliseconds(MaxConnectionDuration),
            MaxResponseHeadersKb.ToString(CultureInfo.InvariantCulture),
            InitialStreamWindowSize?.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
            Milliseconds(KeepaliveInterval),
            Milliseconds(KeepaliveTimeout));

    /// <summary>Reads <see cref="ToMetadata"/>'s string; <see cref="Default"/> when absent.</summary>
    public static UpstreamProtocolPlan FromMetadata(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Default;
        }
        var parts = text.Split(';');
        return new UpstreamProtocolPlan(Enum.Parse<UpstreamProtocolMode>(parts[0]))
        {
            IdleTimeout = ParseMilliseconds(parts[1]) ?? DefaultIdleTimeout,
            MaxConnectionDuration = ParseMilliseconds(parts[2]),
            MaxResponseHeadersKb = int.Parse(parts[3], CultureInfo.InvariantCulture),
            InitialStreamWindowSize = parts[4].Length == 0 ? null : int.Parse(parts[4], CultureInfo.InvariantCulture),
            KeepaliveInterval = ParseMilliseconds(parts[5]),
            KeepaliveTimeout = ParseMilliseconds(parts[6]),
        };
    }

    private static string Milliseconds(TimeSpan? value)
        => value is { } time ? ((long)time.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : string.Empty;

    private static TimeSpan? ParseMilliseconds(string text)
        => text.Length == 0 ? null : TimeSpan.FromMilliseconds(long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
}
