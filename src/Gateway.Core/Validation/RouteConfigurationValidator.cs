using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Validation;

/// <summary>Checks a <c>RouteConfiguration</c>: virtual host names and domains, then every route.</summary>
internal sealed class RouteConfigurationValidator(ValidationContext context)
{
    private readonly RouteValidator _routes = new(context);
    private readonly RetryPolicyValidator _retryPolicies = new(context);
    private readonly HttpFiltersValidator _filters = new(context);
    private readonly MatcherValidator _matchers = new(context);

    /// <param name="config">The route table.</param>
    /// <param name="validateClustersDefault"><c>validate_clusters</c> when unset: true in place, false for RDS.</param>
    public void Validate(RouteConfiguration config, bool validateClustersDefault = true)
    {
        var outer = context.ValidateClusters;
        context.ValidateClusters = config.ValidateClusters ?? validateClustersDefault;
        try
        {
            ValidateTable(config);
        }
        finally
        {
            context.ValidateClusters = outer;
        }
    }

    private void ValidateTable(RouteConfiguration config)
    {
        // Keyed as VirtualHostSelector keys them (ASCII lower case, as Envoy's LowerCaseString), which relies on this check.
        var domains = new HashSet<string>(StringComparer.Ordinal);
        var vhostNames = new HashSet<string>(StringComparer.Ordinal);
        _filters.ValidatePerFilterConfigs(config.TypedPerFilterConfig, config);
        HeaderParser.ValidateInternalOnly(config, context);
        HeaderParser.Validate(config, "request_headers_to_add", config.RequestHeadersToAdd, "request_headers_to_remove", config.RequestHeadersToRemove, removeMayBeEmpty: true, context);
        HeaderParser.Validate(config, "response_headers_to_add", config.ResponseHeadersToAdd, "response_headers_to_remove", config.ResponseHeadersToRemove, removeMayBeEmpty: true, context);
        _routes.ValidateMirrorPolicies(config.RequestMirrorPolicies);
        foreach (var vhost in config.VirtualHosts)
        {
            _filters.ValidatePerFilterConfigs(vhost.TypedPerFilterConfig, vhost);
            _routes.ValidateMirrorPolicies(vhost.RequestMirrorPolicies);
            HeaderParser.Validate(vhost, "request_headers_to_add", vhost.RequestHeadersToAdd, "request_headers_to_remove", vhost.RequestHeadersToRemove, removeMayBeEmpty: false, context);
            HeaderParser.Validate(vhost, "response_headers_to_add", vhost.ResponseHeadersToAdd, "response_headers_to_remove", vhost.ResponseHeadersToRemove, removeMayBeEmpty: false, context);
            if (string.IsNullOrEmpty(vhost.Name))
            {
                context.Error(vhost, "name", "a virtual host needs a 'name'");
            }
            else if (!vhostNames.Add(vhost.Name))
            {
                context.Error(vhost, "name", $"duplicate virtual host name '{vhost.Name}' in route configuration '{config.Name}'");
            }
            if (vhost.Domains.Count == 0)
            {
                context.Error(vhost, "domains", "a virtual host needs at least one domain");
            }
            foreach (var domain in vhost.Domains)
            {
                if (domain.Length == 0)
                {
                    context.Error(vhost, "domains", "domains may not be empty strings");
                }
                else if (AsciiText.ToLower(domain) is var lowered && !domains.Add(lowered))
                {
                    context.Error(vhost, "domains", $"Only unique values for domains are permitted. Duplicate entry of domain {lowered} in route {config.Name}");
                }
            }
            if (vhost.RetryPolicy is { } retry)
            {
                _retryPolicies.Validate(retry);
            }
            foreach (var virtualCluster in vhost.VirtualClusters)
            {
                ValidateVirtualCluster(virtualCluster);
            }
            foreach (var route in vhost.Routes)
            {
                _filters.ValidatePerFilterConfigs(route.TypedPerFilterConfig, route);
                foreach (var entry in route.Action?.WeightedClusters?.Clusters ?? [])
                {
                    _filters.ValidatePerFilterConfigs(entry.TypedPerFilterConfig, entry);
                }
                _routes.Validate(route, config.MaxDirectResponseBodySizeBytes ?? RouteValidator.DefaultMaxDirectResponseBodySize);
            }
        }
    }

    /// <summary>A <c>VirtualCluster</c>: a name (PGV min_len 1) and at least one header matcher (Envoy's VirtualHostImpl).</summary>
    private void ValidateVirtualCluster(VirtualCluster virtualCluster)
    {
        if (string.IsNullOrEmpty(virtualCluster.Name))
        {
            context.Error(virtualCluster, "name", "a virtual cluster needs a 'name'");
        }
        if (virtualCluster.Headers.Count == 0)
        {
            context.Error(virtualCluster, "headers", "virtual clusters must define 'headers'");
        }
        foreach (var header in virtualCluster.Headers)
        {
            _matchers.ValidateHeaderMatcher(header);
        }
    }
}
