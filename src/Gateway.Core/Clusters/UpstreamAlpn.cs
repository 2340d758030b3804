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

/// <summary>Thrown by the connect callback when ALPN chose HTTP/1.1 for a connection opened for HTTP/2 (auto_config).</summary>
internal sealed class AlpnFallbackException() : Exception("the upstream negotiated HTTP/1.1 by ALPN");

/// <summary>
/// Wraps an <c>auto_config</c> cluster's handler: a request whose connection negotiated HTTP/1.1 (nothing was sent on it)
/// is sent again as HTTP/1.1. Later requests to that host are HTTP/1.1 from the start (<see cref="UpstreamHost.NegotiatedHttp1"/>).
/// </summary>
internal sealed class AlpnFallbackHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsFallback(e) && UpstreamConnections.NegotiatesAlpn(request))
        {
            request.Version = System.Net.HttpVersion.Version11;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsFallback(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is AlpnFallbackException)
            {
                return true;
            }
        }
        return false;
    }
}
