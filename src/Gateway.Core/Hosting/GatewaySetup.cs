using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Translation;

namespace Gateway.Hosting;

/// <summary>
/// The configuration the gateway runs, loaded and translated once, when the application's services first need it
/// (so every HTTP filter registered on the builder is known). A configuration error surfaces as the
/// <see cref="EnvoyConfigException"/> of the load, with every error.
/// </summary>
internal sealed class GatewaySetup
{
    private readonly Lazy<(Bootstrap Bootstrap, GatewayPlan Plan)> _loaded;

    public GatewaySetup(EnvoyGatewayBuilder builder, Func<EnvoyTypeRegistry, Bootstrap> load, bool loadedElsewhere)
    {
        _loaded = new Lazy<(Bootstrap, GatewayPlan)>(() =>
        {
            builder.Freeze();
            var bootstrap = load(builder.Types);
            if (loadedElsewhere)
            {
                // Bound by the caller, perhaps with another registry: every filter must be one registered here.
                var errors = HttpFilterChainValidator.ValidateAll(bootstrap, builder.Types);
                if (errors.Count > 0)
                {
                    throw new EnvoyConfigException([.. errors]);
                }
            }
            return (bootstrap, EnvoyTranslator.Translate(bootstrap, builder.Types));
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public Bootstrap Bootstrap => _loaded.Value.Bootstrap;

    public GatewayPlan Plan => _loaded.Value.Plan;
}
