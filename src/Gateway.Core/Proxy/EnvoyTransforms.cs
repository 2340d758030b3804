using System.Globalization;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Router;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>
/// Gives the gateway's cluster routes Envoy's header behaviour instead of YARP's defaults: the client's
/// Host is kept unless the route rewrites it, no X-Forwarded-* are added (use_remote_address is false),
/// and the router's own headers are added towards the upstream and the client.
/// </summary>
internal sealed class EnvoyTransformProvider(TimeProvider time) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.ContainsKey(EnvoyTranslator.RouteKindMetadata) != true)
        {
            return;
        }
        context.CopyRequestHeaders = true;
        context.CopyResponseHeaders = true;
        context.UseDefaultForwarders = false;
        context.AddOriginalHost(true);
        context.RequestTransforms.Add(new EnvoyRequestTransform(time));
        context.ResponseTransforms.Add(new EnvoyResponseTransform(time));
    }
}

/// <summary>Router request headers: expected timeout, host rewrite, prefix rewrite; counts the upstream attempt.</summary>
internal sealed class EnvoyRequestTransform(TimeProvider time) : RequestTransform
{
    /// <summary>
    /// The version of a <c>use_downstream_protocol_config</c> cluster (YARP sets the cluster's): HTTP/2 for HTTP/2 and HTTP/3
    /// requests, as Envoy's upstreamHttpProtocol, else the cluster's HTTP/1.1.
    /// </summary>
    private static void ChooseVersion(RequestTransformContext context, UpstreamRequest state)
    {
        if (state.Cluster.Plan?.Protocol.Mode == UpstreamProtocolMode.Downstream)
        {
            var protocol = context.HttpContext.Request.Protocol;
            if (HttpProtocol.IsHttp2(protocol) || HttpProtocol.IsHttp3(protocol))
            {
                context.ProxyRequest.Version = System.Net.HttpVersion.Version20;
                context.ProxyRequest.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            }
        }
    }

    /// <summary>
    /// An HTTP/2 request (or auto_config's) to a TLS host goes to an https:// URI: HTTP/2 then sends <c>:scheme https</c>, as
    /// Envoy does on a TLS upstream (Kestrel refuses a scheme that is not the transport's), and SocketsHttpHandler takes the
    /// connect callback's SslStream and its ALPN as they are. HTTP/1.1 sends no scheme: its destinations stay http://.
    /// </summary>
    private static void UseHttpsForTls(HttpRequestMessage request, ClusterRuntime cluster, UpstreamHost? host)
    {
        if (request.Version.Major == 2 && host is not null && cluster.TransportOf(host) is not null && request.RequestUri is { } uri && uri.Scheme == Uri.UriSchemeHttp)
        {
            request.RequestUri = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttps, Port = uri.Port }.Uri;
        }
    }

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var state = context.HttpContext.Features.Get<RequestStreamInfo>()?.Upstream;
        if (state is null)
        {
            return default;
        }
        var route = state.Route;
        var plan = route.Plan;
        ChooseVersion(context, state);
        var headers = context.ProxyRequest.Headers;
        if (headers.ExpectContinue == true && !state.Listener.ConnectionManager.Proxy100Continue)
        {
            // Envoy answered the 100 itself (ConnectionManager.Answer100Continue): the upstream must not see it.
            headers.ExpectContinue = false;
            headers.Remove(HeaderNames.Expect);
        }

        if (plan.IncludeRequestAttemptCount)
        {
            // Overrides what an earlier proxy sent: the upstream sees this gateway's count.
            headers.Remove(EnvoyHeaders.AttemptCount);
            headers.TryAddWithoutValidation(EnvoyHeaders.AttemptCount, state.Attempt.ToString(CultureInfo.InvariantCulture));
        }
        if (!state.Listener.ConnectionManager.SuppressEnvoyHeaders && state.Timeouts.ExpectedHeader is { } expected)
        {
            headers.TryAddWithoutValidation(EnvoyHeaders.ExpectedRequestTimeoutMs, state.Attempt > 1 && state.Timeout > TimeSpan.Zero ? RetryExpectedTimeout(state, time) : expected);
        }

        var newHost = plan.HostRewrite == HostRewriteMode.Auto
            ? context.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.Model.Config.Host is { Length: > 0 } hostname ? hostname : null
            : RouterHeaders.RouteRewrittenHost(state, context.HttpContext.Request.Headers);
        // A weighted entry's host_rewrite_literal is set first (without x-forwarded-host); the route's rewrite replaces it.
        var entryHost = route.EntryHostRewrite;
        if (newHost is not null)
        {
            if (plan.AppendXForwardedHost)
            {
                AppendForwardedHost(headers, entryHost ?? context.HttpContext.Request.Headers.Host.ToString());
            }
            headers.Host = newHost;
        }
        else if (entryHost is not null)
        {
            headers.Host = entryHost;
        }
        if (headers.Host is null && headers.Contains(HeaderNames.Host))
        {
            // An empty Host (Envoy forwards it as is): SocketsHttpHandler cannot send one, and would add the
            // destination's beside it. Only the destination's goes.
            headers.Remove(HeaderNames.Host);
        }

        // The upstream gets the path the route matched, byte for byte (YARP would rebuild it from Kestrel's decoded
        // Request.Path): only a route rewrite changes it.
        var pathAndQuery = RouterHeaders.RoutedPathAndQuery(state);
        if (!ReferenceEquals(pathAndQuery, state.PathAndQuery) && !state.Listener.ConnectionManager.SuppressEnvoyHeaders)
        {
            headers.TryAddWithoutValidation(EnvoyHeaders.OriginalPath, state.PathAndQuery);
        }
        context.ProxyRequest.RequestUri = UpstreamUri(context.DestinationPrefix, pathAndQuery);

        var cluster = state.Cluster;
        // From here the attempt is on a connection: its outcome charges upstream_rq_total (UpstreamAccounting).
        UpstreamAccounting.AttemptStarted(cluster.Stats);
        state.OnConnection = true;
        state.StreamInfo.OnUpstreamTxStarted();
        if (context.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
        {
            state.Host = cluster.Host(destination);
            state.Host.RequestStarted();
        }
        UseHttpsForTls(context.ProxyRequest, cluster, state.Host);
        if (state.Listener.Tracing is { } tracing)
        {
            // YARP's own propagator is off (GatewayHttpClientFactory): the span's headers are the only ones.
            Gateway.Tracing.HttpTracing.OnUpstreamRequest(tracing, state, context.ProxyRequest);
        }
        if (state.Listener.ConnectionManager.FlushUpstreamLogOnUpstreamStream)
        {
            // Envoy's onPoolReady with flush_upstream_log_on_upstream_stream: the attempt has its host, no response yet.
            RouterFilter.LogUpstream(context.HttpContext, state, 0, AccessLogType.UpstreamPoolReady);
        }
        // From here to the response, nothing a periodic entry reads changes.
        state.StreamInfo.Periodic?.AwaitResponse(state);
        return default;
    }

    /// <summary>
    /// Envoy's updateAuthority with <c>append_x_forwarded_host</c>: the old Host appended (comma-separated) unless it is
    /// already the last value (<c>append_xfh_idempotent</c>).
    /// </summary>
    private static void AppendForwardedHost(System.Net.Http.Headers.HttpRequestHeaders headers, string oldHost)
    {
        if (oldHost.Length == 0)
        {
            return;
        }
        if (!headers.TryGetValues(EnvoyHeaders.ForwardedHost, out var existing))
        {
            headers.TryAddWithoutValidation(EnvoyHeaders.ForwardedHost, oldHost);
            return;
        }
        var current = string.Join(',', existing);
        var last = current.AsSpan(current.LastIndexOf(',') + 1);
        if (last.SequenceEqual(oldHost))
        {
            return;
        }
        headers.Remove(EnvoyHeaders.ForwardedHost);
        headers.TryAddWithoutValidation(EnvoyHeaders.ForwardedHost, current + "," + oldHost);
    }

    /// <summary>Without canonicalization, System.Uri (and so SocketsHttpHandler's request line) keeps the path as given: no dot-segment removal, no unescaping, no '\' to '/'.</summary>
    private static readonly UriCreationOptions VerbatimPath = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>The destination (<c>http://host:port</c>) followed by the path and query exactly as given.</summary>
    internal static Uri UpstreamUri(string destinationPrefix, string pathAndQuery)
    {
        var prefix = destinationPrefix.AsSpan();
        if (prefix.Length > 0 && prefix[^1] == '/')
        {
            prefix = prefix[..^1];
        }
        return new Uri(string.Concat(prefix, pathAndQuery), in VerbatimPath);
    }

    /// <summary>On a retry Envoy sends the time the route timeout still leaves, if shorter (FilterUtility::setTimeoutHeaders).</summary>
    private static string RetryExpectedTimeout(UpstreamRequest state, TimeProvider time)
    {
        var expected = state.Timeouts.Expected;
        var left = state.Timeout - time.GetElapsedTime(state.StartTimestamp);
        var value = left < expected ? left : expected;
        return ((long)Math.Max(0, value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>Router response headers: the retry decision on a response, then upstream service time and the server header; counts the response code.</summary>
internal sealed class EnvoyResponseTransform(TimeProvider time) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var state = context.HttpContext.Features.Get<RequestStreamInfo>()?.Upstream;
        if (state is null)
        {
            return default;
        }
        // The response is being changed from here (status and headers copied, the router's headers, the encoders).
        state.StreamInfo.Periodic?.ResponseArrived();
        if (context.ProxyResponse is not { } upstream)
        {
            return default;
        }
        var status = (int)upstream.StatusCode;
        state.ResponseStatus = status;
        state.StreamInfo.OnFirstUpstreamRxByteReceived();
        var stats = state.Cluster.Stats;
        var headers = context.HttpContext.Response.Headers;
        if (state.Retry is { } retry && RetryDecisions.TryScheduleRetry(state, RetryDecisions.RetriesResponse(retry, state, status, headers)))
        {
            if (retry.RateLimitedBackOff is { } rateLimited)
            {
                state.RateLimitedBackOff = RetryDecisions.RateLimitedInterval(rateLimited, headers, time.GetUtcNow());
            }
            // Held back, never sent to the client: the router tries again after the back-off.
            UpstreamAccounting.HeldForRetry(stats, status, state);
            state.HeldForRetry = true;
            context.SuppressResponseBody = true;
            return default;
        }
        UpstreamAccounting.Response(stats, status, state.Internal, state.HealthCheck, state);
        return RouterHeaders.FinalizeResponseAsync(context.HttpContext, state, time);
    }

}
