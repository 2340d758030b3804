using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Wire = Gateway.Xds.Wire;

namespace Gateway.Xds;

/// <summary>
/// Envoy's NewGrpcMuxImpl and DeltaSubscriptionState, incremental (<c>DELTA_GRPC</c>, <c>AGGREGATED_DELTA_GRPC</c>):
/// a type's first request on a stream subscribes to its names (none: the legacy wildcard, CDS and LDS) with the
/// versions held (<c>initial_resource_versions</c>); later ones name only what was subscribed or unsubscribed since.
/// A response holds the resources that changed and the names removed; it is answered with its nonce (ACK) or with
/// <c>error_detail</c> too (NACK, the versions held unchanged). A wildcard watch gets the changes (the manager applies
/// them to what it holds as one state of the world); a named watch gets its resource when it is there, and a removal of
/// one is ignored, as Envoy's EDS and RDS do.
/// </summary>
internal sealed partial class DeltaGrpcMux(ApiConfigSource source, string service, string method, GrpcMuxContext context)
    : GrpcMux<Wire.DeltaDiscoveryRequest, Wire.DeltaDiscoveryResponse>(source, service, method, context, Wire.DeltaDiscoveryRequest.Parser, Wire.DeltaDiscoveryResponse.Parser)
{
    // Unsubscribing is said to the server, whatever is left.
    protected override bool ShouldRequestAfterRemove(TypeState state) => true;

    protected override void OnNewStream(TypeState state)
    {
        state.Nonce = string.Empty;
        state.FirstOnStream = true;
    }

    protected override Wire.DeltaDiscoveryRequest BuildRequest(TypeState state, Wire.Node? node, Wire.Status? errorDetail)
    {
        var request = new Wire.DeltaDiscoveryRequest { TypeUrl = state.TypeUrl, ResponseNonce = state.Nonce, Node = node, ErrorDetail = errorDetail };
        // A nonce is acknowledged once; later requests of the type are not ACKs.
        state.Nonce = string.Empty;
        if (state.FirstOnStream)
        {
            state.FirstOnStream = false;
            request.ResourceNamesSubscribe.AddRange(new SortedSet<string>(state.Names.Keys, StringComparer.Ordinal));
            foreach (var (name, version) in state.ResourceVersions)
            {
                request.InitialResourceVersions[name] = version;
            }
        }
        else
        {
            request.ResourceNamesSubscribe.AddRange(Sorted(state.ToSubscribe));
            request.ResourceNamesUnsubscribe.AddRange(Sorted(state.ToUnsubscribe));
        }
        state.ToSubscribe.Clear();
        state.ToUnsubscribe.Clear();
        return request;
    }

    private static SortedSet<string> Sorted(HashSet<string> names) => new(names, StringComparer.Ordinal);

    protected override void OnResponse(Wire.DeltaDiscoveryResponse response)
    {
        SetIdentifier(response.ControlPlane);
        if (WatchesOf(response.TypeUrl, out var state) is not { } watches)
        {
            return;
        }
        var resources = new List<Google.Protobuf.WellKnownTypes.Any>(response.Resources.Count);
        var versions = new List<(string Name, string Version)>(response.Resources.Count);
        foreach (var resource in response.Resources)
        {
            // A resource without its body only refreshes a TTL, which this gateway does not keep.
            if (resource.Resource_ is { } any)
            {
                resources.Add(any);
                versions.Add((resource.Name, resource.Version));
            }
        }
        var removed = response.RemovedResources;
        var error = DecodeAndDeliver(response.TypeUrl, response.SystemVersionInfo, response.Nonce, resources, watches, (watch, decoded) =>
        {
            if (watch.ResourceName is null)
            {
                return watch.DeliverDelta(decoded, removed);
            }
            if (PartFor(watch, decoded) is { } part)
            {
                return watch.Deliver(part);
            }
            if (removed.Contains(watch.ResourceName))
            {
                LogRemovalIgnored(Context.Logger, response.TypeUrl, watch.ResourceName);
            }
            return null;
        }, out var decoded, out var held);
        lock (Sync)
        {
            if (error is null)
            {
                for (var i = 0; i < versions.Count; i++)
                {
                    var name = versions[i].Name.Length > 0 ? versions[i].Name : GrpcMux.NameOf(decoded!.Resources[i]) ?? string.Empty;
                    state!.ResourceVersions[name] = versions[i].Version;
                }
                foreach (var name in response.RemovedResources)
                {
                    state!.ResourceVersions.Remove(name);
                }
            }
            Answer(state!, response.TypeUrl, response.Nonce, error, held);
        }
    }

    [LoggerMessage(EventId = LogEvents.XdsDeltaRemovalIgnored, Level = LogLevel.Warning, Message = "Server sent a delta {TypeUrl} update attempting to remove a resource (name: {Name}). Ignoring.")]
    private static partial void LogRemovalIgnored(ILogger logger, string typeUrl, string name);
}
