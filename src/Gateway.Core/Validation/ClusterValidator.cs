using System.Globalization;
using System.Net;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a cluster: name (unique; collected for route references), type and lb policy, endpoints, and its circuit breakers, outlier detection and health checks.</summary>
internal sealed class ClusterValidator(ValidationContext context)
{
    private readonly OutlierDetectionValidator _outlierDetection = new(context);
    private readonly HealthCheckValidator _healthChecks = new(context);
    private readonly TlsContextValidator _tls = new(context);
    private readonly UpstreamProtocolValidator _protocol = new(context);

    public void Validate(Cluster cluster)
    {
        if (string.IsNullOrEmpty(cluster.Name))
        {
            context.Error(cluster, "name", "a cluster needs a 'name'");
            // A route naming a cluster that is not found may mean this one: its error is the one to fix.
            context.ClusterNamesComplete = false;
        }
        else if (!context.ClusterNames.Add(cluster.Name))
        {
            context.Error(cluster, "name", $"duplicate cluster name '{cluster.Name}': cluster names must be unique");
        }
        else
        {
            context.Clusters.Add(cluster.Name, cluster);
        }
        var typeSupported = cluster.Type is not DiscoveryType.OriginalDst;
        // A type that did not bind leaves the default (STATIC): checks that depend on the type would judge the wrong one.
        var typeKnown = !cluster.HasBindingError("type");
        if (!typeSupported)
        {
            context.Error(cluster, "type", $"cluster type {BootstrapValidator.EnumName(cluster.Type)} is not supported by this gateway yet; use STATIC, STRICT_DNS, LOGICAL_DNS or EDS");
        }
        ValidateEds(cluster, typeKnown);
        if (cluster.LoadBalancingPolicy is { } typedPolicy)
        {
            LbPolicyValidation.ValidateTyped(context, cluster, typedPolicy);
        }
        else if (cluster.LbPolicy == LbPolicy.ClusterProvided)
        {
            // The policy belongs to the cluster type (ORIGINAL_DST, cluster_type extensions): when the type is
            // the problem, the type's error says so; changing lb_policy would not make the cluster work.
            if (typeSupported && typeKnown)
            {
                context.Error(cluster, "lb_policy", $"lb_policy CLUSTER_PROVIDED is not valid for cluster type {BootstrapValidator.EnumName(cluster.Type)}: only a cluster type that provides its load balancer (ORIGINAL_DST, a cluster_type extension) allows it, and this gateway supports none yet");
            }
        }
        else if (cluster.LbPolicy == LbPolicy.LoadBalancingPolicyConfig)
        {
            context.Error(cluster, "lb_policy", "cluster: field load_balancing_policy need to be set");
        }
        else if (cluster.LbPolicy is not (LbPolicy.RoundRobin or LbPolicy.LeastRequest or LbPolicy.Random or LbPolicy.RingHash or LbPolicy.Maglev))
        {
            context.Error(cluster, "lb_policy", $"lb_policy {BootstrapValidator.EnumName(cluster.LbPolicy)} is not supported by this gateway yet; use ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH or MAGLEV");
        }
        HashLbValidation.Validate(context, cluster);
        SubsetLbValidation.Validate(context, cluster);
        if (cluster.LeastRequestLbConfig is { } leastRequest)
        {
            if (cluster.LbPolicy != LbPolicy.LeastRequest && cluster.LoadBalancingPolicy is null)
            {
                // Envoy would ignore it; a setting that does nothing is refused here.
                context.Error(cluster, "least_request_lb_config", "'least_request_lb_config' applies only to lb_policy LEAST_REQUEST");
            }
            LbPolicyValidation.ValidateLeastRequest(context, leastRequest, leastRequest.ChoiceCount, leastRequest.ActiveRequestBias, "LeastRequestLbConfigValidationError");
            LbPolicyValidation.ValidateSlowStart(context, leastRequest.SlowStartConfig);
        }
        if (cluster.RoundRobinLbConfig is { } roundRobin)
        {
            if (cluster.LbPolicy != LbPolicy.RoundRobin && cluster.LoadBalancingPolicy is null)
            {
                context.Error(cluster, "round_robin_lb_config", "'round_robin_lb_config' applies only to lb_policy ROUND_ROBIN");
            }
            LbPolicyValidation.ValidateSlowStart(context, roundRobin.SlowStartConfig);
        }
        if (cluster.ConnectTimeout is { } connectTimeout && connectTimeout <= TimeSpan.Zero)
        {
            context.Error(cluster, "connect_timeout", "'connect_timeout' must be greater than 0s");
        }
        if (cluster.DnsRefreshRate is { } refresh && refresh < TimeSpan.FromMilliseconds(1))
        {
            context.Error(cluster, "dns_refresh_rate", "'dns_refresh_rate' must be at least 1ms");
        }

        var hosts = 0;
        if (cluster.LoadAssignment is { } assignment)
        {
            if (assignment.Policy?.OverprovisioningFactor is 0)
            {
                context.Error(assignment.Policy, "overprovisioning_factor", "Proto constraint validation failed (ClusterLoadAssignment_PolicyValidationError.OverprovisioningFactor: value must be greater than 0)");
            }
            if (assignment.Policy is { } policy)
            {
                ValidateDropOverloads(context, policy);
            }
            foreach (var locality in assignment.Endpoints)
            {
                if (locality.LoadBalancingWeight is 0)
                {
                    context.Error(locality, "load_balancing_weight", "Proto constraint validation failed (LocalityLbEndpointsValidationError.LoadBalancingWeight: value must be greater than or equal to 1)");
                }
                if (locality.Priority > 128)
                {
                    context.Error(locality, "priority", "Proto constraint validation failed (LocalityLbEndpointsValidationError.Priority: value must be less than or equal to 128)");
                }
                ulong localityWeight = 0;
                foreach (var lbEndpoint in locality.LbEndpoints)
                {
                    hosts++;
                    if (lbEndpoint.LoadBalancingWeight is { } weight && weight < 1)
                    {
                        context.Error(lbEndpoint, "load_balancing_weight", "Proto constraint validation failed (LbEndpointValidationError.LoadBalancingWeight: value must be greater than or equal to 1)");
                    }
                    localityWeight += lbEndpoint.LoadBalancingWeight ?? 1;
                    if (localityWeight > uint.MaxValue && localityWeight - (lbEndpoint.LoadBalancingWeight ?? 1) <= uint.MaxValue)
                    {
                        // Envoy's upstream_impl check, once per locality at the endpoint that crosses the limit.
                        context.Error(lbEndpoint, "load_balancing_weight", $"The sum of weights of all upstream hosts in a locality exceeds {uint.MaxValue}");
                    }
                    if (lbEndpoint.Endpoint?.Address?.SocketAddress is not { } socket)
                    {
                        if (!ValidationContext.BindingFailed(lbEndpoint.Endpoint, "address") && !ValidationContext.BindingFailed(lbEndpoint.Endpoint?.Address, "socket_address"))
                        {
                            context.Error(lbEndpoint, "endpoint", "an endpoint needs 'address.socket_address'");
                        }
                        continue;
                    }
                    if (string.IsNullOrEmpty(socket.Address))
                    {
                        context.Error(socket, "address", "'address' is required");
                    }
                    else if (cluster.Type is DiscoveryType.Static or DiscoveryType.Eds && typeKnown && !IPAddress.TryParse(socket.Address, out _))
                    {
                        context.Error(socket, "address", $"malformed IP address: {socket.Address} ({BootstrapValidator.EnumName(cluster.Type)} clusters take IP addresses; use STRICT_DNS or LOGICAL_DNS for host names)");
                    }
                    if (socket.Protocol != SocketProtocol.Tcp)
                    {
                        context.Error(socket, "protocol", "only TCP endpoints are supported");
                    }
                    if (socket.PortValue is not { } port || port is 0 or > 65535)
                    {
                        context.Error(socket, "port_value", "'port_value' must be in 1-65535");
                    }
                }
            }
        }
        if (cluster.Type == DiscoveryType.LogicalDns && hosts != 1 && !cluster.HasBindingError("load_assignment") && !ListsIncomplete(cluster.LoadAssignment))
        {
            context.Error(cluster, "load_assignment", "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint");
        }
        if (cluster.CommonLbConfig is { } commonLb)
        {
            ZoneAwareValidation.ValidateCommon(context, cluster, commonLb);
        }
        if (cluster.CommonLbConfig?.HealthyPanicThreshold is { } panic && panic.Value is < 0 or > 100 or double.NaN)
        {
            context.Error(panic, "value", $"'healthy_panic_threshold' must be a percentage in [0, 100], not {panic.Value}");
        }
        if (cluster.CircuitBreakers is { } circuitBreakers)
        {
            ValidateCircuitBreakers(circuitBreakers);
        }
        if (cluster.OutlierDetection is { } outlier)
        {
            _outlierDetection.Validate(outlier);
        }
        for (var i = 0; i < cluster.HealthChecks.Count; i++)
        {
            if (i > 0)
            {
                context.Error(cluster.HealthChecks[i].Location, "only one health check per cluster is supported by this gateway yet");
            }
            _healthChecks.Validate(cluster.HealthChecks[i]);
        }
        foreach (var (name, options) in cluster.TypedExtensionProtocolOptions)
        {
            if (name != HttpProtocolOptions.ExtensionName || options is not HttpProtocolOptions)
            {
                context.Error(cluster, "typed_extension_protocol_options", $"Didn't find a registered network or http filter or protocol options implementation for name: '{name}'");
            }
        }
        _protocol.Validate(cluster);
        if (cluster.TransportSocket is { } transportSocket)
        {
            _tls.ValidateUpstream(transportSocket);
        }
        foreach (var match in cluster.TransportSocketMatches)
        {
            if (match.TransportSocket is { } matchSocket)
            {
                _tls.ValidateUpstream(matchSocket);
            }
            else if (!match.HasBindingError("transport_socket"))
            {
                context.Error(match, "transport_socket", "a transport socket match needs transport_socket");
            }
        }
    }

    private void ValidateCircuitBreakers(CircuitBreakers circuitBreakers)
    {
        foreach (var thresholds in circuitBreakers.Thresholds)
        {
            // Percent's proto constraint (envoy/type/v3/percent.proto): value in [0, 100].
            if (thresholds.RetryBudget?.BudgetPercent is { } budgetPercent && budgetPercent.Value is < 0 or > 100 or double.NaN)
            {
                context.Error(budgetPercent, "value", $"'budget_percent' must be a percentage in [0, 100], not {budgetPercent.Value.ToString(CultureInfo.InvariantCulture)}");
            }
        }
    }

    /// <summary>
    /// <c>drop_overloads</c>: each category named (PGV), and only one category (Envoy's ClusterImplBase::parseDropOverloadConfig
    /// rejects more).
    /// </summary>
    private static void ValidateDropOverloads(ValidationContext context, ClusterLoadAssignmentPolicy policy)
    {
        foreach (var drop in policy.DropOverloads)
        {
            if (string.IsNullOrEmpty(drop.Category))
            {
                context.Error(drop, "category", "Proto constraint validation failed (ClusterLoadAssignment_Policy_DropOverloadValidationError.Category: value length must be at least 1 characters)");
            }
        }
        if (policy.DropOverloads.Count > 1)
        {
            context.Error(policy, "drop_overloads", $"Cluster drop_overloads config has {policy.DropOverloads.Count} categories. Envoy only supports one.");
        }
    }

    /// <summary>True when an endpoint list lost an element in binding, so counting the hosts would report its absence.</summary>
    /// <summary>
    /// An EDS cluster's source (Envoy's EdsClusterFactory: the config is required) and no endpoints of its own: they
    /// come from EDS (the assignment the configuration manager puts in place is checked like a static cluster's).
    /// </summary>
    private void ValidateEds(Cluster cluster, bool typeKnown)
    {
        if (!typeKnown)
        {
            return;
        }
        if (cluster.Type != DiscoveryType.Eds)
        {
            if (cluster.EdsClusterConfig is not null)
            {
                context.Error(cluster, "eds_cluster_config", $"eds_cluster_config is only used by an EDS cluster, not by a {BootstrapValidator.EnumName(cluster.Type)} one");
            }
            return;
        }
        if (cluster.LoadAssignment is { } assignment && !context.EdsAssignments.Contains(assignment))
        {
            context.Error(cluster, "load_assignment", "an EDS cluster's endpoints come from EDS: remove load_assignment");
        }
        if (cluster.EdsClusterConfig is not { } eds)
        {
            if (!cluster.HasBindingError("eds_cluster_config"))
            {
                context.Error(cluster, "type", "cannot create an EDS cluster without an EDS config");
            }
            return;
        }
        if (eds.EdsConfig is not { } source)
        {
            if (!eds.HasBindingError("eds_config"))
            {
                context.Error(eds, "eds_config", "Missing config source specifier in envoy::config::core::v3::ConfigSource");
            }
            return;
        }
        ConfigSourceValidator.Validate(context, source, "eds_config");
    }

    private static bool ListsIncomplete(ClusterLoadAssignment? assignment)
    {
        if (assignment is null)
        {
            return false;
        }
        if (assignment.HasBindingError("endpoints"))
        {
            return true;
        }
        foreach (var locality in assignment.Endpoints)
        {
            if (locality.HasBindingError("lb_endpoints"))
            {
                return true;
            }
        }
        return false;
    }
}
