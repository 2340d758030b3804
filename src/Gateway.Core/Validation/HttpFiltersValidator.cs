using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Validation;

/// <summary>
/// Checks an HTTP connection manager's <c>http_filters</c> and the route table's <c>typed_per_filter_config</c>
/// through the registered filter factories (<see cref="HttpFilterChainValidator"/>, which the translator resolves
/// with too). A filter whose <c>typed_config</c> the binder refused is not reported again.
/// </summary>
internal sealed class HttpFiltersValidator(ValidationContext context)
{
    public void Validate(HttpConnectionManager hcm)
        => HttpFilterChainValidator.ValidateChain(hcm, context.Types, context.Errors.Add);

    /// <summary>One level's <c>typed_per_filter_config</c> (route configuration, virtual host or route).</summary>
    public void ValidatePerFilterConfigs(Dictionary<string, EnvoyMessage> configs, EnvoyMessage owner)
    {
        if (configs.Count > 0 && !owner.HasBindingError("typed_per_filter_config"))
        {
            HttpFilterChainValidator.ValidatePerFilterConfigs(configs, owner, context.Types, context.Errors.Add);
        }
    }
}
