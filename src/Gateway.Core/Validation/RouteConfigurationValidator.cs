using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Validation;

/// <summary>Checks a <c>RouteConfiguration</c>: virtual host names and domains, then every route.</summary>
internal sealed class RouteConfigurationValidator(ValidationContext context)
{
    private readonly RouteValidator _routes = new(context);
    private readonly RetryPolicyValidator _retryPolicies = new(context);
    private readonly HttpFiltersValidator _filters = new(context);

    public void Validate(RouteConfiguration config)
    {
        // Keyed as VirtualHostSelector keys them (ASCII lower case, as Envoy's LowerCaseString), which relies on this check.
        var domains = new HashSet<string>(StringComparer.Ordinal);
        var vhostNames = new HashSet<string>(StringComparer.Ordinal);
        _filters.ValidatePerFilterConfigs(config.TypedPerFilterConfig, config);
        foreach (var vhost in config.VirtualHosts)
        {
            _filters.ValidatePerFilterConfigs(vhost.TypedPerFilterConfig, vhost);
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
            foreach (var route in vhost.Routes)
            {
                _filters.ValidatePerFilterConfigs(route.TypedPerFilterConfig, route);
                _routes.Validate(route, config.MaxDirectResponseBodySizeBytes ?? RouteValidator.DefaultMaxDirectResponseBodySize);
            }
        }
    }
}
