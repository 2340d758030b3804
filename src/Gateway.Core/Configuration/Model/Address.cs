namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.Address</c>.</summary>
[EnvoyType("envoy.config.core.v3.Address", NotSupported = ["pipe", "envoy_internal_address"])]
public sealed class Address : EnvoyMessage
{
    /// <summary>An IP or DNS name and a port.</summary>
    public SocketAddress? SocketAddress { get; set; }
}

/// <summary><c>envoy.config.core.v3.SocketAddress</c>.</summary>
[EnvoyType("envoy.config.core.v3.SocketAddress", NotSupported =
    ["named_port", "resolver_name", "ipv4_compat", "network_namespace_filepath"])]
public sealed class SocketAddress : EnvoyMessage
{
    /// <summary>Transport protocol; only TCP is supported.</summary>
    public SocketProtocol Protocol { get; set; }

    /// <summary>IP address, or for DNS clusters a host name.</summary>
    public string? Address { get; set; }

    /// <summary>The port.</summary>
    public uint? PortValue { get; set; }
}

/// <summary><c>envoy.config.core.v3.SocketAddress.Protocol</c>.</summary>
public enum SocketProtocol
{
    /// <summary>TCP.</summary>
    Tcp = 0,

    /// <summary>UDP (not supported).</summary>
    Udp = 1,
}
