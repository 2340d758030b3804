using System.Net;
using System.Text;
using Gateway.Hosting;
using Gateway.Translation;

namespace Gateway.Admin;

/// <summary>
/// <c>/listeners</c> (listeners_handler.cc): one <c>name::ip:port</c> line per listener with the address it is
/// really bound to (port 0 resolved), or <c>?format=json</c>, the <c>envoy.admin.v3.Listeners</c> proto.
/// </summary>
internal sealed class ListenersHandler(IEnvoyGateway gateway)
{
    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/listeners", "print listener info", false, [new AdminParam("format", "File format to use", ["text", "json"])], Listeners),
    ];

    private AdminResponse Listeners(AdminRequest request)
    {
        if (request.Value("format") == "json")
        {
            var statuses = new ProtoList();
            foreach (var (name, address, port) in Bound())
            {
                statuses.Add(new ProtoObject()
                    .Add("name", ProtoJson.String(name))
                    .Add("local_address", SocketAddress(address, port)));
            }
            var root = new ProtoObject();
            if (statuses.Items.Count > 0)
            {
                root.Add("listener_statuses", statuses);
            }
            return AdminResponse.Json(root.ToPrettyString());
        }

        var text = new StringBuilder();
        foreach (var (name, address, port) in Bound())
        {
            text.Append(name).Append("::").Append(EnvoyTranslator.FormatHostPort(address, port)).Append('\n');
        }
        return AdminResponse.Ok(text.ToString());
    }

    /// <summary><c>envoy.config.core.v3.Address</c> of an IP and port.</summary>
    public static ProtoObject SocketAddress(string address, int port)
    {
        var socket = new ProtoObject();
        if (address.Length > 0)
        {
            socket.Add("address", ProtoJson.String(address));
        }
        socket.Add("port_value", ProtoJson.Number(port));
        return new ProtoObject().Add("socket_address", socket);
    }

    private IEnumerable<(string Name, string Address, int Port)> Bound()
    {
        foreach (var listener in gateway.Plan.Listeners)
        {
            if (gateway.ListenerBoundEndPoint(listener.Name) is IPEndPoint bound)
            {
                yield return (listener.Name, bound.Address.ToString(), bound.Port);
            }
            else
            {
                yield return (listener.Name, listener.Address, listener.Port);
            }
        }
    }
}
