using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners.Upgrades;

/// <summary>
/// Whether an upgrade request may go on (Envoy's createUpgradeFilterChain over the route's and the connection manager's
/// upgrade maps) and, when it may, what Envoy does as the upgrade filter chain is made: <c>downstream_cx_upgrades_total</c>
/// and <c>_active</c> (the caller lowers the gauge when the stream ends) and the tunnel's byte counting.
/// </summary>
internal static class UpgradeAdmission
{
    /// <summary>Admits or refuses the upgrade of <paramref name="context"/>'s request, on the route selected for it (null: none).</summary>
    public static bool Admit(HttpContext context, ListenerRuntime listener, RouteRuntime? route, bool connect)
    {
        var type = connect ? Validation.UpgradeConfigValidator.Connect : UpgradeType(context);
        if (!UpgradePlan.Allows(listener.ConnectionManager.Upgrades, route?.Plan.Upgrades, type))
        {
            return false;
        }
        listener.Stats.DownstreamCxUpgradesTotal.Increment();
        listener.Stats.DownstreamCxUpgradesActive.Increment();
        if (context.Features.Get<RequestStreamInfo>() is { } info)
        {
            UpgradeStreams.Install(context, info, listener);
        }
        return true;
    }

    /// <summary>
    /// After the router: a tunnel YARP closed for inactivity (its activity timeout, the cluster's 5 minutes, standing in
    /// for Envoy's default stream_idle_timeout) is Envoy's onIdleTimeout on an upgraded stream: counted, flagged SI, reset.
    /// </summary>
    public static void OnTunnelEnded(HttpContext context, ListenerRuntime listener, RequestStreamInfo info)
    {
        if (context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>()?.Error == Yarp.ReverseProxy.Forwarder.ForwarderError.UpgradeActivityTimeout)
        {
            listener.Stats.DownstreamRqIdleTimeout.Increment();
            info.SetResponseFlag(Filters.ResponseFlags.StreamIdleTimeout);
            info.Details = "stream_idle_timeout";
        }
    }

    /// <summary>The upgrade's type: HTTP/2 extended CONNECT's <c>:protocol</c> (Envoy's codec turns it into <c>upgrade</c>), else the <c>upgrade</c> header.</summary>
    private static string UpgradeType(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: { } protocol })
        {
            return protocol;
        }
        var upgrade = context.Request.Headers.Upgrade;
        return upgrade.Count == 0 ? string.Empty : upgrade[0] ?? string.Empty;
    }
}
