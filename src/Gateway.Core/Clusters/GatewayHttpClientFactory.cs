using System.Globalization;
using Gateway.Translation;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Clusters;

/// <summary>
/// YARP's per-cluster HTTP client, with Envoy's cluster settings: <c>connect_timeout</c>, and the connection
/// stats of <see cref="UpstreamConnections"/>.
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, ClusterRegistry clusters)
    : ForwarderHttpClientFactory(logger)
{
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
        => base.CanReuseOldClient(context)
           && context.OldMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata) == context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        TimeSpan? connectTimeout = null;
        if (context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds))
        {
            connectTimeout = TimeSpan.FromMilliseconds(milliseconds);
        }
        UpstreamConnections.Configure(handler, clusters.GetOrCreate(context.ClusterId), connectTimeout);
    }
}
