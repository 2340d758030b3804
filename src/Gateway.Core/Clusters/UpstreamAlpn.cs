namespace Gateway.Clusters;

/// <summary>What a new upstream TLS connection offers in ALPN.</summary>
internal enum UpstreamAlpn
{
    /// <summary><c>http/1.1</c> when the context's <c>alpn_protocols</c> has it (HTTP/1.1 clusters).</summary>
    Http1,

    /// <summary><c>h2</c> (HTTP/2 clusters; Envoy's fallback when <c>alpn_protocols</c> is empty).</summary>
    Http2,

    /// <summary><c>h2</c> then <c>http/1.1</c>: the upstream chooses (<c>auto_config</c>).</summary>
    Auto,
}
