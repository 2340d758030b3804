using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// Envoy's file-based SDS subscription: a YAML or JSON <c>DiscoveryResponse</c> holding exactly the named
/// <c>Secret</c>, read with the configuration loader (strict, every error with file:line:col). Used when the
/// configuration is loaded and again on each reload of the file.
/// </summary>
internal static class SdsFile
{
    /// <summary>
    /// Reads the secret <paramref name="name"/> from <paramref name="path"/>; its <c>Secret</c> is null, with the errors,
    /// when it cannot be used. <see cref="SdsFileContent.Parsed"/> tells a file that was read as a DiscoveryResponse
    /// (then refused: Envoy's <c>update_rejected</c>) from one that was not (missing, not YAML: <c>update_failure</c>).
    /// </summary>
    public static SdsFileContent Read(string path, string name, EnvoyTypeRegistry types, List<ConfigError> errors)
    {
        var file = DiscoveryFile.Read(path, types);
        if (file.Response is not { } response)
        {
            errors.AddRange(file.Errors);
            return new SdsFileContent(null, null, file.Parsed);
        }
        var rejected = new SdsFileContent(null, response.VersionInfo, true);
        // Envoy's SdsApi::validateUpdateSize and the name check of onConfigUpdate.
        if (response.Resources.Count != 1)
        {
            errors.Add(new ConfigError(response.Location, $"Unexpected SDS secrets length: {response.Resources.Count}"));
            return rejected;
        }
        if (response.Resources[0] is not Secret secret)
        {
            errors.Add(new ConfigError(response.Location, $"Unexpected SDS resource type: {Validation.BootstrapValidator.MessageSchemaName(response.Resources[0])}"));
            return rejected;
        }
        if (!string.Equals(secret.Name, name, StringComparison.Ordinal))
        {
            errors.Add(new ConfigError(secret.Location, $"Unexpected SDS secret (expecting {name}): {secret.Name}"));
            return rejected;
        }
        return new SdsFileContent(secret, response.VersionInfo, true);
    }
}

/// <summary>What reading an SDS file gave: the secret (null when refused), the response's <c>version_info</c>, and whether it parsed.</summary>
internal readonly record struct SdsFileContent(Secret? Secret, string? VersionInfo, bool Parsed);
