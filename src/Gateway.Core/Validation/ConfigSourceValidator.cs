using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// A <c>ConfigSource</c> of a file-based subscription (SDS, CDS, LDS, RDS, EDS): the one-of set, the v3 API, the file
/// (Envoy's checkFilesystemSubscriptionBackingPath: it must exist when the configuration is loaded) and a watched
/// directory that exists. gRPC sources fail at binding (api_config_source, ads are not supported yet).
/// </summary>
internal static class ConfigSourceValidator
{
    /// <summary>True when <paramref name="source"/> is a usable file source; otherwise the errors are reported.</summary>
    /// <param name="what">The field naming the source, for Envoy's messages (<c>sds_config</c>, <c>cds_config</c>, ...).</param>
    /// <param name="mustExist">Whether the file itself must exist now (not for SDS, whose file is read as the secret is validated).</param>
    public static bool ValidateFile(ValidationContext context, EnvoyConfigSource source, string what, bool mustExist = true)
    {
        if (source.HasBindingErrors)
        {
            // A field the binder refused (api_config_source, ads) already said why.
            return false;
        }
        if (source.ResourceApiVersion == ApiVersion.V2)
        {
            context.Error(source, "resource_api_version", $"V2 (and AUTO) xDS transport protocol versions are deprecated in {what}.");
            return false;
        }
        var path = Xds.DiscoveryFile.PathOf(source);
        if (source.PathConfigSource is { } pathSource && string.IsNullOrEmpty(pathSource.Path))
        {
            context.Error(pathSource, "path", "Proto constraint validation failed (PathConfigSourceValidationError.Path: value length must be at least 1 characters)");
            return false;
        }
        if (string.IsNullOrEmpty(path))
        {
            context.Error(source, $"Proto constraint validation failed (ConfigSourceValidationError.ConfigSourceSpecifier: value is required): {what} needs path_config_source (gRPC sources are not supported yet)");
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
