using System.Globalization;
using System.Net;
using Gateway.Router;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's internal requests: with <c>use_remote_address: false</c> a request is internal when its
/// <c>x-forwarded-for</c> holds exactly one address and that address is in
/// <c>internal_address_config.cidr_ranges</c> (conn_manager_utility.cc). Only internal requests may
/// steer the router with <c>x-envoy-*</c> headers; external ones have them removed.
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

    /// <summary>
    /// Applies the router headers of an internal request (router_filter.rst): the timeouts
    /// replace the route's; <c>x-envoy-retry-on</c> / <c>x-envoy-retry-grpc-on</c> add to the route's
    /// conditions, <c>x-envoy-max-retries</c> replaces its count, <c>x-envoy-retriable-status-codes</c>
    /// and <c>x-envoy-retriable-header-names</c> add to its lists (RetryStateImpl). The headers the
    /// router consumes are removed from the upstream request. Returns the retry policy in force.
    /// </summary>
    public static RetryPlan? ApplyRouterHeaders(UpstreamRequest state, IHeaderDictionary headers, RetryPlan? routeRetry)
    {
        var timeout = Milliseconds(headers, TimeoutHeader) ?? state.Route.Plan.Timeout;
        var perTry = Milliseconds(headers, PerTryTimeoutHeader) ?? routeRetry?.PerTryTimeout ?? TimeSpan.Zero;
        state.Timeouts = new RequestTimeouts(timeout, perTry);
        headers.Remove(TimeoutHeader);
        headers.Remove(PerTryTimeoutHeader);

        var retryOn = routeRetry?.RetryOn ?? RetryOn.None;
        retryOn |= RetryPlan.ParseRetryOnHeader(headers[RetryOnHeader].ToString(), grpc: false);
        retryOn |= RetryPlan.ParseRetryOnHeader(headers[RetryGrpcOnHeader].ToString(), grpc: true);
        var maxRetries = headers[MaxRetriesHeader].ToString();
        headers.Remove(RetryOnHeader);
        headers.Remove(RetryGrpcOnHeader);
        headers.Remove(MaxRetriesHeader);
        if (retryOn == RetryOn.None)
        {
            return routeRetry;
        }

        var retry = routeRetry ?? RetryPlan.HeaderOnly;
        var numRetries = retry.NumRetries;
        if (uint.TryParse(maxRetries, NumberStyles.None, CultureInfo.InvariantCulture, out var fromHeader))
        {
            numRetries = (int)Math.Min(fromHeader, int.MaxValue);
        }
        var codes = retry.RetriableStatusCodes;
        if (headers.TryGetValue(RetriableStatusCodesHeader, out var codeHeader))
        {
            var list = new List<int>(codes);
            foreach (var code in codeHeader.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    list.Add(parsed);
                }
            }
            codes = list;
        }
        if (headers.TryGetValue(RetriableHeaderNamesHeader, out var names))
        {
            state.RetriableHeaderNames = names.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        return retryOn == retry.RetryOn && numRetries == retry.NumRetries && ReferenceEquals(codes, retry.RetriableStatusCodes)
            ? retry
            : retry with { RetryOn = retryOn, NumRetries = numRetries, RetriableStatusCodes = codes };
    }

    private static TimeSpan? Milliseconds(IHeaderDictionary headers, string name)
        => headers.TryGetValue(name, out var value) && ulong.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(Math.Min(ms, (ulong)TimeSpan.MaxValue.TotalMilliseconds / 2))
            : null;
}
