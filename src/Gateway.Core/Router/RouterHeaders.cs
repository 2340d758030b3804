using System.Globalization;
using Gateway.Listeners;
using Gateway.Routing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Router;

/// <summary>The router headers an internal request may steer the router with (router_filter.rst).</summary>
internal static class RouterHeaders
{
    /// <summary>
    /// Applies the router headers of an internal request (router_filter.rst): the timeouts
    /// replace the route's; <c>x-envoy-retry-on</c> / <c>x-envoy-retry-grpc-on</c> add to the route's
    /// conditions, <c>x-envoy-max-retries</c> replaces its count, <c>x-envoy-retriable-status-codes</c>
    /// and <c>x-envoy-retriable-header-names</c> add to its lists (RetryStateImpl). The headers the
    /// router consumes are removed from the upstream request. Returns the retry policy in force.
    /// </summary>
    public static RetryPlan? ApplyInternal(UpstreamRequest state, IHeaderDictionary headers, RetryPlan? routeRetry)
    {
        var timeout = Milliseconds(headers, InternalRequest.TimeoutHeader) ?? state.Route.Plan.Timeout;
        var perTry = Milliseconds(headers, InternalRequest.PerTryTimeoutHeader) ?? routeRetry?.PerTryTimeout ?? TimeSpan.Zero;
        state.Timeouts = new RequestTimeouts(timeout, perTry);
        headers.Remove(InternalRequest.TimeoutHeader);
        headers.Remove(InternalRequest.PerTryTimeoutHeader);

        var retryOn = routeRetry?.RetryOn ?? RetryOn.None;
        retryOn |= RetryPlan.ParseRetryOnHeader(headers[InternalRequest.RetryOnHeader].ToString(), grpc: false);
        retryOn |= RetryPlan.ParseRetryOnHeader(headers[InternalRequest.RetryGrpcOnHeader].ToString(), grpc: true);
        var maxRetries = headers[InternalRequest.MaxRetriesHeader].ToString();
        headers.Remove(InternalRequest.RetryOnHeader);
        headers.Remove(InternalRequest.RetryGrpcOnHeader);
        headers.Remove(InternalRequest.MaxRetriesHeader);
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
        if (headers.TryGetValue(InternalRequest.RetriableStatusCodesHeader, out var codeHeader))
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
        if (headers.TryGetValue(InternalRequest.RetriableHeaderNamesHeader, out var names))
        {
            state.RetriableHeaderNames = names.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        return retryOn == retry.RetryOn && numRetries == retry.NumRetries && ReferenceEquals(codes, retry.RetriableStatusCodes)
            ? retry
            : retry with { RetryOn = retryOn, NumRetries = numRetries, RetriableStatusCodes = codes };
    }

    /// <summary>
    /// The path and query the upstream gets: the routed <c>:path</c>, with the route's <c>prefix_rewrite</c>, <c>regex_rewrite</c>
    /// or <c>path_rewrite_policy</c> applied
    /// (the same instance when nothing is rewritten). The upstream attempt and the shadows both send it.
    /// </summary>
    public static string RoutedPathAndQuery(UpstreamRequest state)
    {
        var route = state.Route;
        var pathAndQuery = state.PathAndQuery;
        if (route.Plan.PrefixRewrite is { } rewrite && route.MatchedPrefix is { } matched)
        {
            var comparison = route.Plan.Source?.Match?.CaseSensitive == false ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (pathAndQuery.StartsWith(matched, comparison))
            {
                return string.Concat(rewrite, pathAndQuery.AsSpan(matched.Length));
            }
        }
        else if (route.RegexRewrite is { } regexRewrite)
        {
            return RegexRewritten(regexRewrite, pathAndQuery);
        }
        else if (route.TemplateRewrite is { } templateRewrite)
        {
            return TemplateRewritten(templateRewrite, pathAndQuery);
        }
        return pathAndQuery;
    }

    /// <summary>
    /// The Host set before the upstream host is chosen: the route's own rewrite, else a weighted entry's
    /// <c>host_rewrite_literal</c> (Envoy's WeightedClusterEntry sets it first and the route's rewrite replaces it); null:
    /// unchanged here.
    /// </summary>
    public static string? RewrittenHost(UpstreamRequest state, IHeaderDictionary requestHeaders)
        => RouteRewrittenHost(state, requestHeaders) ?? state.Route.EntryHostRewrite;

    /// <summary>
    /// Envoy's path_rewrite_policy rewrite (currentUrlPathAfterRewriteWithMatchedPath): the path (up to <c>?</c> or <c>#</c>)
    /// rebuilt from the template's variables, the rest appended as it was; a path the template does not match stays as it was.
    /// </summary>
    public static string TemplateRewritten(UriTemplateRewrite rewrite, string pathAndQuery)
    {
        var end = pathAndQuery.AsSpan().IndexOfAny('?', '#');
        var path = end < 0 ? pathAndQuery.AsSpan() : pathAndQuery.AsSpan(0, end);
        if (rewrite.Apply(path) is not { Length: > 0 } rewritten)
        {
            return pathAndQuery;
        }
        return end < 0 ? rewritten : string.Concat(rewritten, pathAndQuery.AsSpan(end));
    }

    /// <summary>
    /// The Host the route's host rewrite sets before the upstream host is chosen (<c>host_rewrite_literal</c>,
    /// <c>host_rewrite_header</c>, <c>host_rewrite_path_regex</c>, as Envoy's finalizeRequestHeaders); null: unchanged
    /// here (no rewrite, an absent header, or <c>auto_host_rewrite</c>, which needs the endpoint).
    /// </summary>
    public static string? RouteRewrittenHost(UpstreamRequest state, IHeaderDictionary requestHeaders)
    {
        var route = state.Route;
        switch (route.Plan.HostRewrite)
        {
            case HostRewriteMode.Literal:
                return route.Plan.HostRewriteLiteral;
            case HostRewriteMode.Header:
                var values = requestHeaders[route.Plan.HostRewriteHeader!];
                return values.Count > 0 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
            case HostRewriteMode.PathRegex:
                var pathAndQuery = state.PathAndQuery;
                var end = pathAndQuery.AsSpan().IndexOfAny('?', '#');
                return route.HostRewritePathRegex!.Apply(end < 0 ? pathAndQuery : pathAndQuery[..end]);
            default:
                return null;
        }
    }

    /// <summary>
    /// Envoy's regex rewrite: every match in the path (up to <c>?</c> or <c>#</c>) replaced, the rest appended as it was;
    /// an empty result is a failed rewrite (the path stays as it was).
    /// </summary>
    public static string RegexRewritten(RegexSubstitution rewrite, string pathAndQuery)
    {
        var end = pathAndQuery.AsSpan().IndexOfAny('?', '#');
        var path = end < 0 ? pathAndQuery : pathAndQuery[..end];
        var rewritten = rewrite.Apply(path);
        if (rewritten.Length == 0)
        {
            return pathAndQuery;
        }
        return end < 0 ? rewritten : string.Concat(rewritten, pathAndQuery.AsSpan(end));
    }

    private static TimeSpan? Milliseconds(IHeaderDictionary headers, string name)
        => headers.TryGetValue(name, out var value) && ulong.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(Math.Min(ms, (ulong)TimeSpan.MaxValue.TotalMilliseconds / 2))
            : null;

    /// <summary>
    /// The final upstream response headers are about to be sent (a proxied response after the retry decision, or a
    /// terminated CONNECT's 200): Envoy's onUpstreamHeaders adds the router's own headers (upstream service time, the
    /// route's response headers, the attempt count, the hash policy's cookie), then the encoder filters see them, then
    /// the connection manager's headers.
    /// </summary>
    public static ValueTask FinalizeResponseAsync(HttpContext context, UpstreamRequest state, TimeProvider time)
    {
        var headers = context.Response.Headers;
        var connectionManager = state.Listener.ConnectionManager;
        var info = state.StreamInfo;
        info.Details = ResponseDetails.ViaUpstream;
        info.OnFirstDownstreamTxByteSent();
        if (!connectionManager.SuppressEnvoyHeaders)
        {
            var elapsed = (long)time.GetElapsedTime(state.StartTimestamp).TotalMilliseconds;
            headers[EnvoyHeaders.UpstreamServiceTime] = elapsed.ToString(CultureInfo.InvariantCulture);
        }
        // Envoy's onUpstreamHeaders: the route's response headers after the service time, before the attempt count.
        state.Route.Headers.ApplyResponse(context, info);
        if (state.Route.Plan.IncludeAttemptCountInResponse)
        {
            headers[EnvoyHeaders.AttemptCount] = state.Attempt.ToString(CultureInfo.InvariantCulture);
        }
        if (state.SetCookie is { } cookie)
        {
            // The hash policy's generated cookie (Envoy's downstream_set_cookies_).
            headers.Append(Microsoft.Net.Http.Headers.HeaderNames.SetCookie, cookie);
        }
        // filter chain: encoders run here, on the final response (after the router's headers, before the connection manager's).
        if (info.Filters is { HasEncoders: true } filters)
        {
            return EncodeAsync(filters, context, connectionManager);
        }
        ConnectionManager.ApplyResponseHeaders(context, connectionManager);
        return default;
    }

    private static async ValueTask EncodeAsync(Filters.FilterChainStream filters, HttpContext context, ConnectionManagerPlan connectionManager)
    {
        await filters.EncodeHeadersAsync(proxied: true).ConfigureAwait(false);
        ConnectionManager.ApplyResponseHeaders(context, connectionManager);
    }
}
