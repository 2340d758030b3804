namespace Gateway.Clusters;

/// <summary>
/// What a tcp_proxy connection copies its bytes to and from (Envoy's TcpProxy GenericUpstream): a raw TCP connection to a
/// host (<see cref="TcpUpstreamConnection"/>), or an HTTP stream that tunnels them (<c>tunneling_config</c>).
/// </summary>
internal interface ITcpUpstream
{
    /// <summary>The bytes both ways: a read of 0 is the upstream's end.</summary>
    Stream Stream { get; }

    ClusterRuntime Cluster { get; }

    /// <summary>
    /// True when the connection under the stream counts its own wire bytes (<c>upstream_cx_rx/tx_bytes_total</c>), as the
    /// HTTP client's pooled connections do; false when the copy counts them.
    /// </summary>
    bool CountsConnectionBytes { get; }

    /// <summary>The upstream ended or reset first (<c>upstream_cx_destroy_remote</c> for a TCP connection).</summary>
    bool RemoteClosed { get; set; }

    /// <summary>The downstream's end passed on: the send side is shut (FIN, or the stream's end), the other side keeps reading.</summary>
    ValueTask ShutdownSendAsync();

    /// <summary>Closes it, counted once.</summary>
    void Close();
}
