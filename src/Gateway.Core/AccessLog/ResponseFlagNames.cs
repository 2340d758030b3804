using Gateway.Filters;

namespace Gateway.AccessLog;

/// <summary>Envoy's short response flag names (StreamInfo::ResponseFlagUtils), which <c>response_flag_filter</c> lists.</summary>
internal static class ResponseFlagNames
{
    /// <summary>Every short name with its flag, in Envoy's order.</summary>
    public static readonly (string Name, ResponseFlags Flag)[] All =
    [
        ("LH", ResponseFlags.FailedLocalHealthCheck),
        ("UH", ResponseFlags.NoHealthyUpstream),
        ("UT", ResponseFlags.UpstreamRequestTimeout),
        ("LR", ResponseFlags.LocalReset),
        ("UR", ResponseFlags.UpstreamRemoteReset),
        ("UF", ResponseFlags.UpstreamConnectionFailure),
        ("UC", ResponseFlags.UpstreamConnectionTermination),
        ("UO", ResponseFlags.UpstreamOverflow),
        ("NR", ResponseFlags.NoRouteFound),
        ("DI", ResponseFlags.DelayInjected),
        ("FI", ResponseFlags.FaultInjected),
        ("RL", ResponseFlags.RateLimited),
        ("UAEX", ResponseFlags.UnauthorizedExternalService),
        ("RLSE", ResponseFlags.RateLimitServiceError),
        ("DC", ResponseFlags.DownstreamConnectionTermination),
        ("URX", ResponseFlags.UpstreamRetryLimitExceeded),
        ("SI", ResponseFlags.StreamIdleTimeout),
        ("IH", ResponseFlags.InvalidEnvoyRequestHeaders),
        ("DPE", ResponseFlags.DownstreamProtocolError),
        ("UMSDR", ResponseFlags.UpstreamMaxStreamDurationReached),
        ("RFCF", ResponseFlags.ResponseFromCacheFilter),
        ("NFCF", ResponseFlags.NoFilterConfigFound),
        ("DT", ResponseFlags.DurationTimeout),
        ("UPE", ResponseFlags.UpstreamProtocolError),
        ("NC", ResponseFlags.NoClusterFound),
        ("OM", ResponseFlags.OverloadManager),
        ("DF", ResponseFlags.DnsResolutionFailed),
        ("DO", ResponseFlags.DropOverload),
        ("DR", ResponseFlags.DownstreamRemoteReset),
        ("UDO", ResponseFlags.UnconditionalDropOverload),
    ];

    /// <summary>The flag of a short name, or null when Envoy has no such flag.</summary>
    public static ResponseFlags? Find(string name)
    {
        foreach (var (known, flag) in All)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return flag;
            }
        }
        return null;
    }
}
