using System.Net;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks an address the gateway binds (admin, listeners): a TCP socket address with an IP and a port.</summary>
internal sealed class BindAddressValidator(ValidationContext context)
{
    /// <summary>Checks the address in <paramref name="field"/> of <paramref name="owner"/>.</summary>
    /// <returns>The port when it is a usable non-zero port, else null.</returns>
    public uint? Validate(EnvoyMessage owner, Address? address, string field)
    {
        if (address?.SocketAddress is not { } socket)
        {
            if (address is null)
            {
                context.Error(owner, field, $"'{field}' is required");
            }
            else if (!address.HasBindingErrors)
            {
                context.Error(owner, field, "'socket_address' is required");
            }
            return null;
        }
        if (socket.Protocol != SocketProtocol.Tcp)
        {
            context.Error(socket, "protocol", "only TCP listeners are supported; UDP is not supported by this gateway yet");
        }
        if (string.IsNullOrEmpty(socket.Address) || !IPAddress.TryParse(socket.Address, out _))
        {
            context.Error(socket, "address", $"malformed IP address: '{socket.Address}' (a listener binds an IP address, not a host name)");
        }
        if (socket.PortValue is not { } port)
        {
            context.Error(socket, "port_value", "'port_value' is required");
            return null;
        }
        if (port > 65535)
        {
            context.Error(socket, "port_value", $"port {port} is out of range (0-65535)");
            return null;
        }
        return port == 0 ? null : port;
    }
}
