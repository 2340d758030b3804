using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks an <c>envoy.filters.network.tcp_proxy</c> configuration as Envoy's proto constraints do. A cluster name that
/// no cluster has is not an error (Envoy looks the cluster up per connection: <c>downstream_cx_no_route</c>).
/// </summary>
internal sealed class TcpProxyValidator(ValidationContext context)
{
    public void Validate(TcpProxyConfig proxy)
    {
        if (string.IsNullOrEmpty(proxy.StatPrefix))
        {
            context.Error(proxy, "stat_prefix", "'stat_prefix' is required");
        }
        var hasCluster = !string.IsNullOrEmpty(proxy.Cluster);
        if (hasCluster && proxy.WeightedClusters is not null)
        {
            context.Error(proxy, "weighted_clusters", "only one of 'cluster' or 'weighted_clusters' may be set (they are a oneof)");
        }
        else if (!hasCluster && proxy.WeightedClusters is null)
        {
            context.Error(proxy, "cluster", "one of 'cluster' or 'weighted_clusters' is required");
        }
        if (proxy.WeightedClusters is { } weighted)
        {
            if (weighted.Clusters.Count == 0)
            {
                context.Error(weighted, "clusters", "'clusters' needs at least 1 item");
            }
            foreach (var entry in weighted.Clusters)
            {
                if (string.IsNullOrEmpty(entry.Name))
                {
                    context.Error(entry, "name", "'name' is required");
                }
                if (entry.Weight == 0)
                {
                    context.Error(entry, "weight", "'weight' must be at least 1");
                }
            }
        }
        if (proxy.MaxConnectAttempts == 0)
        {
            context.Error(proxy, "max_connect_attempts", "'max_connect_attempts' must be at least 1");
        }
        if (proxy.MaxDownstreamConnectionDuration is { } duration && duration < TimeSpan.FromMilliseconds(1))
        {
            context.Error(proxy, "max_downstream_connection_duration", "'max_downstream_connection_duration' must be at least 1ms");
        }
        if (proxy.IdleTimeout is { } idle && idle < TimeSpan.Zero)
        {
            context.Error(proxy, "idle_timeout", "'idle_timeout' must not be negative");
        }
        if (proxy.HashPolicy.Count > 1)
        {
            context.Error(proxy, "hash_policy", "'hash_policy' takes at most 1 item");
        }
        foreach (var policy in proxy.HashPolicy)
        {
            if (policy.SourceIp is null && !policy.HasBindingError("filter_state"))
            {
                context.Error(policy, "source_ip", "a hash policy needs 'source_ip' (the policy_specifier oneof is required)");
            }
        }
        CheckFlushInterval(proxy, proxy.AccessLogFlushInterval);
        if (proxy.AccessLogOptions is { } options)
        {
            CheckFlushInterval(options, options.AccessLogFlushInterval);
        }
        new AccessLogValidator(context).Validate(proxy.AccessLog);
    }

    /// <summary>Envoy's proto constraint on <c>access_log_flush_interval</c>: <c>gte {nanos: 1000000}</c>.</summary>
    private void CheckFlushInterval(EnvoyMessage message, TimeSpan? interval)
    {
        if (interval is { } value && value < TimeSpan.FromMilliseconds(1))
        {
            context.Error(message, "access_log_flush_interval", "'access_log_flush_interval' must be at least 1ms");
        }
    }
}
