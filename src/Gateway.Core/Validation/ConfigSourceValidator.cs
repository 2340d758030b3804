using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// A <c>ConfigSource</c> (SDS, CDS, LDS, RDS, EDS): a file (Envoy's checkFilesystemSubscriptionBackingPath: it must exist
/// when the configuration is loaded, and a watched directory too), the ADS stream (<c>ads: {}</c>, which needs the
/// bootstrap's <c>ads_config</c>), or a gRPC stream of its own (<c>api_config_source</c>, Envoy's
/// checkApiConfigSourceSubscriptionBackingCluster: one gRPC service whose cluster is one of the bootstrap's static,
/// non-EDS clusters).
/// </summary>
internal static class ConfigSourceValidator
{
    /// <summary>True when <paramref name="source"/> is usable; otherwise the errors are reported.</summary>
    /// <param name="what">The field naming the source, for Envoy's messages (<c>sds_config</c>, <c>cds_config</c>, ...).</param>
    /// <param name="mustExist">Whether a file must exist now (not for SDS, whose file is read as the secret is validated).</param>
    public static bool Validate(ValidationContext context, EnvoyConfigSource source, string what, bool mustExist = true)
    {
        if (source.HasBindingErrors)
        {
            // A field the binder refused (self, authorities) already said why.
            return false;
        }
        var specifiers = (source.Path is null ? 0 : 1) + (source.PathConfigSource is null ? 0 : 1) + (source.ApiConfigSource is null ? 0 : 1) + (source.Ads is null ? 0 : 1);
        if (specifiers > 1)
        {
            context.Error(source, $"{what} takes only one of path, path_config_source, api_config_source and ads (the config_source_specifier one-of)");
            return false;
        }
        if (source.ResourceApiVersion == ApiVersion.V2)
        {
            context.Error(source, "resource_api_version", $"V2 (and AUTO) xDS transport protocol versions are deprecated in {what}.");
            return false;
        }
        if (source.InitialFetchTimeout < TimeSpan.Zero)
        {
            context.Error(source, "initial_fetch_timeout", "Proto constraint validation failed (ConfigSourceValidationError.InitialFetchTimeout: value must be greater than or equal to 0s)");
            return false;
        }
        if (source.Ads is not null)
        {
            if (context.AdsConfig is null)
            {
                context.Error(source, "ads", $"{what} uses ADS ('ads: {{}}'), but the bootstrap has no dynamic_resources.ads_config");
                return false;
            }
            return true;
        }
        if (source.ApiConfigSource is { } api)
        {
            return ValidateApi(context, api, what, aggregated: false);
        }
        return ValidateFile(context, source, what, mustExist);
    }

    /// <summary><c>dynamic_resources.ads_config</c>: a gRPC stream (GRPC and AGGREGATED_GRPC are the same here: state of the world; DELTA_GRPC and AGGREGATED_DELTA_GRPC: incremental).</summary>
    public static bool ValidateAds(ValidationContext context, ApiConfigSource ads) => ValidateApi(context, ads, "ads_config", aggregated: true);

    private static bool ValidateApi(ValidationContext context, ApiConfigSource api, string what, bool aggregated)
    {
        if (api.HasBindingErrors)
        {
            return false;
        }
        switch (api.ApiType)
        {
            case ApiType.DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE:
                context.Error(api, "api_type", "Proto constraint validation failed (ApiConfigSourceValidationError.ApiType: value must be one of the defined enum values other than DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE)");
                return false;
            case ApiType.REST:
                context.Error(api, "api_type", $"{what}: REST polling is not supported by this gateway (use GRPC or DELTA_GRPC)");
                return false;
            case ApiType.AGGREGATED_GRPC or ApiType.AGGREGATED_DELTA_GRPC when !aggregated:
                context.Error(api, "api_type", $"{what}: {api.ApiType} is the ADS stream's type: set it in dynamic_resources.ads_config and use 'ads: {{}}' here");
                return false;
        }
        if (api.TransportApiVersion == ApiVersion.V2)
        {
            context.Error(api, "transport_api_version", $"V2 (and AUTO) xDS transport protocol versions are deprecated in {what}.");
            return false;
        }
        var kind = api.ApiType is ApiType.DELTA_GRPC or ApiType.AGGREGATED_DELTA_GRPC ? "DELTA_GRPC" : "GRPC";
        if (api.ClusterNames.Count > 0)
        {
            context.Error(api, "cluster_names", $"{what}::{kind} must not have a cluster name specified: {string.Join(",", api.ClusterNames)}");
            return false;
        }
        if (api.GrpcServices.Count != 1)
        {
            context.Error(api, "grpc_services", $"{what}::{kind} must have a single gRPC service specified");
            return false;
        }
        if (api.RateLimitSettings is { FillRate: { } fillRate } && !(fillRate > 0))
        {
            context.Error(api.RateLimitSettings, "fill_rate", "Proto constraint validation failed (RateLimitSettingsValidationError.FillRate: value must be greater than 0)");
            return false;
        }
        var service = api.GrpcServices[0];
        if (service.HasBindingErrors)
        {
            return false;
        }
        if (service.Timeout < TimeSpan.Zero)
        {
            context.Error(service, "timeout", "'timeout' must not be negative");
            return false;
        }
        var errors = context.Errors.Count;
        HeaderNames.Validate(service.InitialMetadata, context);
        foreach (var header in service.InitialMetadata)
        {
            if (header.Key?.EndsWith("-bin", StringComparison.OrdinalIgnoreCase) == true)
            {
                context.Error(header, "key", $"'{header.Key}': binary metadata is not supported by this gateway's xDS client");
            }
        }
        if (context.Errors.Count > errors)
        {
            return false;
        }
        if (service.EnvoyGrpc is not null && service.GoogleGrpc is not null)
        {
            context.Error(service, "a gRPC service takes only one of envoy_grpc and google_grpc (the target_specifier one-of)");
            return false;
        }
        if (service.EnvoyGrpc is { } envoyGrpc)
        {
            var name = envoyGrpc.ClusterName ?? string.Empty;
            if (name.Length == 0)
            {
                context.Error(envoyGrpc, "cluster_name", "Proto constraint validation failed (EnvoyGrpcValidationError.ClusterName: value length must be at least 1 characters)");
                return false;
            }
            Cluster? cluster = null;
            foreach (var candidate in context.BootstrapClusters)
            {
                if (string.Equals(candidate.Name, name, StringComparison.Ordinal))
                {
                    cluster = candidate;
                    break;
                }
            }
            if (cluster is null || cluster.Type == DiscoveryType.Eds)
            {
                context.Error(envoyGrpc, "cluster_name", $"{what} must have a statically defined non-EDS cluster: '{name}' does not exist, was added via api, or is an EDS cluster");
                return false;
            }
            if (cluster.TransportSocket?.TypedConfig is UpstreamTlsContext { CommonTlsContext: { } common } && UsesSds(common))
            {
                context.Error(envoyGrpc, "cluster_name", $"{what}: the xDS cluster '{name}' takes secrets from SDS: its stream reads its TLS context once, so give it static secrets or inline files");
                return false;
            }
            if (cluster.TransportSocketMatches.Count > 0)
            {
                context.Error(envoyGrpc, "cluster_name", $"{what}: the xDS cluster '{name}' has transport_socket_matches, which its stream does not follow: use transport_socket");
                return false;
            }
            return true;
        }
        if (service.GoogleGrpc is { } google)
        {
            if (string.IsNullOrEmpty(google.TargetUri))
            {
                context.Error(google, "target_uri", "Proto constraint validation failed (GoogleGrpcValidationError.TargetUri: value length must be at least 1 characters)");
                return false;
            }
            if (string.IsNullOrEmpty(google.StatPrefix))
            {
                context.Error(google, "stat_prefix", "Proto constraint validation failed (GoogleGrpcValidationError.StatPrefix: value length must be at least 1 characters)");
                return false;
            }
            if (!GrpcTarget.TryParse(google.TargetUri, out _))
            {
                context.Error(google, "target_uri", $"'{google.TargetUri}' is not a host:port target (or an http:// address) this gateway can reach");
                return false;
            }
            return true;
        }
        context.Error(service, "Proto constraint validation failed (GrpcServiceValidationError.TargetSpecifier: value is required)");
        return false;
    }

    private static bool UsesSds(CommonTlsContext common)
    {
        foreach (var secret in common.TlsCertificateSdsSecretConfigs)
        {
            if (secret.SdsConfig is not null)
            {
                return true;
            }
        }
        return common.ValidationContextSdsSecretConfig?.SdsConfig is not null || common.CombinedValidationContext?.ValidationContextSdsSecretConfig?.SdsConfig is not null;
    }

    /// <summary>A source that must be a file (SDS for now): a gRPC one is refused by its field.</summary>
    public static bool ValidateFileOnly(ValidationContext context, EnvoyConfigSource source, string what, bool mustExist)
    {
        if (source.HasBindingErrors)
        {
            return false;
        }
        if (source.Ads is not null || source.ApiConfigSource is not null)
        {
            context.Error(source, source.Ads is not null ? "ads" : "api_config_source", $"{what} over gRPC is not supported by this gateway yet: use path_config_source");
            return false;
        }
        return ValidateFile(context, source, what, mustExist);
    }

    private static bool ValidateFile(ValidationContext context, EnvoyConfigSource source, string what, bool mustExist)
    {
        var path = DiscoveryFile.PathOf(source);
        if (source.PathConfigSource is { } pathSource && string.IsNullOrEmpty(pathSource.Path))
        {
            context.Error(pathSource, "path", "Proto constraint validation failed (PathConfigSourceValidationError.Path: value length must be at least 1 characters)");
            return false;
        }
        if (string.IsNullOrEmpty(path))
        {
            context.Error(source, $"Proto constraint validation failed (ConfigSourceValidationError.ConfigSourceSpecifier: value is required): {what} needs path_config_source, api_config_source or ads");
            return false;
        }
        if (source.PathConfigSource?.WatchedDirectory is { } watched)
        {
            if (string.IsNullOrEmpty(watched.Path))
            {
                context.Error(watched, "path", "Proto constraint validation failed (WatchedDirectoryValidationError.Path: value length must be at least 1 characters)");
                return false;
            }
            if (!Directory.Exists(watched.Path))
            {
                context.Error(watched, "path", $"Invalid path: {watched.Path}");
                return false;
            }
        }
        if (mustExist && !File.Exists(path) && !Directory.Exists(path))
        {
            context.Error(source, source.PathConfigSource is null ? "path" : "path_config_source", $"paths must refer to an existing path in the system: '{path}' does not exist");
            return false;
        }
        return true;
    }
}
