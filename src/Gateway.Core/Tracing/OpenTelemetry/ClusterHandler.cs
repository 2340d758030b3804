using Gateway.Configuration;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// The OTLP exporter's HTTP handler: sends each export through the collector's cluster (the gateway's own client,
/// so the cluster's hosts, balancing, circuit breakers and stats apply, as with Envoy's async client), with the
/// configured <c>Host</c>/<c>:authority</c> and headers (Envoy sets them, replacing any of the same name).
/// </summary>
internal sealed class ClusterHandler(HttpMessageInvoker cluster, string authority, IReadOnlyList<KeyValuePair<string, string>> headers) : HttpMessageHandler
{
    /// <summary>The headers of an <c>http_service</c>'s <c>request_headers_to_add</c> or a <c>grpc_service</c>'s <c>initial_metadata</c>, as given.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> HeadersOf(IEnumerable<HeaderValue?> headers)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var header in headers)
        {
            if (header?.Key is { Length: > 0 } key)
            {
                list.Add(new(key.ToLowerInvariant(), header.Value ?? string.Empty));
            }
        }
        return list;
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Host = authority;
        CollectorHttpService.Apply(request, headers);
        return cluster.SendAsync(request, cancellationToken);
    }

    // The exporter sends HTTP/protobuf synchronously (it runs on the span buffer's own thread); the cluster's client
    // may only be asynchronous, so wait for it there.
    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        => SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    // The cluster's client belongs to the gateway, not to this handler: disposing the exporter leaves it open.
    /// <inheritdoc />
    protected override void Dispose(bool disposing) => base.Dispose(disposing);
}
