namespace Gateway.Configuration;

/// <summary>
/// A file-based xDS subscription's file: a YAML or JSON <c>DiscoveryResponse</c>, read with the configuration loader's
/// binder (strict, every error with file:line:col). Envoy's FilesystemSubscriptionImpl::refreshInternal.
/// </summary>
internal static class DiscoveryFile
{
    /// <summary>The file a source reads (<c>path_config_source.path</c> or the deprecated <c>path</c>).</summary>
    public static string? PathOf(EnvoyConfigSource source) => source.PathConfigSource?.Path ?? source.Path;

    /// <summary>The directory whose moves trigger a reload: <c>watched_directory</c>, else the file's own directory.</summary>
    public static string DirectoryOf(EnvoyConfigSource source)
        => Path.TrimEndingDirectorySeparator(Path.GetFullPath(source.PathConfigSource?.WatchedDirectory?.Path is { Length: > 0 } watched
            ? watched : Path.GetDirectoryName(Path.GetFullPath(PathOf(source)!))!));

    /// <summary>True when any move into <see cref="DirectoryOf"/> reloads the file (<c>watched_directory</c>), not only a move onto it.</summary>
    public static bool WatchesWholeDirectory(EnvoyConfigSource source) => source.PathConfigSource?.WatchedDirectory?.Path is { Length: > 0 };

    /// <summary>
    /// Reads <paramref name="path"/>. <see cref="DiscoveryFileContent.Response"/> is null, with the errors, when the file
    /// cannot be used; <see cref="DiscoveryFileContent.Parsed"/> tells a file that was read as YAML but did not bind
    /// (Envoy's <c>update_rejected</c>: unknown fields, bad values) from one that could not be read at all
    /// (<c>update_failure</c>: missing, not YAML or JSON).
    /// </summary>
    public static DiscoveryFileContent Read(string path, EnvoyTypeRegistry types)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // Envoy's file read error.
            return new DiscoveryFileContent(null, [new ConfigError(SourceLocation.None, $"Invalid path: {path}")], false);
        }
        var errors = new ConfigErrorList([path]);
        var root = ConfigTreeReader.Read(text, path, errors);
        var response = new DiscoveryResponse();
        if (root is not null)
        {
            new ConfigBinder(path, types, errors).BindRoot(root, response);
        }
        if (errors.Count > 0)
        {
            return new DiscoveryFileContent(null, errors.ToException().Errors, root is not null);
        }
        return new DiscoveryFileContent(response, [], true);
    }
}

/// <summary>What reading a subscription's file gave: the response (null when unusable), why not, and whether it parsed.</summary>
internal readonly record struct DiscoveryFileContent(DiscoveryResponse? Response, IReadOnlyList<ConfigError> Errors, bool Parsed);
