using Wire = Gateway.Xds.Wire;

namespace Gateway.Xds;

/// <summary>
/// Envoy's GrpcMuxImpl, state of the world (<c>GRPC</c>, <c>AGGREGATED_GRPC</c>): per type the names watched (none: a
/// wildcard, CDS and LDS), the last accepted <c>version_info</c> and the last nonce; every response is answered with an
/// ACK (its version and nonce) or a NACK (the previous version, its nonce and <c>error_detail</c>). A wildcard watch
/// gets every response; a named one (EDS, RDS) only those holding its resource.
/// </summary>
internal sealed class SotwGrpcMux(Configuration.ApiConfigSource source, string service, string method, GrpcMuxContext context)
    : GrpcMux<Wire.DiscoveryRequest, Wire.DiscoveryResponse>(source, service, method, context, Wire.DiscoveryRequest.Parser, Wire.DiscoveryResponse.Parser)
{
    protected override bool ShouldRequestAfterRemove(TypeState state) => state.Names.Count > 0;

    protected override void OnNewStream(TypeState state) => state.Nonce = string.Empty;

    protected override Wire.DiscoveryRequest BuildRequest(TypeState state, Wire.Node? node, Wire.Status? errorDetail)
    {
        // SotW says the whole set each time: the delta bookkeeping is not needed.
        state.ToSubscribe.Clear();
        state.ToUnsubscribe.Clear();
        var request = new Wire.DiscoveryRequest { VersionInfo = state.Version, TypeUrl = state.TypeUrl, ResponseNonce = state.Nonce, Node = node, ErrorDetail = errorDetail };
        if (state.Names.Count > 0)
        {
            request.ResourceNames.AddRange(new SortedSet<string>(state.Names.Keys, StringComparer.Ordinal));
        }
        return request;
    }

    protected override void OnResponse(Wire.DiscoveryResponse response)
    {
        SetIdentifier(response.ControlPlane);
        if (WatchesOf(response.TypeUrl, out var state) is not { } watches)
        {
            return;
        }
        // A wildcard watch gets every response, an empty one too (state of the world); EDS and RDS watches only those
        // with their resource.
        var error = DecodeAndDeliver(response.TypeUrl, response.VersionInfo, response.Nonce, response.Resources, watches,
            (watch, decoded) => PartFor(watch, decoded) is { } part ? watch.Deliver(part) : null, out _, out var held);
        lock (Sync)
        {
            if (error is null)
            {
                state!.Version = response.VersionInfo;
            }
            Answer(state!, response.TypeUrl, response.Nonce, error, held);
        }
    }
}
