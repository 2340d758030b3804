using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.EndToEnd;

/// <summary>Free TCP ports on 127.0.0.1, asked from the OS (port 0), so parallel tests never share a fixed port.</summary>
internal static class FreePort
{
    /// <summary>A port that was free a moment ago.</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Several distinct free ports.</summary>
    public static int[] Next(int count)
    {
        var sockets = new Socket[count];
        try
        {
            var ports = new int[count];
            for (var i = 0; i < count; i++)
            {
                sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets[i].Bind(new IPEndPoint(IPAddress.Loopback, 0));
                ports[i] = ((IPEndPoint)sockets[i].LocalEndPoint!).Port;
            }
            return ports;
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }
}
