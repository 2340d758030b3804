namespace Gateway.Stats;

/// <summary>
/// The codecs' stats Envoy keeps at the root scope (<c>http1.*</c>, <c>http2.*</c>, shared by every listener), those the
/// gateway charges: the request headers with underscores dropped or refused (<c>headers_with_underscores_action</c>).
/// Registered by a connection manager that acts on them, so other configurations list none.
/// </summary>
internal sealed class CodecStats(StatsStore store)
{
    public Counter Http1DroppedHeadersWithUnderscores { get; } = store.Counter("http1.dropped_headers_with_underscores");

    public Counter Http1RequestsRejectedWithUnderscoresInHeaders { get; } = store.Counter("http1.requests_rejected_with_underscores_in_headers");

    public Counter Http2DroppedHeadersWithUnderscores { get; } = store.Counter("http2.dropped_headers_with_underscores");

    public Counter Http2RequestsRejectedWithUnderscoresInHeaders { get; } = store.Counter("http2.requests_rejected_with_underscores_in_headers");
}
