using Gateway.Filters;

namespace Gateway.Router;

/// <summary>
/// Envoy's response code details of the router's replies (StreamInfo::ResponseCodeDetailValues) and the response flag of
/// an upstream reset (router.cc streamResetReasonToResponseFlag), from the reset reasons this gateway reports.
/// </summary>
internal static class ResponseDetails
{
    public const string ViaUpstream = "via_upstream";
    public const string RouteNotFound = "route_not_found";
    public const string DirectResponse = "direct_response";
    public const string ClusterNotFound = "cluster_not_found";
    public const string NoHealthyUpstream = "no_healthy_upstream";
    public const string DropOverload = "drop_overload";
    public const string RouteTimeout = "response_timeout";
    public const string PerTryTimeout = "upstream_per_try_timeout";
    public const string Overflow = "upstream_reset_before_response_started{overflow}";
    public const string LocalReset = "upstream_reset_before_response_started{local_reset}";
    public const string ResetAfterResponseStarted = "upstream_reset_after_response_started{connection_termination}";
    public const string CodecError = "http1.codec_error";

    private const string TransportFailureSeparator = ", transport failure reason: ";

    /// <summary>
    /// <c>upstream_reset_before_response_started{reason|transport failure}</c> with spaces as underscores
    /// (router.cc onUpstreamReset), e.g. <c>{remote_connection_failure|delayed_connect_error:_111}</c>.
    /// </summary>
    public static string ResetBeforeResponseStarted(string resetReason)
    {
        var separator = resetReason.IndexOf(TransportFailureSeparator, StringComparison.Ordinal);
        var inner = separator < 0
            ? resetReason
            : string.Concat(resetReason.AsSpan(0, separator), "|", resetReason.AsSpan(separator + TransportFailureSeparator.Length));
        return "upstream_reset_before_response_started{" + inner.Replace(' ', '_') + "}";
    }

    /// <summary>The transport failure reason carried in a reset reason (<c>%UPSTREAM_TRANSPORT_FAILURE_REASON%</c>), or null.</summary>
    public static string? TransportFailureReason(string resetReason)
    {
        var separator = resetReason.IndexOf(TransportFailureSeparator, StringComparison.Ordinal);
        return separator < 0 ? null : resetReason[(separator + TransportFailureSeparator.Length)..];
    }

    /// <summary>The response flag of a reset before response headers.</summary>
    public static ResponseFlags FlagOfReset(string resetReason)
    {
        if (resetReason == RouterFilter.ProtocolError)
        {
            return ResponseFlags.UpstreamProtocolError;
        }
        return RouterFilter.IsConnectFailure(resetReason) ? ResponseFlags.UpstreamConnectionFailure : ResponseFlags.UpstreamConnectionTermination;
    }
}
