using System.Globalization;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Validation;

/// <summary>
/// A connection manager's <c>http2_protocol_options</c>: Envoy's proto constraints, what Kestrel cannot take (a keepalive
/// under its 1 s clock), and the agreement of every connection manager on the settings Kestrel applies server-wide.
/// </summary>
internal static class DownstreamHttp2Validator
{
    /// <summary>Kestrel's keep-alive timer runs on its 1 s heartbeat: shorter PING delays and timeouts are refused.</summary>
    private static readonly TimeSpan KestrelHeartbeat = TimeSpan.FromSeconds(1);

    public static void Validate(ValidationContext context, HttpConnectionManager hcm)
    {
        var http2 = hcm.Http2ProtocolOptions;
        if (http2 is not null)
        {
            if (http2.HpackTableSize is > int.MaxValue)
            {
                context.Error(http2, "hpack_table_size", string.Create(CultureInfo.InvariantCulture, $"'hpack_table_size' {http2.HpackTableSize} is not supported by this gateway: Kestrel's HeaderTableSize is at most {int.MaxValue}"));
            }
            if (http2.MaxConcurrentStreams is { } streams && streams is < 1 or > Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "max_concurrent_streams", UpstreamProtocolValidator.RangeError("MaxConcurrentStreams", 1, Http2ProtocolOptions.MaxValue));
            }
            if (http2.InitialStreamWindowSize is { } streamWindow && streamWindow is < Http2ProtocolOptions.MinWindowSize or > Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "initial_stream_window_size", UpstreamProtocolValidator.RangeError("InitialStreamWindowSize", Http2ProtocolOptions.MinWindowSize, Http2ProtocolOptions.MaxValue));
            }
            if (http2.InitialConnectionWindowSize is { } connectionWindow && connectionWindow is < Http2ProtocolOptions.MinWindowSize or > Http2ProtocolOptions.MaxValue)
            {
                context.Error(http2, "initial_connection_window_size", UpstreamProtocolValidator.RangeError("InitialConnectionWindowSize", Http2ProtocolOptions.MinWindowSize, Http2ProtocolOptions.MaxValue));
            }
            if (http2.ConnectionKeepalive is { } keepalive)
            {
                ValidateKeepalive(context, keepalive);
            }
        }
        // Kestrel's HTTP/2 limits are server-wide: an unset field stands for Envoy's default, located at the connection manager.
        var plan = DownstreamHttp2Plan.From(http2);
        var defaults = DownstreamHttp2Plan.Default;
        ServerWide(context, hcm, http2, "max_concurrent_streams", http2?.MaxConcurrentStreams is null ? null : Number(plan.MaxConcurrentStreams), Number(defaults.MaxConcurrentStreams));
        ServerWide(context, hcm, http2, "initial_stream_window_size", http2?.InitialStreamWindowSize is null ? null : Number(plan.InitialStreamWindowSize), Number(defaults.InitialStreamWindowSize));
        ServerWide(context, hcm, http2, "initial_connection_window_size", http2?.InitialConnectionWindowSize is null ? null : Number(plan.InitialConnectionWindowSize), Number(defaults.InitialConnectionWindowSize));
        ServerWide(context, hcm, http2, "hpack_table_size", http2?.HpackTableSize is null ? null : Number(plan.HpackTableSize), Number(defaults.HpackTableSize));
        var keepaliveText = plan.KeepaliveInterval is null && plan.KeepaliveTimeout is null
            ? "none"
            : string.Create(CultureInfo.InvariantCulture, $"interval {plan.KeepaliveInterval?.TotalSeconds}s timeout {plan.KeepaliveTimeout?.TotalSeconds}s");
        ServerWide(context, hcm, http2, "connection_keepalive", http2?.ConnectionKeepalive is null ? null : keepaliveText, "none");
    }

    private static void ValidateKeepalive(ValidationContext context, KeepaliveSettings keepalive)
    {
        // Envoy sends no PINGs without an interval; the timeout is required either way.
        if (keepalive.Interval is not null)
        {
            UpstreamProtocolValidator.ValidateKeepaliveDuration(context, keepalive, "interval", "Interval", keepalive.Interval);
        }
        UpstreamProtocolValidator.ValidateKeepaliveDuration(context, keepalive, "timeout", "Timeout", keepalive.Timeout);
        foreach (var (field, value) in new[] { ("interval", keepalive.Interval), ("timeout", keepalive.Timeout) })
        {
            if (value is { } duration && duration >= TimeSpan.FromMilliseconds(1) && duration < KestrelHeartbeat)
            {
                context.Error(keepalive, field, $"'{field}' below 1s is not supported by this gateway downstream: Kestrel's HTTP/2 keep-alive runs on its 1 s heartbeat");
            }
        }
    }

    private static void ServerWide(ValidationContext context, HttpConnectionManager hcm, Http2ProtocolOptions? http2, string field, string? value, string defaultValue)
        => context.ServerWide(http2, field, "http2_protocol_options." + field, value, hcm, "http2_protocol_options", defaultValue);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
