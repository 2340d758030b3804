using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary><c>envoy.config.cluster.v3.Cluster.LbSubsetConfig</c>: Envoy's subset load balancer.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.LbSubsetConfig")]
public sealed class LbSubsetConfig : LbSubsetConfigBase<LbSubsetSelector>;

/// <summary>
/// <c>envoy.extensions.load_balancing_policies.subset.v3.Subset</c> (<c>envoy.load_balancing_policies.subset</c>): the
/// subset load balancer as a typed policy, wrapping <see cref="SubsetLbPolicy"/> as the legacy form wraps <c>lb_policy</c>.
/// </summary>
[EnvoyType("envoy.extensions.load_balancing_policies.subset.v3.Subset", NotSupported = ["allow_redundant_keys"])]
public sealed class SubsetPolicy : LbSubsetConfigBase<SubsetPolicySelector>
{
    /// <summary>The policy picking a host within the chosen subset (required).</summary>
    [ProtoField(9)]
    public LoadBalancingPolicy? SubsetLbPolicy { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.subset.v3.Subset.LbSubsetSelector</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.subset.v3.Subset.LbSubsetSelector")]
public sealed class SubsetPolicySelector : LbSubsetSelectorBase;

/// <summary>The fields the legacy <c>lb_subset_config</c> and the typed subset policy share (same names and numbers).</summary>
public abstract class LbSubsetConfigBase<TSelector> : EnvoyMessage
    where TSelector : LbSubsetSelectorBase
{
    /// <summary>What a request whose criteria match no subset gets; default NO_FALLBACK.</summary>
    [ProtoField(1)]
    public LbSubsetFallbackPolicy FallbackPolicy { get; set; }

    /// <summary>The <c>envoy.lb</c> values of the endpoints DEFAULT_SUBSET falls back to (empty: every endpoint).</summary>
    [ProtoField(2)]
    public JsonObject? DefaultSubset { get; set; }

    /// <summary>The key sets subsets are made of.</summary>
    [ProtoField(3)]
    public List<TSelector> SubsetSelectors { get; set; } = [];

    /// <summary>Subsets keep the localities' weights (requires <c>locality_weighted_lb_config</c>).</summary>
    [ProtoField(4)]
    public bool LocalityWeightAware { get; set; }

    /// <summary>With <see cref="LocalityWeightAware"/>, each locality's weight scaled by the share of its hosts in the subset.</summary>
    [ProtoField(5)]
    public bool ScaleLocalityWeight { get; set; }

    /// <summary>When the fallback finds no host, any host of the cluster is tried.</summary>
    [ProtoField(6)]
    public bool PanicModeAny { get; set; }

    /// <summary>An endpoint whose value is a list matches any element of it.</summary>
    [ProtoField(7)]
    public bool ListAsAny { get; set; }

    /// <summary>FALLBACK_LIST: the criteria's <c>fallback_list</c> entries are tried in order until one finds a host.</summary>
    [ProtoField(8)]
    public LbSubsetMetadataFallbackPolicy MetadataFallbackPolicy { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector")]
public sealed class LbSubsetSelector : LbSubsetSelectorBase;

/// <summary>The fields of the two subset selector messages.</summary>
public abstract class LbSubsetSelectorBase : EnvoyMessage
{
    /// <summary>The <c>envoy.lb</c> keys; every endpoint with a value for each of them is in the subset of its values.</summary>
    [ProtoField(1)]
    public List<string> Keys { get; set; } = [];

    /// <summary>This selector's own fallback (NOT_DEFINED: the config's <c>fallback_policy</c>).</summary>
    [ProtoField(2)]
    public LbSubsetSelectorFallbackPolicy FallbackPolicy { get; set; }

    /// <summary>The keys KEYS_SUBSET retries with (a proper subset of <see cref="Keys"/>).</summary>
    [ProtoField(3)]
    public List<string> FallbackKeysSubset { get; set; } = [];

    /// <summary>Each subset is one host (the first endpoint with its value).</summary>
    [ProtoField(4)]
    public bool SingleHostPerSubset { get; set; }
}

/// <summary><c>Cluster.LbSubsetConfig.LbSubsetFallbackPolicy</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum LbSubsetFallbackPolicy
{
    /// <summary>No host (503 <c>no healthy upstream</c>).</summary>
    NO_FALLBACK = 0,

    /// <summary>Any host of the cluster.</summary>
    ANY_ENDPOINT = 1,

    /// <summary>The hosts matching <c>default_subset</c>.</summary>
    DEFAULT_SUBSET = 2,
}

/// <summary><c>Cluster.LbSubsetConfig.LbSubsetSelector.LbSubsetSelectorFallbackPolicy</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum LbSubsetSelectorFallbackPolicy
{
    /// <summary>The config's <c>fallback_policy</c> applies.</summary>
    NOT_DEFINED = 0,

    /// <summary>No host.</summary>
    NO_FALLBACK = 1,

    /// <summary>Any host of the cluster.</summary>
    ANY_ENDPOINT = 2,

    /// <summary>The hosts matching <c>default_subset</c>.</summary>
    DEFAULT_SUBSET = 3,

    /// <summary>The subsets again, with the criteria reduced to <c>fallback_keys_subset</c>.</summary>
    KEYS_SUBSET = 4,
}

/// <summary><c>Cluster.LbSubsetConfig.LbSubsetMetadataFallbackPolicy</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum LbSubsetMetadataFallbackPolicy
{
    /// <summary>The criteria as they are.</summary>
    METADATA_NO_FALLBACK = 0,

    /// <summary>The criteria's <c>fallback_list</c> entries, each merged over the rest, tried in order.</summary>
    FALLBACK_LIST = 1,
}
