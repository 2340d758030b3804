using System.Net;
using System.Net.Sockets;

namespace Gateway.Tracing.Zipkin;

/// <summary>
/// The Zipkin endpoint the gateway's spans are recorded at (Envoy's <c>Endpoint(service_name, local address)</c>):
/// the local service name (<c>--service-cluster</c>) and, when known, the local address with port 0.
/// </summary>
internal sealed class ZipkinEndpoint
{
    public ZipkinEndpoint(string serviceName, IPAddress? address)
    {
        ServiceName = serviceName;
        if (address is not null)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }
            IsIPv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
            AddressText = address.ToString();
            AddressBytes = address.GetAddressBytes();
        }
    }

    public string ServiceName { get; }

    /// <summary>The address as text (JSON's <c>ipv4</c>/<c>ipv6</c>), or null.</summary>
    public string? AddressText { get; }

    /// <summary>The address in network order (protobuf's <c>ipv4</c>/<c>ipv6</c> bytes), or null.</summary>
    public byte[]? AddressBytes { get; }

    public bool IsIPv6 { get; }

    /// <summary>Envoy's local address carries port 0.</summary>
    public int Port => 0;
}
