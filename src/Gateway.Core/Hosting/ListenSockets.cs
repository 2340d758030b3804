using System.Net;
using System.Net.Sockets;
using Gateway.Translation;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Gateway.Hosting;

/// <summary>
/// Kestrel's listening sockets, created here for the listeners with <c>socket_options</c> (Envoy's listener socket
/// options at STATE_PREBIND and STATE_BOUND): the socket is made as Kestrel makes it, the options before <c>bind()</c> are
/// set, it is bound, then the others; Kestrel then listens on it. Every other endpoint gets Kestrel's own socket.
/// The endpoints are the very instances <see cref="EnvoyGatewayExtensions"/> gave <c>Listen</c>, so two listeners on
/// the same (ephemeral) address cannot be confused.
/// </summary>
internal sealed class ListenSockets
{
    private readonly Dictionary<EndPoint, IReadOnlyList<SocketOptionPlan>> _options = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    /// <summary>Registers <paramref name="endPoint"/>'s options, before Kestrel binds it.</summary>
    public void Register(EndPoint endPoint, IReadOnlyList<SocketOptionPlan> options)
    {
        lock (_lock)
        {
            _options[endPoint] = options;
        }
    }

    /// <summary>The transport's socket factory (<see cref="SocketTransportOptions.CreateBoundListenSocket"/>).</summary>
    public Socket Create(EndPoint endPoint)
    {
        IReadOnlyList<SocketOptionPlan>? options;
        lock (_lock)
        {
            _options.TryGetValue(endPoint, out options);
        }
        return options is null ? SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint) : CreateWithOptions((IPEndPoint)endPoint, options);
    }

    /// <summary>A bound TCP socket with <paramref name="options"/> set around its <c>bind()</c>; a failing option fails the bind, naming it.</summary>
    internal static Socket CreateWithOptions(IPEndPoint endPoint, IReadOnlyList<SocketOptionPlan> options)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel's CreateDefaultBoundListenSocket: dual-mode for the IPv6 any address.
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            Apply(socket, options, bound: false);
            socket.Bind(endPoint);
            Apply(socket, options, bound: true);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void Apply(Socket socket, IReadOnlyList<SocketOptionPlan> options, bool bound)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        foreach (var option in options)
        {
            if (option.Bound != bound)
            {
                continue;
            }
            BitConverter.TryWriteBytes(value, option.Value);
            try
            {
                socket.SetRawSocketOption(option.Level, option.Name, value);
            }
            catch (SocketException ex)
            {
                throw new IOException($"socket option (level {option.Level}, name {option.Name}, int_value {option.Value}) could not be set on the listener's socket: {ex.Message}", ex);
            }
        }
    }
}
