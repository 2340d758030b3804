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
        if (proxy.TunnelingConfig is { } tunneling)
        {
            ValidateTunneling(proxy, tunneling);
        }
    }

    /// <summary>
    /// <c>tunneling_config</c>: Envoy's proto constraints and TunnelingConfigHelper's checks, then what this gateway can send
    /// to each cluster the filter names (Envoy picks the tunnel's protocol from the cluster: HTTP/2 when it speaks HTTP/2).
    /// </summary>
    private void ValidateTunneling(TcpProxyConfig proxy, TcpProxyTunnelingConfig tunneling)
    {
        if (string.IsNullOrEmpty(tunneling.Hostname))
        {
            context.Error(tunneling, "hostname", "'hostname' is required (value length must be at least 1 characters)");
        }
        else
        {
            Formatting.SubstitutionFormatter.Compile(tunneling.Hostname, context, tunneling, "hostname");
        }
        if (!string.IsNullOrEmpty(tunneling.PostPath) && !tunneling.UsePost)
        {
            // Envoy's wording (TunnelingConfigHelperImpl).
            context.Error(tunneling, "post_path", "Can't set a post path when POST method isn't used");
        }
        else if (!string.IsNullOrEmpty(tunneling.PostPath) && (tunneling.PostPath[0] != '/' || tunneling.PostPath.AsSpan().ContainsAny(" \r\n\0\t")))
        {
            context.Error(tunneling, "post_path", $"'post_path' must be a path starting with '/' without spaces or control characters (an origin-form request target), got '{tunneling.PostPath}'");
        }
        Routing.HeaderParser.Validate(tunneling, "headers_to_add", tunneling.HeadersToAdd, "headers_to_add", [], removeMayBeEmpty: false, context);
        if (tunneling.PropagateResponseHeaders)
        {
            context.Error(tunneling, "propagate_response_headers", NoFilterState("propagate_response_headers"));
        }
        if (tunneling.PropagateResponseTrailers)
        {
            context.Error(tunneling, "propagate_response_trailers", NoFilterState("propagate_response_trailers"));
        }
        if (!string.IsNullOrEmpty(proxy.Cluster))
        {
            CheckTunnelProtocol(proxy, tunneling, proxy.Cluster);
        }
        else if (proxy.WeightedClusters is { } weighted)
        {
            foreach (var entry in weighted.Clusters)
            {
                CheckTunnelProtocol(proxy, tunneling, entry.Name);
            }
        }
    }

    private static string NoFilterState(string field)
        => $"'{field}' is not supported by this gateway: Envoy saves them in the connection's filter state (envoy.tcp_proxy.{field}) for other network filters, and this gateway has neither filter state nor network filters besides tcp_proxy";

    /// <summary>
    /// The tunnel the gateway can open to <paramref name="clusterName"/>: an HTTP/1.1 CONNECT or POST to an HTTP/1.1 cluster
    /// and a POST to an HTTP/2 one. Refused: an HTTP/2 CONNECT (.NET's HTTP/2 client writes <c>:scheme</c> and <c>:path</c>
    /// on every request, and a CONNECT that has them is malformed, RFC 9113 section 8.5: servers reset it), and a cluster
    /// whose protocol is chosen per connection (ALPN or the downstream's).
    /// </summary>
    private void CheckTunnelProtocol(TcpProxyConfig proxy, TcpProxyTunnelingConfig tunneling, string? clusterName)
    {
        if (clusterName is null || !context.Clusters.TryGetValue(clusterName, out var cluster))
        {
            return;
        }
        var mode = Translation.UpstreamProtocolPlan.Translate(cluster).Mode;
        var problem = mode switch
        {
            Translation.UpstreamProtocolMode.Http2 when !tunneling.UsePost
                => $"cluster '{clusterName}' speaks HTTP/2, and an HTTP/2 CONNECT tunnel is not supported by this gateway: .NET's HTTP/2 client sends ':scheme' and ':path' on a CONNECT, which makes it malformed (RFC 9113 section 8.5) and servers reset it; set 'use_post: true' (the upstream must terminate POST), or give the cluster HTTP/1.1 for an HTTP/1.1 CONNECT",
            Translation.UpstreamProtocolMode.Alpn or Translation.UpstreamProtocolMode.Downstream
                => $"cluster '{clusterName}' chooses its protocol per connection (auto_config or use_downstream_protocol_config), which a tunnel is not supported over by this gateway: give it HTTP/1.1 (CONNECT) or explicit HTTP/2 (with 'use_post: true')",
            _ => null,
        };
        if (problem is not null)
        {
            context.Error(proxy, "tunneling_config", problem);
        }
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
