using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Hosting;

/// <summary>
/// The bootstrap the gateway runs, loaded once, when the application's services first need it (so every HTTP filter
/// registered on the builder is known). A configuration error surfaces as the <see cref="EnvoyConfigException"/> of
/// the load, with every error. The <see cref="ConfigManager"/> adds what xDS gives and translates.
/// </summary>
internal sealed class GatewaySetup
{
    private readonly Lazy<Bootstrap> _loaded;

    public GatewaySetup(EnvoyGatewayBuilder builder)
    {
        Types = builder.Types;
        _loaded = new Lazy<Bootstrap>(() =>
        {
            var (bootstrap, loadedElsewhere) = builder.Load();
            builder.Freeze();
            if (loadedElsewhere)
            {
                // Bound by the caller, perhaps with another registry: every filter must be one registered here.
                var errors = HttpFilterChainValidator.ValidateAll(bootstrap, builder.Types);
                if (errors.Count > 0)
                {
                    throw new EnvoyConfigException([.. errors]);
                }
            }
            return bootstrap;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The types and HTTP filters the configuration is read with.</summary>
    public EnvoyTypeRegistry Types { get; }

    public Bootstrap Bootstrap => _loaded.Value;
}
