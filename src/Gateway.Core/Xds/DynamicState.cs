using Gateway.Configuration;

namespace Gateway.Xds;

/// <summary>One accepted xDS resource: what <c>/config_dump</c> lists (version, time) and a digest telling an unchanged resource.</summary>
internal sealed record XdsResource<T>(string Name, T Resource, string Version, DateTimeOffset LastUpdated, string Digest)
    where T : EnvoyMessage;

/// <summary>Identifies an RDS subscription: its source (a file, the ADS stream, a server) and the route configuration's name (Envoy shares one per source and name).</summary>
internal readonly record struct RdsKey(string Source, string RouteConfigName);

/// <summary>
/// What xDS has given and the gateway accepted, beside the bootstrap's static resources: immutable, replaced as a whole
/// when an update is applied (a request sees the plan made from one state or the next, never a mix).
/// </summary>
internal sealed record DynamicState(
    IReadOnlyList<XdsResource<Cluster>> Clusters,
    IReadOnlyList<XdsResource<Listener>> Listeners,
    IReadOnlyDictionary<RdsKey, XdsResource<RouteConfiguration>> Routes,
    IReadOnlyDictionary<string, XdsResource<ClusterLoadAssignment>> Endpoints)
{
    public static DynamicState Empty { get; } = new([], [], new Dictionary<RdsKey, XdsResource<RouteConfiguration>>(), new Dictionary<string, XdsResource<ClusterLoadAssignment>>(StringComparer.Ordinal));

    /// <summary>The <c>version_info</c> of the last CDS response applied (null before one).</summary>
    public string? CdsVersion { get; init; }

    /// <summary>The <c>version_info</c> of the last LDS response applied (null before one).</summary>
    public string? LdsVersion { get; init; }

    /// <summary>The errors of the last rejected LDS update per listener name (<c>/config_dump</c>'s <c>error_state</c>).</summary>
    public IReadOnlyDictionary<string, XdsUpdateFailure> ListenerErrors { get; init; } = new Dictionary<string, XdsUpdateFailure>(StringComparer.Ordinal);

    /// <summary>
    /// The CDS clusters waiting for their first EDS assignment over gRPC (Envoy's warming clusters): in the state (and
    /// validated with it) but not used until the assignment arrives or the subscription's initial fetch timed out.
    /// </summary>
    public IReadOnlySet<string> WarmingClusters { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The errors of the last rejected CDS update per cluster name.</summary>
    public IReadOnlyDictionary<string, XdsUpdateFailure> ClusterErrors { get; init; } = new Dictionary<string, XdsUpdateFailure>(StringComparer.Ordinal);
}

/// <summary>Envoy's UpdateFailureState: the refused resource, why, when, and the version it came with.</summary>
internal sealed record XdsUpdateFailure(EnvoyMessage Resource, string Details, DateTimeOffset LastUpdateAttempt, string Version);
