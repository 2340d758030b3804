using System.Globalization;
using Gateway.Translation;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Clusters;

/// <summary>
/// YARP's per-cluster HTTP client, with Envoy's cluster settings: <c>connect_timeout</c>, and the connection
/// stats of <see cref="UpstreamConnections"/>. A cluster whose TLS follows the request host (<c>auto_sni</c>,
/// <c>auto_san_validation</c>) gets <see cref="HostConnectionPools"/>, one handler configured as this one per host.
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, ClusterRegistry clusters)
    : ForwarderHttpClientFactory(logger)
{
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
        => base.CanReuseOldClient(context)
           && Same(context, EnvoyTranslator.ConnectTimeoutMetadata)
           && Same(context, EnvoyTranslator.HostPoolsMetadata)
           && Same(context, EnvoyTranslator.ProtocolMetadata);

    private static bool Same(ForwarderHttpClientContext context, string key)
        => context.OldMetadata?.GetValueOrDefault(key) == context.NewMetadata?.GetValueOrDefault(key);

    /// <summary>An application's own YARP cluster (beside the gateway's) gets YARP's client unchanged.</summary>
    private static bool IsGatewayCluster(ForwarderHttpClientContext context) => context.NewMetadata?.ContainsKey(EnvoyTranslator.ClusterKindMetadata) == true;

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (!IsGatewayCluster(context))
        {
            return;
        }
        TimeSpan? connectTimeout = null;
        if (context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds))
        {
            connectTimeout = TimeSpan.FromMilliseconds(milliseconds);
        }
        UpstreamConnections.Configure(handler, clusters.GetOrCreate(context.ClusterId), connectTimeout, Protocol(context));
    }

    private static UpstreamProtocolPlan Protocol(ForwarderHttpClientContext context)
        => UpstreamProtocolPlan.FromMetadata(context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ProtocolMetadata));

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        if (!IsGatewayCluster(context))
        {
            return base.WrapHandler(context, handler);
        }
        var cluster = clusters.GetOrCreate(context.ClusterId);
        var protocol = Protocol(context);
        if (context.NewMetadata?.ContainsKey(EnvoyTranslator.HostPoolsMetadata) != true)
        {
            // The client this one replaces may have had host pools: the reload disposes them.
            cluster.AdoptHostPools(null);
            return base.WrapHandler(context, handler);
        }
        // The template never sends: each host's handler is made as YARP makes the cluster's (CreateClient) and configured alike.
        handler.Dispose();
        var pools = new HostConnectionPools(() =>
        {
            var sockets = new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                UseCookies = false,
            };
            ConfigureHandler(context, sockets);
            return sockets;
        }, protocol.IdleTimeout);
        cluster.AdoptHostPools(pools);
        return pools;
    }
}
