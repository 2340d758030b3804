using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Envoy's checks of zone-aware routing: the local cluster (ClusterManagerImpl: it must be a defined cluster; its
/// endpoints all at priority 0), the common and typed <c>zone_aware_lb_config</c> (Percent's proto range) and the
/// one-of it shares with <c>locality_weighted_lb_config</c>.
/// </summary>
internal static class ZoneAwareValidation
{
    /// <summary><c>cluster_manager.local_cluster_name</c>, after every cluster was validated.</summary>
    public static void ValidateLocalCluster(ValidationContext context, Bootstrap bootstrap)
    {
        if (bootstrap.ClusterManager is not { LocalClusterName: { Length: > 0 } name } manager)
        {
            return;
        }
        Cluster? local = null;
        foreach (var cluster in bootstrap.StaticResources?.Clusters ?? [])
        {
            if (cluster.Name == name)
            {
                local = cluster;
                break;
            }
        }
        if (local is null)
        {
            if (context.ClusterNamesComplete)
            {
                context.Error(manager, "local_cluster_name", $"local cluster '{name}' must be defined");
            }
            return;
        }
        foreach (var locality in local.LoadAssignment?.Endpoints ?? [])
        {
            if (locality.Priority > 0)
            {
                // Envoy routes by zone over the local cluster's single host set (priority 0).
                context.Error(locality, "priority", $"Unexpected non-zero priority for local cluster '{name}'.");
            }
        }
    }

    /// <summary><c>common_lb_config.zone_aware_lb_config</c>.</summary>
    public static void ValidateCommon(ValidationContext context, Cluster cluster, CommonLbConfig common)
    {
        if (common.ZoneAwareLbConfig is not { } zone)
        {
            return;
        }
        if (common.LocalityWeightedLbConfig is not null)
        {
            context.Error(common, "zone_aware_lb_config", "common_lb_config takes only one of zone_aware_lb_config, locality_weighted_lb_config (a one-of)");
        }
        if (cluster.LoadBalancingPolicy is null && cluster.LbPolicy is LbPolicy.RingHash or LbPolicy.Maglev)
        {
            // Envoy's consistent-hashing load balancers do not route by zone: a setting that does nothing is refused here.
            context.Error(common, "zone_aware_lb_config", $"'zone_aware_lb_config' has no effect with lb_policy {BootstrapValidator.EnumName(cluster.LbPolicy)} (consistent-hashing load balancers do not route by zone); remove it");
        }
        ValidateRoutingEnabled(context, zone.RoutingEnabled);
    }

    /// <summary>A typed policy's <c>locality_lb_config</c>: its one-of is required.</summary>
    public static void ValidateTyped(ValidationContext context, CommonLocalityLbConfig? locality)
    {
        if (locality is null)
        {
            return;
        }
        if (locality.ZoneAwareLbConfig is null && locality.LocalityWeightedLbConfig is null)
        {
            if (!locality.HasBindingError("zone_aware_lb_config") && !locality.HasBindingError("locality_weighted_lb_config"))
            {
                context.Error(locality, "Proto constraint validation failed (LocalityLbConfigValidationError.LocalityConfigSpecifier: value is required)");
            }
            return;
        }
        if (locality.ZoneAwareLbConfig is { } zone)
        {
            if (locality.LocalityWeightedLbConfig is not null)
            {
                context.Error(locality, "zone_aware_lb_config", "locality_lb_config takes only one of zone_aware_lb_config, locality_weighted_lb_config (a one-of)");
            }
            ValidateRoutingEnabled(context, zone.RoutingEnabled);
        }
    }

    /// <summary>Percent's proto constraint (envoy/type/v3/percent.proto): value in [0, 100].</summary>
    private static void ValidateRoutingEnabled(ValidationContext context, Percent? routingEnabled)
    {
        if (routingEnabled is { } percent && percent.Value is < 0 or > 100 or double.NaN)
        {
            context.Error(percent, "value", $"'routing_enabled' must be a percentage in [0, 100], not {percent.Value.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
