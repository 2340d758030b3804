using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks what the binder cannot: required fields, one-ofs, ranges, references between resources,
/// duplicates and port clashes. Every problem is collected; nothing stops at the first. The checks live
/// in one validator per area (<see cref="ClusterValidator"/>, <see cref="ListenerValidator"/>,
/// <see cref="HttpConnectionManagerValidator"/>, <see cref="RouteConfigurationValidator"/>, ...) sharing a
/// <see cref="ValidationContext"/>; this is the entry point.
/// </summary>
public static class BootstrapValidator
{
    /// <summary>Network filter names of the HTTP connection manager (current and pre-1.14 spellings).</summary>
    public static readonly IReadOnlySet<string> HttpConnectionManagerNames =
        new HashSet<string>(StringComparer.Ordinal) { "envoy.filters.network.http_connection_manager", "envoy.http_connection_manager" };

    /// <summary>Returns every error in the bootstrap, in document order; empty when it is usable.</summary>
    public static IReadOnlyList<ConfigError> Validate(Bootstrap bootstrap) => Validate(bootstrap, EnvoyTypeRegistry.CreateDefault());


    /// <summary>Returns every error in the bootstrap, in document order; empty when it is usable.</summary>
    /// <param name="bootstrap">The bound configuration.</param>
    /// <param name="types">The registry it was bound with (extensions are validated through it).</param>
    public static IReadOnlyList<ConfigError> Validate(Bootstrap bootstrap, EnvoyTypeRegistry types)
    {
        var context = Run(bootstrap, types);
        // Report in document order, whichever check found the problem.
        return context.Errors
            .OrderBy(e => e.Location.Source, StringComparer.Ordinal)
            .ThenBy(e => e.Location.Line)
            .ThenBy(e => e.Location.Column)
            .ToArray();
    }

    /// <summary>Adds the bootstrap's errors to the load's error list (which orders them with the binding errors).</summary>
    internal static void Validate(Bootstrap bootstrap, EnvoyTypeRegistry types, ConfigErrorList errors)
        => errors.AddRange(Run(bootstrap, types).Errors);

    /// <summary>
    /// Checks a configuration the configuration manager composed from the bootstrap and what xDS gave: EDS's assignments
    /// stand on copies of their clusters (<paramref name="edsAssignments"/> marks them as EDS's), and RDS's route tables
    /// are checked as RDS tables (<c>validate_clusters</c> false unless they set it), against every cluster.
    /// </summary>
    internal static List<ConfigError> ValidateComposed(Bootstrap composed, EnvoyTypeRegistry types, IEnumerable<ClusterLoadAssignment> edsAssignments, IEnumerable<RouteConfiguration> rdsRoutes, IReadOnlyList<Cluster> bootstrapClusters,
        ApiConfigSource? adsConfig)
    {
        var context = Run(composed, types, context =>
        {
            context.BootstrapClusters = bootstrapClusters;
            context.AdsConfig = adsConfig;
            foreach (var assignment in edsAssignments)
            {
                context.EdsAssignments.Add(assignment);
            }
        }, context =>
        {
            var routes = new RouteConfigurationValidator(context);
            foreach (var routeConfig in rdsRoutes)
            {
                routes.Validate(routeConfig, validateClustersDefault: false);
            }
        });
        return context.Errors;
    }

    private static ValidationContext Run(Bootstrap bootstrap, EnvoyTypeRegistry types, Action<ValidationContext>? before = null, Action<ValidationContext>? after = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        ArgumentNullException.ThrowIfNull(types);
        var context = new ValidationContext(types);
        before?.Invoke(context);

        if (bootstrap.Admin is { } admin)
        {
            new AdminValidator(context).Validate(admin);
        }
        context.AdsConfig ??= bootstrap.DynamicResources?.AdsConfig;
        if (context.BootstrapClusters.Count == 0)
        {
            context.BootstrapClusters = bootstrap.StaticResources?.Clusters ?? [];
        }
        if (bootstrap.DynamicResources is { } dynamic)
        {
            if (dynamic.AdsConfig is { } ads)
            {
                ConfigSourceValidator.ValidateAds(context, ads);
            }
            if (dynamic.LdsConfig is { } lds)
            {
                ConfigSourceValidator.Validate(context, lds, "lds_config");
            }
            if (dynamic.CdsConfig is { } cds)
            {
                ConfigSourceValidator.Validate(context, cds, "cds_config");
            }
        }
        if (bootstrap.StaticResources is { } resources)
        {
            // Secrets first: TLS contexts refer to them by name; then clusters, which routes refer to.
            context.Secrets = Tls.TlsSecrets.From(resources, types);
            new TlsContextValidator(context).ValidateSecrets(resources.Secrets);
            var clusters = new ClusterValidator(context);
            context.ClusterNamesComplete = !resources.HasBindingError("clusters");
            foreach (var cluster in resources.Clusters)
            {
                clusters.Validate(cluster);
            }
            var listeners = new ListenerValidator(context);
            foreach (var listener in resources.Listeners)
            {
                listeners.Validate(listener);
            }
        }
        ZoneAwareValidation.ValidateLocalCluster(context, bootstrap);
        if (bootstrap.Tracing is { } tracing)
        {
            // After the clusters: a tracer's collector cluster is checked against their names.
            new TracingValidator(context).Validate(tracing);
        }
        after?.Invoke(context);
        return context;
    }

    internal static string MessageSchemaName(EnvoyMessage message) => MessageSchema.For(message.GetType()).FullName;

    internal static string EnumName<T>(T value) where T : struct, Enum => EnvoyNames.ToSnakeCase(value.ToString()).ToUpperInvariant();
}
