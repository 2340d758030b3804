namespace Gateway.Stats;

/// <summary>
/// Envoy's TLS inspector stats (ALL_TLS_INSPECTOR_STATS), rooted at <c>tls_inspector.</c> in the server's scope: every
/// listener's inspector charges the same counters, as in Envoy.
/// </summary>
internal sealed class TlsInspectorStats(StatsStore store)
{
    public Counter ClientHelloTooLarge { get; } = store.Counter("tls_inspector.client_hello_too_large");

    public Counter TlsFound { get; } = store.Counter("tls_inspector.tls_found");

    public Counter TlsNotFound { get; } = store.Counter("tls_inspector.tls_not_found");

    public Counter AlpnFound { get; } = store.Counter("tls_inspector.alpn_found");

    public Counter AlpnNotFound { get; } = store.Counter("tls_inspector.alpn_not_found");

    public Counter SniFound { get; } = store.Counter("tls_inspector.sni_found");

    public Counter SniNotFound { get; } = store.Counter("tls_inspector.sni_not_found");

    /// <summary>Bytes the inspector read before it decided, per connection.</summary>
    public Histogram BytesProcessed { get; } = store.Histogram("tls_inspector.bytes_processed");
}
