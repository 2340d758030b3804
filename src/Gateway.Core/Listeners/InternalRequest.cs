using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's internal requests: with <c>use_remote_address: false</c> a request is internal when its
/// <c>x-forwarded-for</c> holds exactly one address and that address is in
/// <c>internal_address_config.cidr_ranges</c> (conn_manager_utility.cc). Only internal requests may
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

    /// <summary>True when the trusted client address (the single <c>x-forwarded-for</c> entry) is internal.</summary>
    public static bool IsInternal(IHeaderDictionary headers, IReadOnlyList<IPNetwork> internalRanges)
    {
        if (internalRanges.Count == 0 || !headers.TryGetValue("x-forwarded-for", out var forwardedFor) || forwardedFor.Count != 1)
        {
            return false;
        }
        var value = forwardedFor[0].AsSpan().Trim();
        if (value.Contains(',') || !IPAddress.TryParse(value, out var address))
        {
            return false;
        }
        foreach (var range in internalRanges)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }
        return false;
    }
}
