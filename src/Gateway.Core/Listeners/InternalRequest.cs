using System.Net;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's internal requests: the trusted client address is the only one (with <c>use_remote_address</c>, a request
/// without <c>x-forwarded-for</c> from an internal peer; without it, a <c>x-forwarded-for</c> of exactly one address) and
/// it is in <c>internal_address_config.cidr_ranges</c> (conn_manager_utility.cc, <see cref="RequestHeaderMutation"/>). Only internal requests may
/// steer the router with <c>x-envoy-*</c> headers (<see cref="Router.RouterHeaders"/>); external ones have them removed.
/// </summary>
internal static class InternalRequest
{
    public const string InternalHeader = "x-envoy-internal";
    public const string RetryOnHeader = "x-envoy-retry-on";
    public const string RetryGrpcOnHeader = "x-envoy-retry-grpc-on";
    public const string MaxRetriesHeader = "x-envoy-max-retries";
    public const string RetriableStatusCodesHeader = "x-envoy-retriable-status-codes";
    public const string RetriableHeaderNamesHeader = "x-envoy-retriable-header-names";
    public const string TimeoutHeader = "x-envoy-upstream-rq-timeout-ms";
    public const string PerTryTimeoutHeader = "x-envoy-upstream-rq-per-try-timeout-ms";

    /// <summary>
    /// Envoy's InternalAddressConfig::isInternalAddress: the trusted client address is in one of the
    /// <c>internal_address_config.cidr_ranges</c> (none by default, as in Envoy 1.33 and later).
    /// </summary>
    public static bool IsInternal(IPAddress address, IReadOnlyList<IPNetwork> internalRanges)
    {
        for (var i = 0; i < internalRanges.Count; i++)
        {
            if (internalRanges[i].Contains(address))
            {
                return true;
            }
        }
        return false;
    }
}
