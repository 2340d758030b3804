using System.Net;
using Gateway.Translation;

namespace Gateway.Hosting;

/// <summary>The running gateway, as an embedding application or the host process sees it.</summary>
public interface IEnvoyGateway
{
    /// <summary>The plan currently applied.</summary>
    GatewayPlan Plan { get; }

    /// <summary>Where the admin API is bound once the server has started (port 0 resolved); null without <c>admin</c>.</summary>
    IPEndPoint? AdminBoundEndPoint { get; }

    /// <summary>Where a listener is bound once the server has started (port 0 resolved).</summary>
    IPEndPoint? ListenerBoundEndPoint(string listenerName);
}
