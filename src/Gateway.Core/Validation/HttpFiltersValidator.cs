using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks an HTTP connection manager's <c>http_filters</c>: every filter known (or <c>is_optional</c>), the router
/// last. One method on purpose: this is where the filter factories' own validators plug in.
/// </summary>
internal sealed class HttpFiltersValidator(ValidationContext context)
{
    public void Validate(HttpConnectionManager hcm)
    {
        // An empty http_filters is valid in Envoy (requests then wait for the stream idle timeout); a
        // non-empty one must end with the router.
        for (var i = 0; i < hcm.HttpFilters.Count; i++)
        {
            var filter = hcm.HttpFilters[i];
            var isRouter = BootstrapValidator.IsRouter(filter);
            if (string.IsNullOrEmpty(filter.Name))
            {
                context.Error(filter, "an HTTP filter needs a 'name'");
            }
            else if (!isRouter && filter.TypedConfig is RouterFilterConfig)
            {
                // Envoy looks extensions up by type URL, whatever the name says.
                isRouter = true;
            }
            else if (!isRouter && filter.TypedConfig is not null)
            {
                context.Error(filter, "typed_config", $"{BootstrapValidator.MessageSchemaName(filter.TypedConfig)} is not an HTTP filter");
                continue;
            }
            else if (!isRouter && filter.HasBindingError("typed_config"))
            {
                // The binder named the problem (an unknown @type, a typed_config that is not a mapping).
                continue;
            }
            else if (!isRouter && !filter.IsOptional)
            {
                context.Error(filter, "name", $"HTTP filter '{filter.Name}' is not supported by this gateway yet (mark it is_optional: true to skip it)");
                continue;
            }

            var isLast = i == hcm.HttpFilters.Count - 1;
            if (isRouter && !isLast)
            {
                context.Error(filter, "name", $"terminal filter named {filter.Name} of type envoy.filters.http.router must be the last filter in a http filter chain");
            }
            if (!isRouter && isLast)
            {
                context.Error(filter, "name", $"non-terminal filter named {filter.Name} is the last filter in a http filter chain; the router (envoy.filters.http.router) must be last");
            }
        }
    }
}
