using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// A cluster's upstream protocol options (<c>typed_extension_protocol_options</c>' HttpProtocolOptions, or the deprecated
/// cluster-level fields): Envoy's proto constraints and errors, then what .NET's HTTP client cannot honour, refused by its field.
/// </summary>
internal sealed class UpstreamProtocolValidator(ValidationContext context)
{
    /// <summary>SocketsHttpHandler's largest <c>InitialHttp2StreamWindowSize</c> (its default MaxHttp2StreamWindowSize, 16 MiB).</summary>
    public const uint MaxDotNetStreamWindowSize = 16 * 1024 * 1024;

    public void Validate(Cluster cluster)
    {
        var typed = cluster.TypedExtensionProtocolOptions.GetValueOrDefault(HttpProtocolOptions.ExtensionName) as HttpProtocolOptions;
        if (typed is not null)
        {
            ValidateTyped(cluster, typed);
        }
        else
        {
            // Envoy's createOptions: with typed options the deprecated fields are ignored; without, they are the options.
            if (cluster.ProtocolSelection == ClusterProtocolSelection.UseConfiguredProtocol && cluster.HttpProtocolOptions is not null && cluster.Http2ProtocolOptions is not null)
            {
                context.Error(cluster, "http2_protocol_options", "cluster: Both HTTP1 and HTTP2 options may only be configured with non-default 'protocol_selection' values");
            }
            if (cluster.Http2ProtocolOptions is { } http2)
            {
                ValidateHttp2(http2);
            }
            if (cluster.HttpProtocolOptions is { } http1)
            {
                ValidateHttp1(http1);
            }
            if (cluster.CommonHttpProtocolOptions is { } common)
            {
                ValidateCommon(common);
            }
        }
        if (cluster.MaxRequestsPerConnection is not null)
        {
            if (typed?.CommonHttpProtocolOptions?.MaxRequestsPerConnection is not null)
            {
                context.Error(cluster, "max_requests_per_connection", "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified");
            }
            else
            {
                context.Error(cluster, "max_requests_per_connection", MaxRequestsPerConnectionRefused);
            }
        }
    }

    private const string MaxRequestsPerConnectionRefused
        = "'max_requests_per_connection' is not supported by this gateway: .NET's connection pool cannot close a connection after a number of requests";

    private void ValidateTyped(Cluster cluster, HttpProtocolOptions http)
    {
        if (http.ExplicitHttpConfig is { } explicitConfig)
        {
            if (explicitConfig.HttpProtocolOptions is null && explicitConfig.Http2ProtocolOptions is null
                && !explicitConfig.HasBindingError("http_protocol_options") && !explicitConfig.HasBindingError("http2_protocol_options") && !explicitConfig.HasBindingError("http3_protocol_options"))
            {
                context.Error(http, "explicit_http_config", "Proto constraint validation failed (ExplicitHttpConfigValidationError.ProtocolConfig: value is required)");
            }
            if (explicitConfig.Http2ProtocolOptions is { } http2)
            {
                ValidateHttp2(http2);
            }
            if (explicitConfig.HttpProtocolOptions is { } http1)
            {
                ValidateHttp1(http1);
            }
        }
        else if (http.UseDownstreamProtocolConfig is { } downstream)
        {
            if (downstream.Http2ProtocolOptions is { } http2)
            {
                ValidateHttp2(http2);
            }
            if (downstream.HttpProtocolOptions is { } http1)
            {
                ValidateHttp1(http1);
            }
        }
        else if (http.AutoConfig is { } auto)
        {
            if (auto.Http2ProtocolOptions is { } http2)
            {
                ValidateHttp2(http2);
            }
            if (auto.HttpProtocolOptions is { } http1)
            {
                ValidateHttp1(http1);
            }
            ValidateAlpnSockets(cluster, http);
        }
        else if (!http.HasBindingError("explicit_http_config") && !http.HasBindingError("use_downstream_protocol_config") && !http.HasBindingError("auto_config"))
        {
            context.Error(http, "explicit_http_config", "Proto constraint validation failed (HttpProtocolOptionsValidationError.UpstreamProtocolOptions: value is required)");
        }
        if (http.CommonHttpProtocolOptions is { } common)
        {
            ValidateCommon(common);
        }
    }

    /// <summary>Envoy's ClusterImplBase check: ALPN needs a TLS socket, for the cluster and each of its socket matches.</summary>
    private void ValidateAlpnSockets(Cluster cluster, HttpProtocolOptions http)
    {
        if (cluster.TransportSocket?.TypedConfig is not UpstreamTlsContext)
        {
            context.Error(http, "auto_config", $"ALPN configured for cluster {cluster.Name} which has a non-ALPN transport socket");
            return;
        }
        foreach (var match in cluster.TransportSocketMatches)
        {
            if (match.TransportSocket?.TypedConfig is not UpstreamTlsContext)
            {
                context.Error(http, "auto_config", $"ALPN configured for cluster {cluster.Name} which has a non-ALPN transport socket matcher");
                return;
            }
        }
    }

    /// <summary>The HTTP/1 settings the gateway applies downstream only: on a cluster each is refused by its path.</summary>
    private void ValidateHttp1(Http1ProtocolOptions http1)
    {
        if (http1.AcceptHttp10)
        {
            context.Error(http1, "accept_http_10", "'accept_http_10' is not supported by this gateway upstream");
        }
        if (!string.IsNullOrEmpty(http1.DefaultHostForHttp10))
        {
            context.Error(http1, "default_host_for_http_10", "'default_host_for_http_10' is not supported by this gateway upstream");
        }
        if (http1.HeaderKeyFormat is not null)
        {
            context.Error(http1, "header_key_format", "'header_key_format' is not supported by this gateway upstream yet: .NET's HTTP client sends header names as the request has them");
        }
        if (http1.AllowChunkedLength)
        {
            context.Error(http1, "allow_chunked_length", "'allow_chunked_length' is not supported by this gateway upstream yet");
        }
    }

    private void ValidateHttp2(Http2ProtocolOptions http2)
    {
        if (http2.AllowConnect == true)
        {
            context.Error(http2, "allow_connect", "'allow_connect' is not supported by this gateway upstream yet");
        }
        if (http2.HpackTableSize is { } table && table != Http2ProtocolOptions.DefaultHpackTableSize)
        {
            context.Error(http2, "hpack_table_size", $"'hpack_table_size' {table} is not supported by this gateway upstream: .NET's HTTP/2 client keeps HPACK's default table ({Http2ProtocolOptions.DefaultHpackTableSize})");
        }
        if (http2.MaxConcurrentStreams is { } streams)
        {
            if (streams is < 1 or > Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "max_concurrent_streams", RangeError("MaxConcurrentStreams", 1, Http2ProtocolOptions.MaxValue));
            }
            else if (streams != Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "max_concurrent_streams", "'max_concurrent_streams' below the default is not supported by this gateway upstream: .NET's HTTP/2 client opens as many streams as the upstream's SETTINGS_MAX_CONCURRENT_STREAMS allows (then another connection)");
            }
        }
        if (http2.InitialStreamWindowSize is { } streamWindow)
        {
            if (streamWindow is < Http2ProtocolOptions.MinWindowSize or > Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "initial_stream_window_size", RangeError("InitialStreamWindowSize", Http2ProtocolOptions.MinWindowSize, Http2ProtocolOptions.MaxValue));
            }
            else if (streamWindow > MaxDotNetStreamWindowSize)
            {
                context.Error(http2, "initial_stream_window_size", $"'initial_stream_window_size' {streamWindow} is not supported by this gateway upstream: .NET's HTTP/2 client allows at most {MaxDotNetStreamWindowSize}");
            }
        }
        if (http2.InitialConnectionWindowSize is { } connectionWindow)
        {
            context.Error(http2, "initial_connection_window_size", connectionWindow is < Http2ProtocolOptions.MinWindowSize or > Http2ProtocolOptions.MaxValue
                ? RangeError("InitialConnectionWindowSize", Http2ProtocolOptions.MinWindowSize, Http2ProtocolOptions.MaxValue)
                : "'initial_connection_window_size' is not supported by this gateway upstream: .NET's HTTP/2 client has a fixed 64 MiB connection window");
        }
        if (http2.ConnectionKeepalive is { } keepalive)
        {
            ValidateKeepaliveDuration(context, keepalive, "interval", "Interval", keepalive.Interval);
            ValidateKeepaliveDuration(context, keepalive, "timeout", "Timeout", keepalive.Timeout);
        }
    }

    /// <summary>KeepaliveSettings' proto constraints on <c>interval</c> and <c>timeout</c> (required, at least 1 ms).</summary>
    internal static void ValidateKeepaliveDuration(ValidationContext context, KeepaliveSettings keepalive, string field, string protoName, TimeSpan? value)
    {
        if (value is null)
        {
            context.Error(keepalive, field, $"Proto constraint validation failed (KeepaliveSettingsValidationError.{protoName}: value is required)");
        }
        else if (value < TimeSpan.FromMilliseconds(1))
        {
            context.Error(keepalive, field, $"Proto constraint validation failed (KeepaliveSettingsValidationError.{protoName}: value must be greater than or equal to 1ms)");
        }
    }

    private void ValidateCommon(CommonHttpProtocolOptions common)
    {
        if (common.MaxHeadersCount is { } count)
        {
            context.Error(common, "max_headers_count", count < 1
                ? "Proto constraint validation failed (HttpProtocolOptionsValidationError.MaxHeadersCount: value must be greater than or equal to 1)"
                : "'max_headers_count' is not supported by this gateway upstream: .NET's HTTP client limits the response headers' size (max_response_headers_kb), not their count");
        }
        if (common.MaxResponseHeadersKb is { } kb && kb is < 1 or > 8192)
        {
            context.Error(common, "max_response_headers_kb", RangeError("MaxResponseHeadersKb", 1, 8192, "HttpProtocolOptionsValidationError"));
        }
        if (common.MaxStreamDuration is not null)
        {
            context.Error(common, "max_stream_duration", "'max_stream_duration' is not supported by this gateway on a cluster yet; use the route's max_stream_duration");
        }
        if (common.MaxRequestsPerConnection is not null)
        {
            context.Error(common, "max_requests_per_connection", MaxRequestsPerConnectionRefused);
        }
        if (common.HeadersWithUnderscoresAction != HeadersWithUnderscoresAction.Allow)
        {
            context.Error(common, "headers_with_underscores_action", "'headers_with_underscores_action' is not supported by this gateway on a cluster (Envoy does not apply it to upstream responses)");
        }
    }

    internal static string RangeError(string field, uint min, uint max, string message = "Http2ProtocolOptionsValidationError")
        => string.Create(CultureInfo.InvariantCulture, $"Proto constraint validation failed ({message}.{field}: value must be inside range [{min}, {max}])");
}
