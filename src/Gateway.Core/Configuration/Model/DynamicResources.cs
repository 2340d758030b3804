namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.bootstrap.v3.Bootstrap.DynamicResources</c>: where listeners and clusters come from besides the
/// bootstrap: files, a gRPC stream per type, or one aggregated stream (<c>ads_config</c>); the xdstp locators fail the
/// load by path.
/// </summary>
[EnvoyType("envoy.config.bootstrap.v3.Bootstrap.DynamicResources", NotSupported = ["lds_resources_locator", "cds_resources_locator"])]
public sealed class DynamicResources : EnvoyMessage
{
    /// <summary>The aggregated (ADS) stream the sources with <c>ads: {}</c> use.</summary>
    [ProtoField(3)]
    public ApiConfigSource? AdsConfig { get; set; }

    /// <summary>Where the listeners come from (LDS).</summary>
    [ProtoField(1)]
    public EnvoyConfigSource? LdsConfig { get; set; }

    /// <summary>Where the clusters come from (CDS).</summary>
    [ProtoField(2)]
    public EnvoyConfigSource? CdsConfig { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.Rds</c>: a connection manager's route table from RDS.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.Rds")]
public sealed class Rds : EnvoyMessage
{
    /// <summary>Where the route configuration comes from.</summary>
    [ProtoField(1)]
    public EnvoyConfigSource? ConfigSource { get; set; }

    /// <summary>The name of the route configuration to use.</summary>
    [ProtoField(2)]
    public string? RouteConfigName { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.EdsClusterConfig</c>: where an EDS cluster's endpoints come from.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.EdsClusterConfig")]
public sealed class EdsClusterConfig : EnvoyMessage
{
    /// <summary>Where the cluster's <c>ClusterLoadAssignment</c> comes from.</summary>
    [ProtoField(1)]
    public EnvoyConfigSource? EdsConfig { get; set; }

    /// <summary>The name the assignment is looked up by (the cluster's name when empty).</summary>
    [ProtoField(2)]
    public string? ServiceName { get; set; }
}
